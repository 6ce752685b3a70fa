import { armsIn } from "./arms.js";
import type { EvalResult } from "./runEvaluation.js";
import type { ArmSummary, Comparison } from "./summarize.js";

const fixed = (x: number, digits = 3) => x.toFixed(digits);
const pad = (s: string, n: number) => s.padEnd(n);

/** A p-value readably: three significant digits, scientific below 0.001. */
export function formatP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toPrecision(3);
}

/** One comparison in a sentence: difference, interval, discordant problems, p-value and verdict. */
export function describeComparison(c: Comparison): string {
  const sign = c.difference.estimate >= 0 ? "+" : "";
  return (
    `${c.a} vs ${c.b}: ${sign}${fixed(c.difference.estimate)} [${fixed(c.difference.low)}, ${fixed(c.difference.high)}], ` +
    `better on ${c.test.aBetter} vs ${c.test.bBetter} problems (${c.test.ties} ties), ` +
    `exact paired p = ${formatP(c.test.pValue)}` +
    (c.pAdjusted !== c.test.pValue ? ` (Holm-adjusted ${formatP(c.pAdjusted)})` : "") +
    `: ${c.significant ? "significant" : "no significant difference"}`
  );
}

/** What the reader should keep in mind about the comparisons' verdicts. */
export function caveats(result: EvalResult): string[] {
  const notes: string[] = [];
  if (armsIn(result.arms).length > 2) {
    notes.push(
      `p-values are Holm-adjusted over the ${result.comparisons.length} comparisons: more arms cannot manufacture significance`,
    );
  }
  if (result.options.seeds === 1) {
    notes.push(
      "one repetition: a single order of one sample of answers; a p near the threshold can flip on a rerun (try --seeds 3 --shuffle)",
    );
  }
  return notes.length > 0 ? ["", ...notes.map((n) => `note: ${n}`)] : [];
}

/** The summary table printed after an evaluation. */
export function formatSummary(result: EvalResult): string {
  const { stream } = result;
  const lines = [
    `eval of bank ${result.bank} on ${result.source.name} · model ${result.model} · ` +
      `${stream.evaluated} problems × ${result.options.seeds} repetition${result.options.seeds === 1 ? "" : "s"}` +
      `${result.options.shuffle ? " (shuffled)" : ""}`,
    `leakage guard: ${stream.leaked} skipped (already in the bank); ${stream.duplicates} repeated, ` +
      `${stream.rejected.length} rejected`,
    "",
    `${pad("arm", 12)}${pad("accuracy", 10)}${pad("95% CI", 18)}${pad("sd", 8)}${pad("samples", 9)}${pad("tokens", 9)}latency p50`,
  ];
  for (const arm of armsIn(result.arms)) {
    const s = result.arms[arm] as ArmSummary;
    lines.push(
      pad(arm, 12) +
        pad(fixed(s.accuracy.mean), 10) +
        pad(`[${fixed(s.accuracy.pooled.low)}, ${fixed(s.accuracy.pooled.high)}]`, 18) +
        pad(fixed(s.accuracy.sd), 8) +
        pad(s.samplesPerProblem.toFixed(1), 9) +
        pad(Math.round(s.tokensPerProblem.total).toString(), 9) +
        `${Math.round(s.latencyMs.p50)} ms` +
        (s.failed ? `  (${s.failed} failed)` : ""),
    );
  }
  lines.push("", ...result.comparisons.map(describeComparison), ...caveats(result));
  return lines.join("\n");
}
