import { accuracyOf } from "../reasoning/accuracy.js";
import type { ArmName, ArmOutcome, PerArm } from "./arms.js";
import type { EvalProblem } from "./sources.js";
import {
  type Interval,
  mean,
  type PairedTest,
  type Proportion,
  pairedBootstrap,
  pairedSignTest,
  quantile,
  standardDeviation,
} from "./statistics.js";

/** One problem at one position of one repetition, with what every arm did on it. */
export interface EvalRecord {
  /** the repetition (1-based); with --shuffle also the seed of its order */
  seed: number;
  /** 0-based position in that repetition's stream */
  position: number;
  problem: EvalProblem;
  arms: PerArm<ArmOutcome>;
}

export interface ArmSummary {
  arm: ArmName;
  accuracy: {
    /** mean over repetitions of each repetition's accuracy */
    mean: number;
    /** spread over repetitions: sample standard deviation, lowest, highest */
    sd: number;
    min: number;
    max: number;
    /** every run pooled, with its 95% Wilson interval (exactly the per-run interval with one repetition) */
    pooled: Proportion;
    perSeed: Proportion[];
  };
  samplesPerProblem: number;
  tokensPerProblem: { prompt: number; completion: number; total: number };
  latencyMs: { mean: number; p50: number; p90: number };
  /** solves whose model call failed (scored wrong) */
  failed: number;
  /** learning curve, averaged over repetitions at each stream position */
  curve: {
    /** accuracy over the first i + 1 problems of the stream */
    cumulative: number[];
    /** accuracy over the last `window` problems up to position i */
    rolling: number[];
    window: number;
  };
}

export interface Comparison {
  a: ArmName;
  b: ArmName;
  /** mean per-problem accuracy difference a − b with its paired bootstrap 95% interval (problems resampled) */
  difference: Interval;
  /** exact sign test over problems (McNemar's exact test with one repetition) */
  test: PairedTest;
  /** the p-value the verdict uses: Holm-adjusted over the evaluation's comparisons once there are more than two arms */
  pAdjusted: number;
  significant: boolean;
}

/**
 * The pairs of arms compared, of those run: memory vs control first (the question the evaluation asks),
 * then memory vs static and static vs control, then each strategy arm against exemplars alone (static)
 * and against no help (control).
 */
export function comparisonsOf(arms: readonly ArmName[]): [ArmName, ArmName][] {
  const pairs: [ArmName, ArmName][] = [
    ["memory", "control"],
    ["memory", "static"],
    ["static", "control"],
    ["step-back", "static"],
    ["step-back", "control"],
    ["analogical", "static"],
    ["analogical", "control"],
  ];
  return pairs.filter(([a, b]) => arms.includes(a) && arms.includes(b));
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The rolling window of a stream of n problems: a tenth of it, at least 5 (at most n). */
export function rollingWindow(n: number): number {
  return Math.max(1, Math.min(n, Math.max(5, Math.round(n / 10))));
}

/** Cumulative and trailing-window accuracy at each position of one ordered stream of results. */
export function curvesOf(
  correct: readonly boolean[],
  window: number,
): { cumulative: number[]; rolling: number[] } {
  const cumulative: number[] = [];
  const rolling: number[] = [];
  let total = 0;
  correct.forEach((c, i) => {
    total += c ? 1 : 0;
    cumulative.push(total / (i + 1));
    const from = Math.max(0, i - window + 1);
    rolling.push(correct.slice(from, i + 1).filter(Boolean).length / (i + 1 - from));
  });
  return { cumulative, rolling };
}

/** Averages equally long series position by position. */
function averageSeries(series: number[][]): number[] {
  const length = series[0]?.length ?? 0;
  return Array.from({ length }, (_, i) => round(mean(series.map((s) => s[i] as number))));
}

function bySeed(records: readonly EvalRecord[]): EvalRecord[][] {
  const seeds = [...new Set(records.map((r) => r.seed))].sort((x, y) => x - y);
  return seeds.map((s) => records.filter((r) => r.seed === s).sort((x, y) => x.position - y.position));
}

/** Accuracy, cost, latency and learning curve of one arm over every repetition. */
export function summarizeArm(arm: ArmName, records: readonly EvalRecord[]): ArmSummary {
  const repetitions = bySeed(records);
  const outcomes = records.map((r) => outcomeOf(r, arm));
  // eval knows every problem's gold answer: each outcome is judged against ground truth
  const perSeed = repetitions.map((rs) =>
    accuracyOf(rs.filter((r) => outcomeOf(r, arm).correct).length, rs.length),
  );
  const rates = perSeed.map((p) => p.rate);
  const n = repetitions[0]?.length ?? 0;
  const window = rollingWindow(n);
  const curves = repetitions.map((rs) =>
    curvesOf(
      rs.map((r) => outcomeOf(r, arm).correct),
      window,
    ),
  );
  const latencies = outcomes.map((o) => o.ms).sort((x, y) => x - y);
  const prompt = mean(outcomes.map((o) => o.promptTokens));
  const completion = mean(outcomes.map((o) => o.completionTokens));
  return {
    arm,
    accuracy: {
      mean: round(mean(rates)),
      sd: round(standardDeviation(rates)),
      min: round(Math.min(...rates)),
      max: round(Math.max(...rates)),
      pooled: accuracyOf(outcomes.filter((o) => o.correct).length, outcomes.length),
      perSeed,
    },
    samplesPerProblem: round(mean(outcomes.map((o) => o.samples)), 2),
    tokensPerProblem: {
      prompt: round(prompt, 1),
      completion: round(completion, 1),
      total: round(prompt + completion, 1),
    },
    latencyMs: {
      mean: round(mean(latencies), 1),
      p50: round(quantile(latencies, 0.5), 1),
      p90: round(quantile(latencies, 0.9), 1),
    },
    failed: outcomes.filter((o) => o.status === "failed").length,
    curve: {
      cumulative: averageSeries(curves.map((c) => c.cumulative)),
      rolling: averageSeries(curves.map((c) => c.rolling)),
      window,
    },
  };
}

/** Each problem's score for an arm: the share of repetitions in which the arm got it right. */
export function perProblemScores(arm: ArmName, records: readonly EvalRecord[]): Map<number, number> {
  const sums = new Map<number, { right: number; runs: number }>();
  for (const r of records) {
    const s = sums.get(r.problem.index) ?? { right: 0, runs: 0 };
    s.right += outcomeOf(r, arm).correct ? 1 : 0;
    s.runs += 1;
    sums.set(r.problem.index, s);
  }
  return new Map([...sums].map(([i, s]) => [i, s.right / s.runs]));
}

/**
 * Compares two arms on the same problems: the exact paired sign test on per-problem scores (significant
 * below `alpha`) and a paired bootstrap interval of the accuracy difference.
 */
export function compareArms(
  a: ArmName,
  b: ArmName,
  records: readonly EvalRecord[],
  alpha: number,
): Comparison {
  const sa = perProblemScores(a, records);
  const sb = perProblemScores(b, records);
  const problems = [...sa.keys()].sort((x, y) => x - y);
  const xs = problems.map((i) => sa.get(i) as number);
  const ys = problems.map((i) => sb.get(i) as number);
  const test = pairedSignTest(xs, ys);
  const interval = pairedBootstrap(
    xs.map((x, i) => x - (ys[i] as number)),
    { seed: `${a}-${b}` },
  );
  return {
    a,
    b,
    difference: { estimate: round(interval.estimate), low: round(interval.low), high: round(interval.high) },
    test: { ...test, pValue: Number(test.pValue.toPrecision(4)) },
    pAdjusted: Number(test.pValue.toPrecision(4)),
    significant: test.pValue < alpha,
  };
}

/** What an arm did on a record's problem (every record holds every arm the evaluation ran). */
function outcomeOf(record: EvalRecord, arm: ArmName): ArmOutcome {
  const outcome = record.arms[arm];
  if (!outcome) throw new Error(`the evaluation did not run the ${arm} arm`);
  return outcome;
}

/**
 * Holm's step-down adjustment of the comparisons' p-values (controls the family-wise error at alpha):
 * the i-th smallest p times (m − i), kept monotone, capped at 1.
 */
export function holmAdjusted(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, p * (pValues.length - rank)));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * Every arm's summary and the comparisons between arms; with more than two arms the verdicts use
 * Holm-adjusted p-values, so running more arms cannot manufacture a significant difference.
 */
export function summarize(records: readonly EvalRecord[], alpha: number, arms: readonly ArmName[]) {
  const comparisons = comparisonsOf(arms).map(([a, b]) => compareArms(a, b, records, alpha));
  if (arms.length > 2) {
    const adjusted = holmAdjusted(comparisons.map((c) => c.test.pValue));
    comparisons.forEach((c, i) => {
      c.pAdjusted = Number((adjusted[i] as number).toPrecision(4));
      c.significant = (adjusted[i] as number) < alpha;
    });
  }
  const summaries: PerArm<ArmSummary> = {};
  for (const arm of arms) summaries[arm] = summarizeArm(arm, records);
  return { arms: summaries, comparisons };
}
