import type { Analyzer } from "../lexical/analyze.js";
import type { BankLexicon } from "../lexical/bankLexicon.js";

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

/**
 * Where the index rows are stored and their vectors searched (LanceDB, or Postgres itself). Postgres is
 * the source of truth; a store only ever holds what reconcile copied into it, so any implementation can
 * be dropped and rebuilt from the records.
 */
export interface IndexStore {
  readonly kind: string;
  upsert(bank: string, rows: IndexRow[]): Promise<void>;
  remove(bank: string, ids: string[]): Promise<void>;
  searchVector(bank: string, vector: Float32Array, limit: number): Promise<VectorHit[]>;
  /** Every row's id and text, a batch at a time: what a bank's lexicon is built from. */
  texts(bank: string): AsyncIterable<{ id: string; text: string }[]>;
  /**
   * A number that grows with every change to the bank's rows, whichever process made it (as far as the
   * store lets this process see other writers): a lexicon built at one generation is stale at another.
   */
  generation(bank: string): Promise<number>;
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

/** A bank's lexicon as of now, and the analyzer that built it (queries must be analyzed the same way). */
export interface LexiconView {
  analyze: Analyzer;
  lexicon: BankLexicon;
}

/** The search index over memories: a store for rows and vectors, and each bank's lexicon in process. */
export interface MemoryIndex extends IndexStore {
  /** The bank's lexicon, rebuilt from the store when another process changed the bank since it was read. */
  lexicon(bank: string): Promise<LexiconView>;
}
