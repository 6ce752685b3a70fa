import type { Context } from "../context.js";
import { contentTerms } from "./analogyTokens.js";
import type { Bank } from "./banks.js";
import { dot } from "./embed/embedder.js";
import { problemHash } from "./problemHash.js";
import { candidateRows } from "./store.js";
import { trustOf, type Verification } from "./trust.js";

/** Reciprocal rank fusion constant (Cormack et al.): damps the head of each list so neither dominates. */
const RRF_K = 60;
/** MMR trade-off: 1 is pure relevance, 0 pure diversity. */
const MMR_LAMBDA = 0.6;
const MIN_CANDIDATES = 16;

export interface RecallScores {
  /** cosine similarity of the memory's problem to the query */
  vector: number;
  /** BM25 score of the full-text match (0 when the text search did not find it) */
  text: number;
  /** reciprocal rank fusion of both lists (absent from one: ranked just below its last), rank 1 in both is 1 */
  fused: number;
  /** utility prior (helped + 1) / (recalled + 2): memories that helped before count more */
  utility: number;
  /**
   * the MMR score at which it was picked: λ·relevance − (1−λ)·(highest similarity to a memory ranked above),
   * where relevance = mean(fused, vector) × (0.5 + utility)
   */
  final: number;
}

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
  /** true when candidates existed but none reached the similarity floor */
  abstained: boolean;
  /** candidates found by either search before filtering */
  considered: number;
  similarityFloor: number;
  timings: { embedMs: number; searchMs: number; rerankMs: number };
}

export interface RecallOptions {
  k?: number;
  similarityFloor?: number;
}

/** The utility prior recall ranks by: (helped + 1) / (recalled + 2), 0.5 for a memory never recalled. */
export function utilityPrior(m: { helpedCount: number; recalledCount: number }): number {
  return (m.helpedCount + 1) / (m.recalledCount + 2);
}

interface Candidate {
  id: string;
  vector: Float32Array;
  vectorRank?: number;
  textRank?: number;
  textScore: number;
}

/**
 * The memories of a bank most worth showing as worked examples for `query`: hybrid search (vector kNN +
 * BM25, fused by reciprocal rank), only active memories at or above the bank's trust floor, reranked
 * with the utility prior and MMR diversity. Below the similarity floor it abstains rather than return
 * an unrelated example.
 */
export async function recallAnalogues({
  ctx,
  bank,
  query,
  options = {},
}: {
  ctx: Context;
  bank: Bank;
  query: string;
  options?: RecallOptions;
}): Promise<RecallResult> {
  const k = options.k ?? bank.settings.k;
  const floor =
    options.similarityFloor ?? bank.settings.similarityFloor ?? ctx.embedder.defaultSimilarityFloor;
  const t0 = performance.now();
  if (k === 0) {
    return {
      memories: [],
      abstained: false,
      considered: 0,
      similarityFloor: floor,
      timings: { embedMs: 0, searchMs: 0, rerankMs: 0 },
    };
  }
  const [queryVector] = await ctx.embedder.embed([query]);
  const qv = queryVector as Float32Array;
  const t1 = performance.now();
  const limit = Math.max(MIN_CANDIDATES, 4 * k);
  const hash = problemHash(query);
  // both searches run on LanceDB's own threads at once
  const [vectorHits, textHits] = await Promise.all([
    ctx.index.searchVector(bank.id, qv, limit),
    ctx.index.searchText(bank.id, contentTerms(query).join(" "), limit),
  ]);
  const t2 = performance.now();

  const candidates = new Map<string, Candidate>();
  vectorHits.forEach((h, i) => {
    candidates.set(h.id, { id: h.id, vector: h.vector, vectorRank: i + 1, textScore: 0 });
  });
  textHits.forEach((h, i) => {
    const c = candidates.get(h.id);
    if (c) Object.assign(c, { textRank: i + 1, textScore: h.score });
    else candidates.set(h.id, { id: h.id, vector: h.vector, textRank: i + 1, textScore: h.score });
  });

  // The records are the truth on status and trust, and an exact problem match counts even if the index
  // has not caught up with it yet.
  const rows = await candidateRows(ctx.db, bank.id, [...candidates.keys()], hash);
  for (const r of rows) {
    if (r.problemHash === hash && !candidates.has(r.id))
      candidates.set(r.id, { id: r.id, vector: qv, vectorRank: 1, textRank: 1, textScore: 0 });
  }

  const trustFloor = trustOf(bank.settings.trustFloor);
  const maxFused = 2 / (RRF_K + 1);
  const scored = rows
    // the index may lag a status change by a moment; the records decide what may be recalled
    .filter((r) => r.status === "active" && r.trust >= trustFloor)
    .map((r) => {
      const c = candidates.get(r.id) as Candidate;
      const exact = r.problemHash === hash;
      const similarity = exact ? 1 : dot(qv, c.vector);
      // a memory one list did not return ranks just below that list's last place: missing from the top
      // `limit` of a search is weak evidence, not none (a short query can tie hundreds of texts)
      const fused =
        (1 / (RRF_K + (c.vectorRank ?? limit + 1)) + 1 / (RRF_K + (c.textRank ?? limit + 1))) / maxFused;
      const utility = utilityPrior(r);
      // rank fusion alone forgets how close a match is (cosine 0.42 and 1.0 can both rank near the top):
      // relevance averages it with the similarity itself; neutral utility (0.5) leaves it unchanged and
      // the prior moves it by at most ±50%
      const relevance = exact ? 2 : ((fused + similarity) / 2) * (0.5 + utility);
      return { row: r, c, exact, similarity, fused, utility, relevance };
    });
  const passing = scored.filter((s) => s.similarity >= floor);

  const picked: (typeof passing)[number][] = [];
  const finals: number[] = [];
  const pool = [...passing];
  while (picked.length < k && pool.length > 0) {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < pool.length; i++) {
      const s = pool[i] as (typeof pool)[number];
      let redundancy = 0;
      for (const p of picked) redundancy = Math.max(redundancy, dot(s.c.vector, p.c.vector));
      const score = MMR_LAMBDA * s.relevance - (1 - MMR_LAMBDA) * redundancy;
      const tie = score === bestScore && s.similarity > (pool[best] as (typeof pool)[number]).similarity;
      if (score > bestScore || tie) {
        bestScore = score;
        best = i;
      }
    }
    picked.push(pool.splice(best, 1)[0] as (typeof pool)[number]);
    finals.push(bestScore);
  }

  return {
    memories: picked.map((s, i) => {
      return {
        id: s.row.id,
        rank: i + 1,
        problem: s.row.problem,
        reasoning: s.row.reasoning,
        answer: s.row.answer,
        answerCanonical: s.row.answerCanonical,
        verification: s.row.verification as Verification,
        trust: s.row.trust,
        exact: s.exact,
        scores: {
          vector: round(s.similarity),
          text: round(s.c.textScore),
          fused: round(s.fused),
          utility: round(s.utility),
          final: round(finals[i] as number),
        },
      };
    }),
    abstained: scored.length > 0 && passing.length === 0,
    considered: candidates.size,
    similarityFloor: floor,
    timings: ms(),
  };

  function ms() {
    const t3 = performance.now();
    return { embedMs: round(t1 - t0), searchMs: round(t2 - t1), rerankMs: round(t3 - t2) };
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
