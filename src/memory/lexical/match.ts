import type { MemoryEvidence, QueryEvidence } from "./evidence.js";

/**
 * How likely a memory is an analogue of the query at all, 0..1: a logistic model over the lexical
 * coverage of each by the other and the query's length against the bank's problems. Recall keeps a
 * memory when its match reaches the floor (0.5 unless the bank or request says otherwise), so it abstains
 * on questions the bank has nothing for.
 *
 * Fitted by `npm run bench calibrate` (bench/calibrate.ts) on a bank of GSM8K train + test: positives are
 * GSM8K test problems searched with their own memory set aside (a new problem whose nearest memory is
 * another problem must still be recalled for), negatives the 150 off-topic queries of
 * data/analogues/offtopic.jsonl. At the 0.5 floor, 5-fold cross-validated: off-topic queries abstained
 * 0.980, new in-domain problems 0.000; the analogue dev set (never fitted on) 0.006. The inputs are
 * lexical only, so the model holds whichever embedder the index uses.
 */
export const MATCH_WEIGHTS = {
  bias: -1.054,
  queryCoverage: 19.355,
  memoryCoverage: 8.826,
  logLength: 5.95,
  logLengthRatio: 0.819,
};
export type MatchFeature = Exclude<keyof typeof MATCH_WEIGHTS, "bias">;

/** The default floor on `match`. */
export const DEFAULT_MATCH_FLOOR = 0.5;

/** The model's inputs for one memory and query. */
export function matchFeatures(query: QueryEvidence, memory: MemoryEvidence): Record<MatchFeature, number> {
  return {
    queryCoverage: memory.queryCoverage,
    memoryCoverage: memory.memoryCoverage,
    logLength: query.logLength,
    logLengthRatio: memory.logLengthRatio,
  };
}

/** The match of one memory for a query (see above). */
export function analogueMatch(query: QueryEvidence, memory: MemoryEvidence): number {
  const features = matchFeatures(query, memory);
  let z = MATCH_WEIGHTS.bias;
  for (const name of Object.keys(features) as MatchFeature[]) z += MATCH_WEIGHTS[name] * features[name];
  return 1 / (1 + Math.exp(-z));
}
