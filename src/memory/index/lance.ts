import { isAscii } from "node:buffer";
import { createRequire } from "node:module";
import * as lancedb from "@lancedb/lancedb";
import type * as Arrow from "apache-arrow";
import type { Analyzer } from "../lexical/analyze.js";
import { createHotTier, HOT_TIER_LIMIT, type HotTierChange, type NearestRows } from "./hotTier.js";
import { hnswEf, maxVectorSegments, REFINE_FACTOR, VECTOR_INDEX } from "./lanceAnn.js";
import type { IndexRow, IndexStore, MemoryIndex, VectorHit } from "./memoryIndex.js";
import { withLexicon } from "./withLexicon.js";

// LanceDB is CommonJS and requires apache-arrow's CommonJS build: importing its ES build as well loaded a
// second copy of its 134 modules at every start.
const {
  Table: ArrowTable,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
} = createRequire(import.meta.url)("apache-arrow") as typeof Arrow;

export interface LanceIndexOptions {
  uri: string;
  dimensions: number;
  /** Row count from which a bank's table gets an HNSW vector index; below it, search is exact. */
  annThreshold?: number;
  /**
   * Banks up to this many memories are searched by an exact scan of their vectors held in process (the
   * hot tier, src/memory/index/hotTier.ts; default HOT_TIER_LIMIT), larger ones by the table's own search.
   */
  hotTierLimit?: number;
  /** the hot tier's exact scan (default: in JavaScript) */
  hotTierScan?: NearestRows;
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

// Below this LanceDB's flat scan is fast enough (about 1 ms per 1,000 rows of 384 floats); above it a
// table that LanceDB searches (a bank past the hot tier's limit) gets an HNSW graph (scalar-quantized),
// about 3-4 ms whatever the size.
const DEFAULT_ANN_THRESHOLD = 5_000;
function tableName(bank: string): string {
  return `bank_${bank}`;
}

/** Reads ids, distances and vectors column by column out of an Arrow result. */
/** Row i's vector of an Arrow vector column, copied: the Arrow buffer belongs to the result batch. */
function vectorAt(column: Arrow.Vector | null, i: number): Float32Array {
  const vector = column?.get(i) as { toArray(): Float32Array } | null;
  return Float32Array.from(vector?.toArray() ?? []);
}

function hitsOf(table: Arrow.Table) {
  const ids = table.getChild("id");
  const scores = table.getChild("_distance");
  const vectors = table.getChild("vector");
  const hits: { id: string; score: number; vector: Float32Array }[] = [];
  for (let i = 0; i < table.numRows; i++) {
    hits.push({ id: ids?.get(i) as string, score: Number(scores?.get(i)), vector: vectorAt(vectors, i) });
  }
  return hits;
}

const encoder = new TextEncoder();

/**
 * A Utf8 column's strings. A chunk of ASCII bytes (GSM8K's texts, most texts here) is decoded in one call
 * and cut at its offsets; decoding row by row through Arrow took twice as long as reading the bank's texts
 * (8.8k texts: ~28 ms of a command's start, which reads them all to check its lexicon file).
 */
function stringsOf(column: Arrow.Vector | null): string[] {
  if (!column) return [];
  const out: string[] = [];
  for (const chunk of column.data) {
    const offsets = chunk.valueOffsets;
    // a sliced chunk's offsets are sliced with it: row i of the chunk starts at offsets[i]
    const from = offsets instanceof Int32Array ? (offsets[0] as number) : 0;
    const bytes =
      offsets instanceof Int32Array && chunk.nullCount === 0
        ? Buffer.from(
            chunk.values.buffer,
            chunk.values.byteOffset + from,
            (offsets[chunk.length] as number) - from,
          )
        : undefined;
    if (!bytes || !isAscii(bytes)) {
      for (let i = 0; i < chunk.length; i++) out.push(column.get(out.length) as string);
      continue;
    }
    const text = bytes.toString("latin1");
    for (let i = 0; i < chunk.length; i++) {
      out.push(text.slice((offsets[i] as number) - from, (offsets[i + 1] as number) - from));
    }
  }
  return out;
}

/** Strings as an Arrow Utf8 column's buffers: the bytes end to end and where each one starts. */
function utf8Column(values: string[]) {
  const encoded = values.map((v) => encoder.encode(v));
  const valueOffsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, i) => {
    valueOffsets[i + 1] = (valueOffsets[i] as number) + bytes.length;
  });
  const data = new Uint8Array(valueOffsets[values.length] as number);
  encoded.forEach((bytes, i) => {
    data.set(bytes, valueOffsets[i]);
  });
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets, data });
}

/**
 * Index rows as one Arrow batch of the table's schema, the vectors in one flat buffer: LanceDB's own
 * conversion of row objects (schema inference, a builder per value) cost 1.1 s of the 1.4 s that 8,000
 * rows took to upsert; as a batch they take 0.37 s.
 */
function arrowRows(schema: Arrow.Schema, rows: IndexRow[]): Arrow.Table {
  const vectorType = schema.fields.find((f) => f.name === "vector")
    ?.type as Arrow.FixedSizeList<Arrow.Float32>;
  const flat = new Float32Array(rows.length * vectorType.listSize);
  rows.forEach((r, i) => {
    flat.set(r.vector, i * vectorType.listSize);
  });
  const columns: Record<string, Arrow.Data> = {
    id: utf8Column(rows.map((r) => r.id)),
    bank: utf8Column(rows.map((r) => r.bank)),
    status: utf8Column(rows.map((r) => r.status)),
    trust: makeData({ type: new Int32(), length: rows.length, data: Int32Array.from(rows, (r) => r.trust) }),
    text: utf8Column(rows.map((r) => r.text)),
    vector: makeData({
      type: vectorType,
      length: rows.length,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: flat.length, data: flat }),
    }),
  };
  // in the schema's order of fields, whatever the order above
  const children = schema.fields.map((f) => columns[f.name] as Arrow.Data);
  const struct = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new ArrowTable([new RecordBatch(schema, struct)]);
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
  const hotTierLimit = options.hotTierLimit ?? HOT_TIER_LIMIT;
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

  // banks up to the limit are searched in process (why, measured: src/memory/index/hotTier.ts); the copy
  // follows the table's version, which every search reads
  const hot = createHotTier({
    dimensions: options.dimensions,
    limit: hotTierLimit,
    scan: options.hotTierScan,
    async load(bank) {
      const table = await existing(bank);
      if (!table) return { generation: 0, rows: [] };
      // version first: rows read after it are at least as new, so a stale pairing only causes a re-read
      const generation = await table.version();
      const rows: { id: string; vector: Float32Array }[] = [];
      for await (const batch of table.query().select(["id", "vector"])) {
        const ids = batch.getChild("id");
        const vectors = batch.getChild("vector");
        for (let i = 0; i < batch.numRows; i++)
          rows.push({ id: ids?.get(i) as string, vector: vectorAt(vectors, i) });
      }
      return { generation, rows };
    },
  });
  const inHotTier = (bank: string) => (sizes.get(bank) ?? 0) <= hotTierLimit;

  /** After this process's write: the copy brought along (or dropped), when it is held. */
  async function applyToCopy(bank: string, table: lancedb.Table, change: HotTierChange): Promise<void> {
    if (hot.holds(bank)) hot.applyLocally(bank, await table.version(), change);
  }

  /**
   * Compacts the table and, for a bank LanceDB searches itself (past the hot tier, from annThreshold
   * rows), gives it its HNSW index and rebuilds one grown too segmented: a bank the hot tier serves would
   * only pay for building a graph no search reads (4–5 s for GSM8K at every seed, and a rebuild every 8
   * compactions under write-backs).
   */
  async function compactAndIndex(table: lancedb.Table, rows: number, options: { vectorIndex?: boolean }) {
    const hnsw = () => lancedb.Index.hnswSq({ distanceType: "cosine", numPartitions: 1 });
    const vectors = options.vectorIndex !== false && rows > hotTierLimit;
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
      await table
        .mergeInsert("id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute(arrowRows(schema, rows));
      await applyToCopy(bank, table, { upsert: rows.map((r) => ({ id: r.id, vector: r.vector })) });
    },

    async remove(bank, ids) {
      const table = await existing(bank);
      if (!table || ids.length === 0) return;
      const list = ids.map((id) => `'${id.replaceAll("'", "''")}'`).join(", ");
      await table.delete(`id IN (${list})`);
      await applyToCopy(bank, table, { remove: ids });
    },

    async searchVector(bank, vector, limit): Promise<VectorHit[]> {
      const table = await existing(bank);
      if (!table) return [];
      if (inHotTier(bank)) return hot.search(bank, await table.version(), vector, limit);
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
        const ids = stringsOf(batch.getChild("id"));
        const texts = stringsOf(batch.getChild("text"));
        yield ids.map((id, i) => ({ id, text: texts[i] as string }));
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
        hot.forget(bank);
        return false;
      }
    },

    async drop(bank) {
      tables.delete(bank);
      sizes.delete(bank);
      hot.forget(bank);
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
      // compaction and index building change no row: the copy in the hot tier stays valid (as the lexicon
      // does, src/memory/index/withLexicon.ts, with the same caveat for a replica's write in that moment)
      const before = await table.version();
      try {
        await compactAndIndex(table, rows, options);
      } finally {
        hot.moved(bank, before, await table.version());
      }
    },

    async close() {
      tables.clear();
      hot.clear();
      db.close();
    },
  };
}
