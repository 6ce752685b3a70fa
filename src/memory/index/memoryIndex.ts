/** A row of the derived search index: just what recall needs to find a memory. */
export interface IndexRow {
  id: string;
  bank: string;
  status: string;
  trust: number;
  text: string;
  vector: Float32Array;
}

export interface VectorHit {
  id: string;
  /** cosine similarity to the query, in [-1, 1] */
  similarity: number;
  vector: Float32Array;
}

export interface TextHit {
  id: string;
  /** BM25 score, unbounded, higher is better */
  score: number;
  vector: Float32Array;
}

/**
 * The search index over memories. Postgres is the source of truth; an index only ever holds what
 * reconcile copied into it, so any implementation can be dropped and rebuilt from the records.
 */
export interface MemoryIndex {
  readonly kind: string;
  upsert(bank: string, rows: IndexRow[]): Promise<void>;
  remove(bank: string, ids: string[]): Promise<void>;
  searchVector(bank: string, vector: Float32Array, limit: number): Promise<VectorHit[]>;
  searchText(bank: string, query: string, limit: number): Promise<TextHit[]>;
  /** Ids held for a bank, to compare with the records. */
  ids(bank: string): Promise<string[]>;
  count(bank: string): Promise<number>;
  /** Whether the bank's index can be read at all (a torn write after a crash makes it unreadable). */
  healthy(bank: string): Promise<boolean>;
  drop(bank: string): Promise<void>;
  /** Throws when the index's storage cannot be reached. */
  ping(): Promise<void>;
  /**
   * Compaction and index maintenance after a burst of writes; with `vectorIndex`, also builds the
   * approximate vector index a large bank needs (slow: seconds per 10k memories).
   */
  optimize(bank: string, options?: { vectorIndex?: boolean }): Promise<void>;
  close(): Promise<void>;
}
