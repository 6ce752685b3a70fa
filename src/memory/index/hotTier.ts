import type { Logger } from "../../log.js";
import { generationLoader } from "./generationLoader.js";
import type { VectorHit } from "./memoryIndex.js";

/**
 * The hot tier: a bank's vectors held in process (one Float32Array matrix per bank) and scanned exactly,
 * kept fresh across replicas by the store's write generation. This process's own writes update the copy
 * in place; a write by anyone else moves the generation on, which every search reads (one indexed row in
 * Postgres), so the copy is read again only after someone else wrote.
 *
 * FIT: banks up to HOT_TIER_LIMIT memories (384 dimensions: 1.5 KiB per memory per process, 73 MB at
 * 50k). The scan in JavaScript takes ~1 ms per 1,000 vectors (7.3 ms at 7.5k); usearch's native SIMD
 * scan (nativeScan.ts, what Node uses) 1.4 ms at 7.5k, against 4.5 ms for LanceDB's own HNSW search of
 * the same optimized table and 16.6 ms once 60 small writes sit in fragments of their own. The first
 * search after a start or another process's write reads the bank (Postgres 0.6 s at 10k, 2.5 s at 50k,
 * 4.4 s at 100k; PGlite 0.6, 3.8, 7.4 s). Past the limit an HNSW graph (LanceDB, pgvector) answers, or,
 * for a store without one (Postgres without pgvector, the Worker), this scan with a warning.
 */
export const HOT_TIER_LIMIT = 50_000;

/** A bank's vectors in process memory: row i is `ids[i]`, at `matrix[i*d .. (i+1)*d)`. */
export interface BankVectors {
  generation: number;
  ids: string[];
  position: Map<string, number>;
  matrix: Float32Array;
  norms: Float32Array;
}

/** What the hot tier reads a bank from: the store's generation, then its rows (in that order). */
export type LoadBank = (
  bank: string,
) => Promise<{ generation: number; rows: { id: string; vector: Float32Array }[] }>;

/** The `limit` rows of an n × d matrix (row norms beside) most cosine-similar to `query`, best first. */
export type NearestRows = (
  matrix: Float32Array,
  norms: Float32Array,
  n: number,
  d: number,
  query: Float32Array,
  limit: number,
) => { row: number; similarity: number }[];

export interface HotTierOptions {
  dimensions: number;
  /** the exact scan (default: `nearest`, in JavaScript; Node passes the native one, nativeScan.ts) */
  scan?: NearestRows;
  load: LoadBank;
  /** the banks' copies, when they must outlive this object (a Worker opens its index per request) */
  banks?: Map<string, BankVectors>;
  /** bank size past which a warning is logged once (default HOT_TIER_LIMIT) */
  limit?: number;
  log?: Logger;
}

/** One change of this process to a bank's rows, to apply to the copy. */
export type HotTierChange = { upsert: { id: string; vector: Float32Array }[] } | { remove: string[] };

/** The hot tier over one store (see above). */
export interface HotTier {
  /** The `limit` rows most cosine-similar to `query`, as of the store's `generation`. */
  search(bank: string, generation: number, query: Float32Array, limit: number): Promise<VectorHit[]>;
  /**
   * After this process's write moved the bank to `generation`: applies it to the copy when nothing else
   * was written in between, else forgets the copy (read again on the next search).
   */
  applyLocally(bank: string, generation: number, change: HotTierChange): void;
  /**
   * The store moved the bank from `from` to `to` without changing its rows (a compaction): a copy held at
   * `from` is as new as `to`.
   */
  moved(bank: string, from: number, to: number): void;
  /** Whether the bank's copy is held now (read on a search). */
  holds(bank: string): boolean;
  forget(bank: string): void;
  clear(): void;
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  return Math.sqrt(s);
}

/**
 * The `limit` rows of an n × d matrix most cosine-similar to `query`, best first: an exact scan (four
 * running sums per row let the CPU overlap the multiply-adds: ~15% faster than one).
 */
export const nearest: NearestRows = (matrix, norms, n, d, query, limit) => {
  const k = Math.min(limit, n);
  if (k <= 0) return [];
  const qn = norm(query) || 1;
  // the k best so far, best first; `floor` is the k-th score once k rows are in
  const rows: number[] = [];
  const scores: number[] = [];
  let floor = Number.NEGATIVE_INFINITY;
  const tail = d - (d % 4);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < tail; j += 4) {
      s0 += (matrix[base + j] as number) * (query[j] as number);
      s1 += (matrix[base + j + 1] as number) * (query[j + 1] as number);
      s2 += (matrix[base + j + 2] as number) * (query[j + 2] as number);
      s3 += (matrix[base + j + 3] as number) * (query[j + 3] as number);
    }
    for (let j = tail; j < d; j++) s0 += (matrix[base + j] as number) * (query[j] as number);
    const rowNorm = norms[i] as number;
    const score = rowNorm === 0 ? 0 : (s0 + s1 + s2 + s3) / (qn * rowNorm);
    if (rows.length === k && score <= floor) continue;
    let at = scores.length;
    while (at > 0 && (scores[at - 1] as number) < score) at--;
    scores.splice(at, 0, score);
    rows.splice(at, 0, i);
    if (rows.length > k) {
      rows.pop();
      scores.pop();
    }
    if (rows.length === k) floor = scores[k - 1] as number;
  }
  return rows.map((row, r) => ({ row, similarity: scores[r] as number }));
};

/** A hot tier over a store that `load`s a bank's rows (see above). */
export function createHotTier(options: HotTierOptions): HotTier {
  const d = options.dimensions;
  const banks = options.banks ?? new Map<string, BankVectors>();
  const limit = options.limit ?? HOT_TIER_LIMIT;
  const scan = options.scan ?? nearest;
  const warnedLarge = new Set<string>();

  async function load(bank: string): Promise<BankVectors> {
    const { generation, rows } = await options.load(bank);
    const vectors: BankVectors = {
      generation,
      ids: [],
      position: new Map(),
      matrix: new Float32Array(Math.max(rows.length, 16) * d),
      norms: new Float32Array(Math.max(rows.length, 16)),
    };
    for (const row of rows) setRow(vectors, row.id, row.vector);
    if (rows.length > limit && !warnedLarge.has(bank)) {
      warnedLarge.add(bank);
      options.log?.warn(
        { bank, memories: rows.length, fitLimit: limit },
        "bank past the size the in-process vector scan is fit for: each search scans every vector; " +
          "consider INDEX=lance or installing pgvector",
      );
    }
    return vectors;
  }

  const loadAsOf = generationLoader(load);

  /** The bank's vectors as of `generation` (read again when another process wrote since this one read). */
  async function vectorsOf(bank: string, generation: number): Promise<BankVectors> {
    const cached = banks.get(bank);
    if (cached && cached.generation === generation) return cached;
    const loaded = await loadAsOf(bank, generation);
    // a write of this process may have moved the bank on while it loaded; keep the newer copy
    const now = banks.get(bank);
    if (!now || now.generation < loaded.generation) banks.set(bank, loaded);
    return banks.get(bank) as BankVectors;
  }

  function setRow(v: BankVectors, id: string, vector: Float32Array): void {
    // a vector of another size (written under another embedder) cannot be compared: not searchable
    if (vector.length !== d) {
      removeRow(v, id);
      return;
    }
    let i = v.position.get(id);
    if (i === undefined) {
      i = v.ids.length;
      if ((i + 1) * d > v.matrix.length) {
        const matrix = new Float32Array(v.matrix.length * 2);
        matrix.set(v.matrix);
        v.matrix = matrix;
        const norms = new Float32Array(v.norms.length * 2);
        norms.set(v.norms);
        v.norms = norms;
      }
      v.ids.push(id);
      v.position.set(id, i);
    }
    v.matrix.set(vector, i * d);
    v.norms[i] = norm(vector);
  }

  function removeRow(v: BankVectors, id: string): void {
    const i = v.position.get(id);
    if (i === undefined) return;
    const last = v.ids.length - 1;
    if (i !== last) {
      // the last row fills the hole
      const lastId = v.ids[last] as string;
      v.matrix.copyWithin(i * d, last * d, (last + 1) * d);
      v.norms[i] = v.norms[last] as number;
      v.ids[i] = lastId;
      v.position.set(lastId, i);
    }
    v.ids.pop();
    v.position.delete(id);
  }

  return {
    async search(bank, generation, query, limit) {
      const v = await vectorsOf(bank, generation);
      if (query.length !== d) return [];
      return scan(v.matrix, v.norms, v.ids.length, d, query, limit).map(({ row, similarity }) => ({
        id: v.ids[row] as string,
        similarity,
        vector: v.matrix.slice(row * d, (row + 1) * d),
      }));
    },

    applyLocally(bank, generation, change) {
      const cached = banks.get(bank);
      if (!cached) return;
      if (cached.generation === generation - 1) {
        if ("upsert" in change) for (const r of change.upsert) setRow(cached, r.id, r.vector);
        else for (const id of change.remove) removeRow(cached, id);
        cached.generation = generation;
      } else if (cached.generation < generation) {
        banks.delete(bank);
      }
    },

    moved(bank, from, to) {
      const cached = banks.get(bank);
      if (cached && cached.generation === from) cached.generation = to;
    },

    holds(bank) {
      return banks.has(bank);
    },

    forget(bank) {
      banks.delete(bank);
    },

    clear() {
      banks.clear();
    },
  };
}
