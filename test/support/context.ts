import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { OPERATOR } from "../../src/auth/principal.js";
import { LOCAL_EMBEDDING_DIMENSIONS } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { type Bank, createBank, type NewBank } from "../../src/memory/banks.js";
import type { Embedder } from "../../src/memory/embed/embedder.js";
import { createLocalEmbedder } from "../../src/memory/embed/local.js";
import { importProblems, type ProblemInput } from "../../src/memory/importProblems.js";
import { openLanceIndex } from "../../src/memory/index/lance.js";
import type { MemoryIndex } from "../../src/memory/index/memoryIndex.js";
import { nativeNearest } from "../../src/memory/index/nativeScan.js";
import { openPostgresIndex } from "../../src/memory/index/postgres.js";
import { wordNetAnalyzer } from "../../src/memory/lexical/wordNetAnalyzer.js";
import { checkIndex } from "../../src/memory/reconcile.js";
import { createRecordsCache } from "../../src/memory/recordsCache.js";
import type { CallContext } from "../../src/services.js";
import { createTestDatabase, type TestDatabase, truncateAll } from "./database.js";

/** The search index implementations; the index contract and recall suites run against each. */
export const INDEX_KINDS = ["lance", "postgres"] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

export interface TestContext extends CallContext {
  indexKind: IndexKind;
  lanceDir: string;
  /** where the index keeps the banks' lexicons between processes */
  lexiconDir: string;
  /** reopens the index (for the context's current embedder), as a restarted process would */
  reopenIndex(): Promise<MemoryIndex>;
  close(): Promise<void>;
}

/**
 * A context over a test database, a fresh index and the local embedder. The index is LanceDB in a new temp
 * folder, or with `index: "postgres"` the database's memory_index table, emptied first.
 */
export async function createTestContext(
  database: TestDatabase,
  options: { embedder?: Embedder; annThreshold?: number; index?: IndexKind } = {},
): Promise<TestContext> {
  const lanceDir = mkdtempSync(join(tmpdir(), "precedent-lance-"));
  const lexiconDir = mkdtempSync(join(tmpdir(), "precedent-lexicons-"));
  const embedder = options.embedder ?? createLocalEmbedder(LOCAL_EMBEDDING_DIMENSIONS);
  const indexKind = options.index ?? "lance";
  const db = database.handle.db;
  if (indexKind === "postgres") await db.execute(sql`truncate memory_index, memory_index_banks`);
  const open = (dimensions: number) =>
    indexKind === "postgres"
      ? openPostgresIndex({
          db,
          dimensions,
          hotTierScan: nativeNearest,
          analyzer: wordNetAnalyzer,
          lexiconFiles: lexiconDir,
        })
      : openLanceIndex({
          uri: lanceDir,
          dimensions,
          annThreshold: options.annThreshold,
          // a test that sets the ANN threshold means the table's own search to answer from it
          ...(options.annThreshold === undefined ? {} : { hotTierLimit: 0 }),
          hotTierScan: nativeNearest,
          analyzer: wordNetAnalyzer,
          lexiconFiles: lexiconDir,
        });
  const ctx: TestContext = {
    db,
    index: await open(embedder.dimensions),
    embedder,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    records: createRecordsCache(),
    principal: OPERATOR,
    indexKind,
    lanceDir,
    lexiconDir,
    async reopenIndex() {
      await ctx.index.close();
      ctx.index = await open(ctx.embedder.dimensions);
      return ctx.index;
    },
    async close() {
      await ctx.index.close();
      rmSync(lanceDir, { recursive: true, force: true });
      rmSync(lexiconDir, { recursive: true, force: true });
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
  options: { embedder?: () => Embedder; annThreshold?: number; shared?: boolean; index?: IndexKind } = {},
) {
  let database: TestDatabase | undefined;
  let current: TestContext | undefined;
  const open = async () => {
    current = await createTestContext(database as TestDatabase, {
      embedder: options.embedder?.(),
      annThreshold: options.annThreshold,
      index: options.index,
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
export async function bankWithProblems(
  ctx: CallContext,
  bank: NewBank,
  problems: ProblemInput[],
): Promise<Bank> {
  const created = await createBank({ ctx, input: bank });
  await importProblems({
    ctx,
    input: {
      bankId: created.id,
      source: "import",
      rows: problems.map((value, i) => ({ line: i + 1, value })),
    },
  });
  return created;
}
