import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_EMBEDDING_DIMENSIONS } from "../src/config.js";
import type { Context } from "../src/context.js";
import { type DatabaseHandle, openDatabase } from "../src/db/client.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { createLogger } from "../src/log.js";
import { createLocalEmbedder } from "../src/memory/embed/local.js";
import { openLanceIndex } from "../src/memory/index/lance.js";

/** A throwaway context on disk: PGlite (the embedded default) unless BENCH_DATABASE_URL names a Postgres. */
export async function benchContext(): Promise<Context & { label: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "precedent-bench-"));
  const url = process.env.BENCH_DATABASE_URL;
  const handle: DatabaseHandle = await openDatabase(
    url ? { kind: "postgres", url } : { kind: "pglite", dataDir: join(dir, "pg") },
  );
  await migrateDatabase(handle);
  if (url) {
    const { sql } = await import("drizzle-orm");
    await handle.db.execute(sql`truncate banks, memories, index_state cascade`);
  }
  const embedder = createLocalEmbedder(LOCAL_EMBEDDING_DIMENSIONS);
  const index = await openLanceIndex({ uri: join(dir, "lance"), dimensions: embedder.dimensions });
  return {
    label: url ? "postgres" : "pglite",
    db: handle.db,
    index,
    embedder,
    log: createLogger("warn"),
    async close() {
      await index.close();
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
) {
  const met = target ? (target.op === "≥" ? value >= target.value : value <= target.value) : undefined;
  const targetText = target
    ? `  (target ${target.op} ${target.value} ${unit}: ${met ? "met" : "NOT met"})`
    : "";
  console.log(`${label.padEnd(44)} ${value.toFixed(value >= 100 ? 0 : 2).padStart(9)} ${unit}${targetText}`);
  return { label, value, unit, target, met };
}
