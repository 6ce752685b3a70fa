import * as lancedb from "@lancedb/lancedb";
import { type Table as ArrowTable, Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from "apache-arrow";
import type { Analyzer } from "../lexical/analyze.js";
import type { IndexStore, MemoryIndex, VectorHit } from "./memoryIndex.js";
import { withLexicon } from "./withLexicon.js";

export interface LanceIndexOptions {
  uri: string;
  dimensions: number;
  /** Row count from which a bank's table gets an HNSW vector index; below it, search is exact. */
  annThreshold?: number;
  /**
   * How often (seconds) a read checks for commits made by other processes, for replicas that share one
   * location; 0 checks on every read. Unset: only this process's own writes are seen (one writer).
   */
  readConsistencySeconds?: number;
  /** how the banks' lexicons analyze texts (loaded once, on the first search) */
  analyzer: () => Promise<Analyzer>;
  /** where the banks' lexicons are kept between processes (unset: built again by each process) */
  lexiconFiles?: string;
}

// Below this a flat scan is fast enough (a flat scan costs about 1 ms per 1,000 rows of 384 floats);
// above it a bank's table gets an HNSW graph (scalar-quantized), about 3-4 ms whatever the size.
const DEFAULT_ANN_THRESHOLD = 5_000;
// candidates the HNSW search explores, and how many times `limit` of them are re-ranked on the exact
// vectors (the index compares scalar-quantized ones). 20k GSM8K-like memories, 200 queries, recall@10
// against an exact scan: ef 64 0.90 (1.8 ms); ef 128 0.93; ef 256 0.94; ef 64 + refine 2 0.93;
// ef 128 + refine 2 0.975 (2.7 ms).
const HNSW_EF = 128;
const REFINE_FACTOR = 2;
const MAX_HNSW_EF = 1024;
const VECTOR_INDEX = "vector_idx";
// A search visits every segment of the vector index: 5k memories, 2.1 ms with 2 segments, 2.8 ms with 6,
// 4.1 ms with 13. Past this many the index is rebuilt (5k: 1.4 s; 1M: about 30 min on 2 cores).
const MAX_VECTOR_SEGMENTS = 8;
const SEGMENTS_SCALE_ROWS = 200_000;

/**
 * How many segments a bank's vector index may reach before it is rebuilt: 8 up to 200k memories, then in
 * proportion to the size (1M: 40), so the rebuilds' cost per write stays about the same as banks grow.
 */
export function maxVectorSegments(rows: number): number {
  return Math.round(MAX_VECTOR_SEGMENTS * Math.max(1, rows / SEGMENTS_SCALE_ROWS));
}

/**
 * The ef a search of a bank of `rows` memories uses: 128 up to 100k, then growing with log2 of the size.
 * At a fixed ef the graph finds fewer of the true neighbours as it grows (ef 128 + refine 2, recall@10
 * against an exact scan: 0.975 at 20k, 0.954 at 100k, 0.889 at 1M); at 1M, 200 queries: ef 256 0.937
 * (2.8 ms), ef 384 0.955 (3.5 ms), ef 512 0.968 (3.3 ms), ef 640 0.973 (4.2 ms). This rule gives 553 there.
 */
export function hnswEf(rows: number): number {
  return Math.min(MAX_HNSW_EF, Math.round(HNSW_EF * Math.max(1, Math.log2(rows / 50_000))));
}
function tableName(bank: string): string {
  return `bank_${bank}`;
}

/** Reads ids, distances and vectors column by column out of an Arrow result. */
function hitsOf(table: ArrowTable) {
  const ids = table.getChild("id");
  const scores = table.getChild("_distance");
  const vectors = table.getChild("vector");
  const hits: { id: string; score: number; vector: Float32Array }[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const vector = vectors?.get(i) as { toArray(): Float32Array } | null;
    hits.push({
      id: ids?.get(i) as string,
      score: Number(scores?.get(i)),
      // a copy: the Arrow buffer belongs to the result batch
      vector: Float32Array.from(vector?.toArray() ?? []),
    });
  }
  return hits;
}

/** The embedded LanceDB index: one table per bank (rows and vectors), on disk or an object store. */
export async function openLanceIndex(options: LanceIndexOptions): Promise<MemoryIndex> {
  return withLexicon(await openLanceStore(options), {
    analyzer: options.analyzer,
    files: options.lexiconFiles,
  });
}

async function openLanceStore(options: LanceIndexOptions): Promise<IndexStore> {
  const db = await lancedb.connect(
    options.uri,
    options.readConsistencySeconds === undefined
      ? {}
      : { readConsistencyInterval: options.readConsistencySeconds },
  );
  const annThreshold = options.annThreshold ?? DEFAULT_ANN_THRESHOLD;
  const tables = new Map<string, lancedb.Table>();
  // each bank's row count when its table was opened or last optimized: what the search's ef is chosen by
  const sizes = new Map<string, number>();
  const schema = new Schema([
    new Field("id", new Utf8(), false),
    new Field("bank", new Utf8(), false),
    new Field("status", new Utf8(), false),
    new Field("trust", new Int32(), false),
    new Field("text", new Utf8(), false),
    new Field("vector", new FixedSizeList(options.dimensions, new Field("item", new Float32(), true)), false),
  ]);

  // One handle per bank table, the first one opened: every write goes through it, so it sees them all. A
  // second handle opened while the first was being created (a recall racing the indexer's first write)
  // would stay at the version it opened, and never see the rows written through the other.
  function keep(bank: string, table: lancedb.Table): lancedb.Table {
    const kept = tables.get(bank);
    if (kept) return kept;
    tables.set(bank, table);
    return table;
  }

  async function existing(bank: string): Promise<lancedb.Table | undefined> {
    const cached = tables.get(bank);
    if (cached) return cached;
    const names = await db.tableNames();
    if (!names.includes(tableName(bank))) return undefined;
    const table = await db.openTable(tableName(bank));
    if (!tables.has(bank)) sizes.set(bank, await table.countRows());
    return keep(bank, table);
  }

  async function ensure(bank: string): Promise<lancedb.Table> {
    const found = await existing(bank);
    if (found) return found;
    const table = await db.createEmptyTable(tableName(bank), schema, { mode: "create", existOk: true });
    return keep(bank, table);
  }

  async function hasIndexOn(table: lancedb.Table, column: string): Promise<boolean> {
    const indices = await table.listIndices();
    return indices.some((i) => i.columns.includes(column));
  }

  return {
    kind: "lancedb",

    async upsert(bank, rows) {
      if (rows.length === 0) return;
      const table = await ensure(bank);
      const data = rows.map((r) => ({ ...r, vector: Array.from(r.vector) }));
      await table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
    },

    async remove(bank, ids) {
      const table = await existing(bank);
      if (!table || ids.length === 0) return;
      const list = ids.map((id) => `'${id.replaceAll("'", "''")}'`).join(", ");
      await table.delete(`id IN (${list})`);
    },

    async searchVector(bank, vector, limit): Promise<VectorHit[]> {
      const table = await existing(bank);
      if (!table) return [];
      const rows = await table
        .vectorSearch(Array.from(vector))
        .distanceType("cosine")
        // the search hands `limit × refine` candidates to the re-ranking, and LanceDB wants ef at least that
        .ef(Math.max(hnswEf(sizes.get(bank) ?? 0), limit * REFINE_FACTOR))
        .refineFactor(REFINE_FACTOR)
        .limit(limit)
        .select(["id", "vector", "_distance"])
        .toArrow();
      return hitsOf(rows).map((h) => ({ id: h.id, similarity: 1 - h.score, vector: h.vector }));
    },

    async *texts(bank) {
      const table = await existing(bank);
      if (!table) return;
      for await (const batch of table.query().select(["id", "text"])) {
        const ids = batch.getChild("id");
        const texts = batch.getChild("text");
        const out: { id: string; text: string }[] = [];
        for (let i = 0; i < batch.numRows; i++)
          out.push({ id: ids?.get(i) as string, text: texts?.get(i) as string });
        yield out;
      }
    },

    async generation(bank) {
      const table = await existing(bank);
      return table ? table.version() : 0;
    },

    async ids(bank) {
      const table = await existing(bank);
      if (!table) return [];
      const rows = await table.query().select(["id"]).toArray();
      return rows.map((r) => r.id as string);
    },

    async count(bank) {
      const table = await existing(bank);
      return table ? table.countRows() : 0;
    },

    async healthy(bank) {
      try {
        const table = await existing(bank);
        if (!table) return true;
        await table.checkoutLatest();
        await table.countRows();
        await table.query().select(["id"]).limit(1).toArray();
        return true;
      } catch {
        tables.delete(bank);
        return false;
      }
    },

    async drop(bank) {
      tables.delete(bank);
      sizes.delete(bank);
      const names = await db.tableNames();
      if (names.includes(tableName(bank))) await db.dropTable(tableName(bank));
    },

    async ping() {
      await db.tableNames();
    },

    async optimize(bank, options = {}) {
      const table = await existing(bank);
      if (!table) return;
      const rows = await table.countRows();
      sizes.set(bank, rows);
      if (rows === 0) return;
      const hnsw = () => lancedb.Index.hnswSq({ distanceType: "cosine", numPartitions: 1 });
      const vectors = options.vectorIndex !== false;
      if (vectors && rows >= annThreshold && !(await hasIndexOn(table, "vector"))) {
        await table.createIndex("vector", { config: hnsw() });
      }
      // compacts small fragments, folds new rows into the indices and drops superseded versions
      await table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
      if (!vectors) return;
      // each optimize adds the new rows to the vector index as one more segment, and a search visits every
      // segment; past a few the graph is built again whole
      const segments = (await table.indexStats(VECTOR_INDEX))?.numIndices ?? 1;
      if (segments > maxVectorSegments(rows)) {
        await table.createIndex("vector", { config: hnsw(), replace: true });
        await table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
      }
    },

    async close() {
      tables.clear();
      db.close();
    },
  };
}
