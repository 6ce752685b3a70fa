import type { Services } from "../services.js";
import type { Bank } from "./banks.js";
import type { LexiconView } from "./index/memoryIndex.js";
import {
  type MemoryEvidence,
  memoryEvidence,
  memoryEvidenceAt,
  type QueryEvidence,
  queryEvidence,
} from "./lexical/evidence.js";
import { analogueMatch, DEFAULT_MATCH_FLOOR } from "./lexical/match.js";
import { problemHash } from "./problemHash.js";
import { type CandidateRow, candidateRows } from "./store.js";
import { trustOf, type Verification } from "./trust.js";

/** MMR trade-off: 1 is pure relevance, 0 pure diversity. */
const MMR_LAMBDA = 0.6;
// MMR weighs only near-identical examples (literal cosine from 0.8: the same template with other values):
// two examples that merely share a topic are both worth showing. Counting every similarity pushed true
// analogues out of the top 3 (dev set variant @3: 0.944 from 0; 0.956 from 0.8).
const NEAR_IDENTICAL = 0.8;
// Candidates per field, max(MIN_CANDIDATES, CANDIDATES_PER_K · k), each scored exactly: on the dev set,
// 2k, 3k and 4k per field give the same figures, and each candidate costs about 0.15 ms of records,
// analysis and scoring.
const MIN_CANDIDATES = 8;
const CANDIDATES_PER_K = 2;
// relevance = structure + LITERAL_WEIGHT · literal (+ the embedder's weight · vector). On the analogue dev
// set (bench quality), structure alone: variant @1 0.92, paraphrase 0.85; each added weight of literal
// buys paraphrases and costs variants (0.5: 0.94 / 0.92; 2: 0.98 / 0.91; 4: 0.99 / 0.88), so literal
// evidence decides outright only where it is unmistakable (REWORDED_* below) and otherwise weighs half.
const LITERAL_WEIGHT = 0.5;
// The query is taken for the literal leader reworded (it ranks first) when that memory's literal score is
// at least REWORDED_LEAD times the runner-up's, or it holds REWORDED_VALUES of the query's numbers and
// names. On the dev set, a literal leader that was not the problem the query was written from stood out
// by at most 1.63× and held at most 0.41 of the values; nine in ten true leaders stood out by ≥ 1.72×.
const REWORDED_LEAD = 1.6;
const REWORDED_VALUES = 0.45;
// relevance added to the memory taken for the query reworded: more than any other memory can reach
const REWORDED_BONUS = 2;
// A reworded memory that also holds RESTATED_VALUES of the query's numbers and names by weight, and two
// of its numbers at least, is the query restated: recalled whatever its match (a short problem reworded
// has little structure in common with its original). Names alone do not make it: "Who wrote Pride and
// Prejudice?" shares two with a problem about watching the series.
const RESTATED_VALUES = 0.9;
const RESTATED_MIN_NUMBERS = 2;

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

export interface RecallResult {
  memories: RecalledMemory[];
  /** true when candidates existed but none reached the match floor */
  abstained: boolean;
  /** candidates found by any search before filtering */
  considered: number;
  matchFloor: number;
  timings: { embedMs: number; searchMs: number; rerankMs: number };
}

export interface RecallOptions {
  k?: number;
  matchFloor?: number;
}

/** The utility prior recall ranks by: (helped + 1) / (recalled + 2), 0.5 for a memory never recalled. */
export function utilityPrior(m: { helpedCount: number; recalledCount: number }): number {
  return (m.helpedCount + 1) / (m.recalledCount + 2);
}

interface Scored {
  row: CandidateRow;
  exact: boolean;
  /** its literal terms as a unit vector of tf-idf weights, by term id (text, for a term the bank lacks) */
  literalWeights: () => Map<number | string, number>;
  evidence: MemoryEvidence;
  vector: number | null;
  reworded: boolean;
  relevance: number;
  match: number;
  utility: number;
}

/**
 * The memories of a bank most worth showing as worked examples for `query`: the best literal and structure
 * matches of the bank's lexicon (and the vector search, when the embedder's vectors carry weight), only
 * active memories at or above the bank's trust floor, ranked by their lexical evidence with the utility
 * prior and MMR diversity. A memory whose match is below the floor is left out, so for a question the
 * bank has nothing for, recall abstains rather than return an unrelated example.
 */
export async function recallAnalogues({
  ctx,
  bank,
  query,
  options = {},
}: {
  ctx: Services;
  bank: Bank;
  query: string;
  options?: RecallOptions;
}): Promise<RecallResult> {
  const k = options.k ?? bank.settings.k;
  const floor = options.matchFloor ?? bank.settings.matchFloor ?? DEFAULT_MATCH_FLOOR;
  const t0 = performance.now();
  if (k === 0) {
    return { memories: [], abstained: false, considered: 0, matchFloor: floor, timings: timings(t0, t0, t0) };
  }
  const vectorWeight = ctx.embedder.vectorWeight;
  const queryVector = vectorWeight > 0 ? ((await ctx.embedder.embed([query]))[0] as Float32Array) : undefined;
  const t1 = performance.now();
  const limit = Math.max(MIN_CANDIDATES, CANDIDATES_PER_K * k);
  const hash = problemHash(query);
  const [view, vectorHits] = await Promise.all([
    ctx.index.lexicon(bank.id),
    queryVector ? ctx.index.searchVector(bank.id, queryVector, limit) : Promise.resolve([]),
  ]);
  const queryText = view.analyze(query);
  const matches = view.lexicon.search(queryText, limit);
  const t2 = performance.now();

  const ids = new Set<string>();
  for (const h of matches.literal) ids.add(h.id);
  for (const h of matches.structure) ids.add(h.id);
  for (const h of vectorHits) ids.add(h.id);
  // The records are the truth on status and trust, and an exact problem match counts even if the index
  // has not caught up with it yet.
  // in an order of their own (the problem's hash), not the database's: memories that tie are then picked
  // the same way in every bank and on every run, whatever order updates left the rows in
  const rows = (await candidateRows(ctx.db, bank.id, [...ids], hash)).sort((a, b) =>
    a.problemHash < b.problemHash ? -1 : a.problemHash > b.problemHash ? 1 : 0,
  );
  const considered = new Set([...ids, ...rows.map((r) => r.id)]).size;

  const similarity = new Map(vectorHits.map((h) => [h.id, h.similarity]));
  const vectorBest = vectorHits[0]?.similarity ?? 0;
  // a memory the vector search did not return ranks just below its last: weak evidence, not none
  const vectorFloor = vectorHits.at(-1)?.similarity ?? 0;
  const evidence = queryEvidence(view.lexicon, queryText, matches);
  const trustFloor = trustOf(bank.settings.trustFloor);
  const scored: Scored[] = rows
    // the index may lag a status change by a moment; the records decide what may be recalled
    .filter((r) => r.status === "active" && r.trust >= trustFloor)
    .map((row) => {
      const exact = row.problemHash === hash;
      const { evidence: e, literalWeights } = memoryScores(view, evidence, row);
      const vector = similarity.get(row.id) ?? null;
      const reworded = isReworded(evidence, row.id, e);
      const restated = reworded && restates(evidence, e);
      const vectorPart = vectorWeight > 0 && vectorBest > 0 ? (vector ?? vectorFloor) / vectorBest : 0;
      const relevance =
        e.structure +
        LITERAL_WEIGHT * e.literal +
        vectorWeight * vectorPart +
        (exact ? 2 * REWORDED_BONUS : reworded ? REWORDED_BONUS : 0);
      const match = exact || restated ? 1 : analogueMatch(evidence, e);
      return {
        row,
        exact,
        literalWeights,
        evidence: e,
        vector,
        reworded,
        relevance,
        match,
        utility: utilityPrior(row),
      };
    });
  // the query's own problem and a memory restating it have match 1: always recalled
  const passing = scored.filter((s) => s.match >= floor);
  const picked = pickDiverse(passing, k);

  return {
    memories: picked.map(({ s, final }, i) => ({
      id: s.row.id,
      rank: i + 1,
      problem: s.row.problem,
      reasoning: s.row.reasoning,
      answer: s.row.answer,
      answerCanonical: s.row.answerCanonical,
      verification: s.row.verification,
      trust: s.row.trust,
      exact: s.exact,
      scores: {
        literal: round(s.evidence.literal),
        structure: round(s.evidence.structure),
        values: round(s.evidence.values),
        vector: s.vector === null ? null : round(s.vector),
        reworded: s.reworded ? 1 : 0,
        relevance: round(s.relevance),
        match: round(s.match),
        utility: round(s.utility),
        final: round(final),
      },
    })),
    abstained: scored.length > 0 && passing.length === 0,
    considered,
    matchFloor: floor,
    timings: timings(t0, t1, t2),
  };
}

/** Whether a reworded memory holds nearly all of the query's values, numbers among them: the query restated. */
function restates(query: QueryEvidence, e: MemoryEvidence): boolean {
  if ((query.literalLeader?.lead ?? 0) < REWORDED_LEAD || e.values < RESTATED_VALUES) return false;
  return e.numbersHeld >= RESTATED_MIN_NUMBERS;
}

/**
 * A candidate's evidence, read from the lexicon's fields when it holds the memory with this very text (no
 * analysis), else from an analysis of the text (kept for the next few recalls); and its literal weights
 * for MMR, computed only when asked for.
 */
function memoryScores(
  view: LexiconView,
  query: QueryEvidence,
  row: CandidateRow,
): { evidence: MemoryEvidence; literalWeights: () => Map<number | string, number> } {
  const { lexicon } = view;
  const slot = lexicon.slotOf(row.id, row.problem);
  let values = slot >= 0 ? lexicon.valuesOf(slot) : undefined;
  if (slot >= 0 && !values) {
    // a lexicon read from its file keeps no values: learned from this one analysis, read after
    lexicon.learnValues(slot, lexicon.analyzed(row.id, row.problem, view.analyze));
    values = lexicon.valuesOf(slot);
  }
  if (slot >= 0 && values) {
    return {
      evidence: memoryEvidenceAt(lexicon, query, slot, values),
      literalWeights: () => {
        const weights = new Map<number | string, number>();
        lexicon.literal.termsOf(slot, (id, count, idf) => weights.set(id, (1 + Math.log(count)) * idf));
        return unit(weights);
      },
    };
  }
  const text = lexicon.analyzed(row.id, row.problem, view.analyze);
  return {
    evidence: memoryEvidence(lexicon, query, text),
    literalWeights: () => {
      const weights = new Map<number | string, number>();
      for (const [term, count] of text.literal) {
        const id = lexicon.literal.idOf(term);
        weights.set(id >= 0 ? id : term, (1 + Math.log(count)) * lexicon.literal.idf(term));
      }
      return unit(weights);
    },
  };
}

/** Whether the memory is the literal leader and stands out enough to be the query itself reworded. */
function isReworded(query: QueryEvidence, id: string, e: MemoryEvidence): boolean {
  const leader = query.literalLeader;
  if (!leader || leader.id !== id) return false;
  return leader.lead >= REWORDED_LEAD || e.values >= REWORDED_VALUES;
}

/**
 * Maximal marginal relevance: each pick maximizes λ·relevance·(0.5 + utility) − (1−λ)·redundancy, where
 * redundancy is its highest literal similarity (idf-weighted cosine) to a memory picked before it, when
 * that reaches NEAR_IDENTICAL (else 0).
 */
function pickDiverse(pool: Scored[], k: number): { s: Scored; final: number }[] {
  // redundancy takes at most 1 − λ off a value: past the best few, none could be picked before k are
  const left = pool
    .map((s) => ({ s, value: s.relevance * (0.5 + s.utility) }))
    .sort((a, b) => b.value - a.value)
    .slice(0, 4 * k)
    .map((c) => ({ ...c, weights: c.s.literalWeights() }));
  const picked: { s: Scored; final: number; weights: Map<number | string, number> }[] = [];
  while (picked.length < k && left.length > 0) {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < left.length; i++) {
      const c = left[i] as (typeof left)[number];
      let redundancy = 0;
      for (const p of picked) redundancy = Math.max(redundancy, cosine(c.weights, p.weights));
      if (redundancy < NEAR_IDENTICAL) redundancy = 0;
      const score = MMR_LAMBDA * c.value - (1 - MMR_LAMBDA) * redundancy;
      const tie = score === bestScore && c.s.relevance > (left[best] as (typeof left)[number]).s.relevance;
      if (score > bestScore || tie) {
        bestScore = score;
        best = i;
      }
    }
    const [chosen] = left.splice(best, 1);
    if (!chosen) break;
    picked.push({ s: chosen.s, final: bestScore, weights: chosen.weights });
  }
  return picked;
}

/** Weights scaled to a unit vector. */
function unit(weights: Map<number | string, number>): Map<number | string, number> {
  let norm = 0;
  for (const w of weights.values()) norm += w * w;
  norm = Math.sqrt(norm) || 1;
  for (const [term, w] of weights) weights.set(term, w / norm);
  return weights;
}

function cosine(a: Map<number | string, number>, b: Map<number | string, number>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let s = 0;
  for (const [term, w] of small) s += w * (large.get(term) ?? 0);
  return s;
}

function timings(t0: number, t1: number, t2: number) {
  const t3 = performance.now();
  return { embedMs: round(t1 - t0), searchMs: round(t2 - t1), rerankMs: round(t3 - t2) };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
