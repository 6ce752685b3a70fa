import type { Verification } from "./trust.js";

// What recall answers, apart from how it ranks: the run records, the API, the inspector and the CLI read it.

/** Why a recalled memory ranked where it did: every signal that ranks it. */
export interface RecallScores {
  /** literal BM25 (words, numbers, names, word pairs) over the best in the bank, 0..1 */
  literal: number | null;
  /** structure BM25 (numbers and names masked, nouns as their kinds, word pairs) over the best, 0..1 */
  structure: number | null;
  /** share of the query's numbers and names (weighted by rarity) that the memory holds, 0..1 */
  values: number | null;
  /** cosine similarity of the memory's problem to the query, when the vector search ranked it */
  vector: number | null;
  /** 1 when the memory was taken for the query itself reworded (it ranks first), else 0 */
  reworded: number | null;
  /** what recall ranks by: structure + 0.5 · literal (+ the embedder's vector weight · vector), + 2 if reworded */
  relevance: number;
  /**
   * how likely the memory is an analogue at all, 0..1 (src/memory/lexical/match.ts); below the floor it is
   * not recalled. 1 for the query's own problem, and for a memory that restates it (reworded, holding
   * nearly all of its numbers and names)
   */
  match: number | null;
  /** utility prior (helped + 1) / (recalled + 2): memories that helped before count more */
  utility: number;
  /**
   * the MMR score at which it was picked: λ·relevance·(0.5 + utility) − (1−λ)·(highest literal similarity
   * to a memory ranked above, counted from 0.8: near-identical problems)
   */
  final: number;
}

/** The scores that say why a memory ranked where it did, in the order the inspector and CLI show them. */
export const RECALL_SIGNALS = [
  "literal",
  "structure",
  "values",
  "vector",
  "reworded",
  "relevance",
  "match",
] as const;

/** A memory recall picked, with its worked example and its scores. */
export interface RecalledMemory {
  id: string;
  rank: number;
  problem: string;
  reasoning: string;
  answer: string;
  answerCanonical: string;
  verification: Verification;
  trust: number;
  /** the problem is the query itself (same normalized text) */
  exact: boolean;
  scores: RecallScores;
}

/** What a recall found (or why it found nothing), and its timings. */
export interface RecallResult {
  memories: RecalledMemory[];
  /** true when candidates existed but none reached the match floor */
  abstained: boolean;
  /** candidates found by any search before filtering */
  considered: number;
  matchFloor: number;
  timings: { embedMs: number; searchMs: number; rerankMs: number };
}

/** How many memories to recall, and the match floor (default: the calibrated one). */
export interface RecallOptions {
  k?: number;
  matchFloor?: number;
}
