import { assertBankAccess } from "../auth/scopes.js";
import type { CallContext } from "../services.js";
import type { Bank } from "./banks.js";
import { utilityPrior } from "./credit.js";
import type { LexiconView } from "./index/memoryIndex.js";
import {
  type MemoryEvidence,
  memoryEvidence,
  memoryEvidenceAt,
  type QueryEvidence,
  queryEvidence,
} from "./lexical/evidence.js";
import { analogueMatch, DEFAULT_MATCH_FLOOR } from "./lexical/match.js";
import { pickDiverse, unitWeights } from "./pickDiverse.js";
import { problemHash } from "./problemHash.js";
import type { RecallOptions, RecallResult } from "./recallResult.js";
import { type CandidateRow, candidateRows } from "./store.js";
import { trustOf } from "./trust.js";

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
 * bank has nothing for, recall abstains rather than return an unrelated example. Needs read access to
 * the bank.
 */
export async function recallAnalogues({
  ctx,
  bank,
  query,
  options = {},
}: {
  ctx: CallContext;
  bank: Bank;
  query: string;
  options?: RecallOptions;
}): Promise<RecallResult> {
  assertBankAccess(ctx.principal, bank.id, "read");
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
  const fetched = ctx.records
    ? await ctx.records.candidates({
        db: ctx.db,
        bankId: bank.id,
        ids: [...ids],
        hash,
        bankSize: view.lexicon.size,
      })
    : await candidateRows(ctx.db, bank.id, [...ids], hash);
  const rows = fetched.sort((a, b) =>
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
        return unitWeights(weights);
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
      return unitWeights(weights);
    },
  };
}

/** Whether the memory is the literal leader and stands out enough to be the query itself reworded. */
function isReworded(query: QueryEvidence, id: string, e: MemoryEvidence): boolean {
  const leader = query.literalLeader;
  if (!leader || leader.id !== id) return false;
  return leader.lead >= REWORDED_LEAD || e.values >= REWORDED_VALUES;
}

function timings(t0: number, t1: number, t2: number) {
  const t3 = performance.now();
  return { embedMs: round(t1 - t0), searchMs: round(t2 - t1), rerankMs: round(t3 - t2) };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
