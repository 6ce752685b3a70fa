import { seededRandom } from "./random.js";

/** z of a two-sided 95% normal interval. */
export const Z95 = 1.959963984540054;

export interface Proportion {
  successes: number;
  n: number;
  rate: number;
  /** bounds of the 95% Wilson score interval */
  low: number;
  high: number;
}

/**
 * The Wilson score interval of a proportion (95% by default): unlike the normal approximation it stays
 * inside [0, 1] and keeps its coverage for small n and rates near 0 or 1. With n = 0 it is [0, 1].
 */
export function wilsonInterval(successes: number, n: number, z = Z95): Proportion {
  if (n === 0) return { successes, n, rate: 0, low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { successes, n, rate: p, low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space so that n in the thousands does not underflow. */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const ln2n = n * Math.LN2;
  let logChoose = 0;
  let sum = Math.exp(-ln2n);
  for (let i = 1; i <= k; i++) {
    logChoose += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logChoose - ln2n);
  }
  return Math.min(1, sum);
}

/**
 * McNemar's exact test on the discordant pairs of a paired comparison: `b` pairs where only the first arm
 * was right, `c` where only the second was. Under the null both are equally likely, so min(b, c) is
 * Binomial(b + c, 1/2); the two-sided p is twice its tail, capped at 1 (1 when there is no discordant pair).
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(b, c), n));
}

/**
 * The difference of two paired proportions, (b − c) / n over n pairs of which b favour the first arm and c
 * the second, with a 95% Agresti–Min interval (a half pair added to each discordant cell and n + 2 pairs:
 * unlike the plain Wald interval it keeps its coverage with few pairs and all of them on one side).
 */
export function pairedDifference(
  b: number,
  c: number,
  n: number,
  z = Z95,
): { difference: number; low: number; high: number } {
  if (n === 0) return { difference: 0, low: -1, high: 1 };
  const b1 = b + 0.5;
  const c1 = c + 0.5;
  const n1 = n + 2;
  const d = (b1 - c1) / n1;
  const half = (z * Math.sqrt(Math.max(0, b1 + c1 - (b1 - c1) ** 2 / n1))) / n1;
  return { difference: (b - c) / n, low: Math.max(-1, d - half), high: Math.min(1, d + half) };
}

export interface PairedTest {
  /** problems on which the first arm scored higher / lower / the same */
  aBetter: number;
  bBetter: number;
  ties: number;
  pValue: number;
}

/**
 * The exact sign test of paired per-problem scores (each in [0, 1]: right or wrong, or the share of
 * repetitions right): problems where the arms differ count for one side or the other, ties drop out, and
 * the p-value is McNemar's exact p of those counts. With one repetition it is exactly McNemar's test; with
 * several, each problem still counts once, so repeating the same problems cannot manufacture significance.
 */
export function pairedSignTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) throw new Error("paired scores must have the same length");
  let aBetter = 0;
  let bBetter = 0;
  a.forEach((x, i) => {
    const d = x - (b[i] as number);
    if (d > 1e-12) aBetter++;
    else if (d < -1e-12) bBetter++;
  });
  return { aBetter, bBetter, ties: a.length - aBetter - bBetter, pValue: mcnemarExact(aBetter, bBetter) };
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * A percentile bootstrap 95% interval of the mean paired difference, resampling problems (not runs) with a
 * seeded random source, so the interval is reproducible and respects that repetitions share problems.
 */
export function pairedBootstrap(
  differences: readonly number[],
  options: { resamples?: number; seed?: number | string } = {},
): Interval {
  const n = differences.length;
  if (n === 0) return { estimate: 0, low: 0, high: 0 };
  const resamples = options.resamples ?? 2000;
  const random = seededRandom(`bootstrap:${options.seed ?? 0}`);
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += differences[Math.floor(random() * n)] as number;
    means.push(sum / n);
  }
  means.sort((x, y) => x - y);
  return { estimate: mean(differences), low: quantile(means, 0.025), high: quantile(means, 0.975) };
}

/** The arithmetic mean (0 for no values). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
}

/** The sample standard deviation (0 for fewer than two values). */
export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
}

/** The q-quantile of ascending values, interpolated linearly (0 for no values). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}
