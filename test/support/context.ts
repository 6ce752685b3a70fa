import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { LOCAL_EMBEDDING_DIMENSIONS } from "../../src/config.js";
import type { Context } from "../../src/context.js";
import { createLogger } from "../../src/log.js";
import { type Bank, createBank, type NewBank } from "../../src/memory/banks.js";
import type { Embedder } from "../../src/memory/embed/embedder.js";
import { createLocalEmbedder } from "../../src/memory/embed/local.js";
import { importProblems, type ProblemInput } from "../../src/memory/importProblems.js";
import { openLanceIndex } from "../../src/memory/index/lance.js";
import type { MemoryIndex } from "../../src/memory/index/memoryIndex.js";
import { checkIndex } from "../../src/memory/reconcile.js";
import { createTestDatabase, type TestDatabase, truncateAll } from "./database.js";

export interface TestContext extends Context {
  lanceDir: string;
  /** reopens the index from disk, as a restarted process would */
  reopenIndex(): Promise<MemoryIndex>;
  close(): Promise<void>;
}

/** A context over a test database, a LanceDB index in a fresh temp folder and the local embedder. */
export async function createTestContext(
  database: TestDatabase,
  options: { embedder?: Embedder; annThreshold?: number } = {},
): Promise<TestContext> {
  const lanceDir = mkdtempSync(join(tmpdir(), "precedent-lance-"));
  const embedder = options.embedder ?? createLocalEmbedder(LOCAL_EMBEDDING_DIMENSIONS);
  const open = () =>
    openLanceIndex({ uri: lanceDir, dimensions: embedder.dimensions, annThreshold: options.annThreshold });
  const ctx: TestContext = {
    db: database.handle.db,
    index: await open(),
    embedder,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    lanceDir,
    async reopenIndex() {
      await ctx.index.close();
      ctx.index = await open();
      return ctx.index;
    },
    async close() {
      await ctx.index.close();
      rmSync(lanceDir, { recursive: true, force: true });
    },
  };
  await checkIndex({ ctx });
  return ctx;
}

/**
 * Registers hooks for a test file: one database for the file (PGlite is slow to start). By default it is
 * emptied before each test and each test gets a fresh index folder; with `shared`, the tests of the file
 * build on one context (e.g. a bank seeded once).
 */
export function useTestContext(
  options: { embedder?: () => Embedder; annThreshold?: number; shared?: boolean } = {},
) {
  let database: TestDatabase | undefined;
  let current: TestContext | undefined;
  const open = async () => {
    current = await createTestContext(database as TestDatabase, {
      embedder: options.embedder?.(),
      annThreshold: options.annThreshold,
    });
  };
  const dispose = async () => {
    await current?.close();
    current = undefined;
  };
  beforeAll(async () => {
    database = await createTestDatabase();
    if (options.shared) await open();
  });
  if (!options.shared) {
    beforeEach(async () => {
      await truncateAll((database as TestDatabase).handle);
      await open();
    });
    afterEach(dispose);
  }
  afterAll(async () => {
    await dispose();
    await database?.close();
  });
  return {
    ctx: () => current as TestContext,
    database: () => database as TestDatabase,
  };
}

/** Creates a bank and imports these solved problems into it (records and index), for a test to recall from. */
export async function bankWithProblems(ctx: Context, bank: NewBank, problems: ProblemInput[]): Promise<Bank> {
  const created = await createBank(ctx.db, bank);
  await importProblems({
    ctx,
    bank: created,
    source: "import",
    rows: problems.map((value, i) => ({ line: i + 1, value })),
  });
  return created;
}
