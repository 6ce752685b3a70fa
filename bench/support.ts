import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { OPERATOR } from "../src/auth/principal.js";
import { LOCAL_EMBEDDING_DIMENSIONS } from "../src/config.js";
import { type DatabaseHandle, openDatabase } from "../src/db/client.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { createLogger } from "../src/log.js";
import type { Embedder } from "../src/memory/embed/embedder.js";
import { createLocalEmbedder } from "../src/memory/embed/local.js";
import { embedOnThread } from "../src/memory/embed/localThread.js";
import { openLanceIndex } from "../src/memory/index/lance.js";
import type { LexiconView } from "../src/memory/index/memoryIndex.js";
import { nativeNearest } from "../src/memory/index/nativeScan.js";
import { openPostgresIndex } from "../src/memory/index/postgres.js";
import { wordNetAnalyzer } from "../src/memory/lexical/wordNetAnalyzer.js";
import { createRecordsCache } from "../src/memory/recordsCache.js";
import type { CallContext } from "../src/services.js";

/**
 * A throwaway context on disk: PGlite (the embedded default) unless BENCH_DATABASE_URL names a Postgres.
 * Its folder is laid out as a PRECEDENT_HOME (pg/, lance/); with `keep`, close() leaves it for a server to
 * open, and remove() deletes it. `dir` puts it in a folder of the caller's.
 */
export async function benchContext(
  options: { keep?: boolean; dir?: string; index?: "lance" | "postgres"; embedder?: Embedder } = {},
): Promise<CallContext & { label: string; dir: string; close(): Promise<void>; remove(): void }> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "precedent-bench-"));
  const url = process.env.BENCH_DATABASE_URL;
  const handle: DatabaseHandle = await openDatabase(
    url ? { kind: "postgres", url } : { kind: "pglite", dataDir: join(dir, "pg") },
  );
  await migrateDatabase(handle);
  if (url) {
    const { sql } = await import("drizzle-orm");
    await handle.db.execute(
      sql`truncate banks, memories, index_state, memory_index, memory_index_banks cascade`,
    );
  }
  // as the server embeds: large batches on a thread of their own
  const embedder =
    options.embedder ?? createLocalEmbedder(LOCAL_EMBEDDING_DIMENSIONS, { elsewhere: embedOnThread() });
  const index =
    options.index === "postgres"
      ? await openPostgresIndex({
          db: handle.db,
          dimensions: embedder.dimensions,
          hotTierScan: nativeNearest,
          analyzer: wordNetAnalyzer,
        })
      : await openLanceIndex({
          uri: join(dir, "lance"),
          dimensions: embedder.dimensions,
          hotTierScan: nativeNearest,
          analyzer: wordNetAnalyzer,
        });
  return {
    label: url ? "postgres" : "pglite",
    dir,
    db: handle.db,
    index,
    embedder,
    // as the server holds them
    records: createRecordsCache(),
    log: createLogger("warn"),
    principal: OPERATOR,
    async close() {
      await index.close();
      await handle.close();
      if (!options.keep) rmSync(dir, { recursive: true, force: true });
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A full garbage collection now, and a pause for its sweeping to finish, so that a baseline measured in
 * turn with us in the same process does not leave its garbage to be collected in the middle of our
 * timings (nor ours in its): in production no other library shares our heap. Without the pause, the
 * first two queries after each collection paid for the sweeping of a heap holding LangChain's 100k
 * vectors (25–52 ms; p99 at 100k 42 ms, against 16 ms with it).
 */
export async function collectGarbage(): Promise<void> {
  collector ??= (() => {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  })();
  collector();
  await new Promise((resolve) => setTimeout(resolve, SWEEP_PAUSE_MS));
}
const SWEEP_PAUSE_MS = 200;
let collector: (() => void) | undefined;

/** The machine's load averages (1, 5, 15 minutes) and cores, to read every figure beside. */
export function machineLoad(): string {
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(2));
  return `load ${one} ${five} ${fifteen} on ${availableParallelism()} cores`;
}

/** p-th percentile (0..1) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** A line of the report: the figure, and the target next to it when there is one. */
export function report(
  label: string,
  value: number,
  unit: string,
  target?: { op: "≥" | "≤"; value: number },
  digits = value >= 100 ? 0 : 2,
) {
  const met = target ? (target.op === "≥" ? value >= target.value : value <= target.value) : undefined;
  const targetText = target
    ? `  (target ${target.op} ${target.value} ${unit}: ${met ? "met" : "NOT met"})`
    : "";
  console.log(`${label.padEnd(44)} ${value.toFixed(digits).padStart(9)} ${unit}${targetText}`);
  return { label, value, unit, target, met };
}

/** Resolves with the URL a `precedent serve` child prints once it listens. */
export function listening(child: ChildProcess): Promise<string> {
  return new Promise((done, fail) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const url = /listening on (http:\/\/\S+:\d+)/.exec(out)?.[1];
      if (url) done(url);
    });
    child.once("exit", () => fail(new Error(`the server exited before listening:\n${out}`)));
  });
}

/** The questions of a GSM8K split, and every sentence of the train questions (for synthetic banks). */
export function gsm8kText(dataDir: string): { sentences: string[]; testQuestions: string[] } {
  const read = (file: string) =>
    readFileSync(join(dataDir, "gsm8k", file), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).question as string);
  const sentences = read("train.jsonl")
    .flatMap((q) => q.match(/[^.?!]+[.?!]/g) ?? [])
    .map((s) => s.trim());
  return { sentences, testQuestions: read("test.jsonl") };
}

/**
 * The share of an exhaustive lexical search's best `limit` per field (every list walked) that the bounded
 * search recall uses also finds, over the queries: 1 when bounding the walk loses nothing.
 */
export function lexicalAgreement(view: LexiconView, queries: string[], limit = 8): number {
  let found = 0;
  let wanted = 0;
  for (const query of queries) {
    const text = view.analyze(query);
    const bounded = view.lexicon.search(text, limit);
    const exhaustive = view.lexicon.search(text, limit, { exhaustive: true });
    for (const field of ["literal", "structure"] as const) {
      const ids = new Set(bounded[field].map((h) => h.id));
      wanted += exhaustive[field].length;
      found += exhaustive[field].filter((h) => ids.has(h.id)).length;
    }
  }
  return wanted === 0 ? 1 : found / wanted;
}
