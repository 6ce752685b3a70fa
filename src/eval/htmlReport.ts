import { type ArmName, armsIn, type PerArm } from "./arms.js";
import { caveats, describeComparison } from "./format.js";
import type { EvalResult } from "./runEvaluation.js";
import type { ArmSummary } from "./summarize.js";

const COLORS: Record<ArmName, string> = {
  memory: "#1b7f3b",
  static: "#1f5fbf",
  control: "#8a8a8a",
  "step-back": "#b45309",
  analogical: "#7c3aed",
};

/** Text made safe for HTML content and attribute values. */
function esc(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const W = 640;
const H = 280;
const M = { left: 44, right: 16, top: 14, bottom: 34 };

/**
 * A line chart of accuracy over the stream as inline SVG: one polyline per arm (marked `data-arm`), y from
 * 0 to 1, x the stream position. No script, no external asset.
 */
export function learningCurveSvg(id: string, title: string, series: PerArm<number[]>): string {
  const arms = armsIn(series);
  const n = Math.max(...arms.map((a) => (series[a] as number[]).length), 1);
  const x = (i: number) => M.left + (n === 1 ? 0.5 : i / (n - 1)) * (W - M.left - M.right);
  const y = (v: number) => M.top + (1 - v) * (H - M.top - M.bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (v) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e3e3"/>` +
        `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`,
    )
    .join("");
  const ticks = [...new Set([0, Math.floor((n - 1) / 2), n - 1])]
    .map((i) => `<text x="${x(i)}" y="${H - M.bottom + 16}" text-anchor="middle">${i + 1}</text>`)
    .join("");
  const lines = arms
    .map((arm) => {
      const values = series[arm] as number[];
      const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      const last = values.length - 1;
      const end =
        last >= 0
          ? `<circle cx="${x(last).toFixed(1)}" cy="${y(values[last] as number).toFixed(1)}" r="3" fill="${COLORS[arm]}"/>`
          : "";
      return (
        `<polyline class="curve" data-arm="${arm}" fill="none" stroke="${COLORS[arm]}" stroke-width="2" ` +
        `points="${points}"><title>${arm}</title></polyline>${end}`
      );
    })
    .join("");
  return (
    `<svg id="${esc(id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ` +
    `role="img" aria-label="${esc(title)}" font-family="system-ui, sans-serif" font-size="11" fill="#333">` +
    `${grid}${ticks}` +
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#999"/>` +
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 4}" text-anchor="middle">problem in the stream</text>` +
    `${lines}</svg>`
  );
}

function legend(arms: ArmName[]): string {
  return `<p class="legend">${arms
    .map((a) => `<span><i style="background:${COLORS[a]}"></i>${a}</span>`)
    .join(" ")}</p>`;
}

function armRows(result: EvalResult): string {
  return armsIn(result.arms)
    .map((arm) => {
      const s = result.arms[arm] as ArmSummary;
      const a = s.accuracy;
      return (
        `<tr><th style="color:${COLORS[arm]}">${arm}</th><td>${a.mean.toFixed(3)}</td>` +
        `<td>[${a.pooled.low.toFixed(3)}, ${a.pooled.high.toFixed(3)}]</td>` +
        `<td>${a.sd.toFixed(3)} (${a.min.toFixed(3)}–${a.max.toFixed(3)})</td>` +
        `<td>${a.pooled.successes}/${a.pooled.n}</td><td>${s.samplesPerProblem.toFixed(1)}</td>` +
        `<td>${s.tokensPerProblem.prompt.toFixed(0)} + ${s.tokensPerProblem.completion.toFixed(0)}</td>` +
        `<td>${s.latencyMs.p50.toFixed(0)} / ${s.latencyMs.p90.toFixed(0)} ms</td><td>${s.failed}</td></tr>`
      );
    })
    .join("");
}

/** The evaluation as one self-contained HTML page: summary, comparisons, learning curves as inline SVG. */
export function renderHtmlReport(result: EvalResult): string {
  const { stream, options } = result;
  const curve = (kind: "cumulative" | "rolling") =>
    Object.fromEntries(armsIn(result.arms).map((a) => [a, result.arms[a]?.curve[kind] ?? []])) as PerArm<
      number[]
    >;
  const window = Object.values(result.arms)[0]?.curve.window ?? 1;
  const banks = result.scratchBanks
    .map(
      (b) =>
        `<li>repetition ${b.seed}: <code>${esc(b.memory)}</code>, <code>${esc(b.static)}</code>` +
        `${b.discarded ? " (discarded)" : ""}</li>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>precedent eval ${esc(result.id)}: ${esc(result.bank)} on ${esc(result.source.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td{font-variant-numeric:tabular-nums}.legend span{margin-right:1rem}.legend i{display:inline-block;width:1.2rem;height:.3rem;margin-right:.3rem;vertical-align:middle}
.sig{font-weight:600}code{font-size:12px}
</style></head><body>
<h1>Evaluation of <code>${esc(result.bank)}</code> on ${esc(result.source.name)}</h1>
<p>Model <code>${esc(result.model)}</code> · ${stream.evaluated} problems × ${options.seeds} repetition(s)${options.shuffle ? ", shuffled per repetition" : ""}
· samples ${esc(options.samples ?? "bank default")}, k ${esc(options.k ?? "bank default")}, adaptive ${options.adaptive}
· ${esc(result.startedAt)} – ${esc(result.finishedAt)}</p>
<p>Leakage guard: ${stream.leaked} problem(s) skipped because the bank already held them; ${stream.duplicates} repeated,
${stream.rejected.length} rejected, ${stream.read} read.</p>
<h2>Arms</h2>
<p>memory: recall + write-back in its own copy of the bank · static: recall from the seeded memories only, no write-back ·
control: the same scaffold with zero examples, no write-back. All arms see the same problems in the same order.</p>
<table><thead><tr><th>arm</th><th>accuracy</th><th>95% Wilson (all runs)</th><th>sd (range) over repetitions</th><th>right</th>
<th>samples / problem</th><th>tokens / problem (prompt + completion)</th><th>latency p50 / p90</th><th>failed</th></tr></thead>
<tbody>${armRows(result)}</tbody></table>
<h2>Paired comparisons</h2>
<p>Exact sign test over problems (McNemar's exact test with one repetition), significant below α = ${options.alpha};
difference interval: paired bootstrap over problems.</p>
<ul>${result.comparisons.map((c) => `<li class="${c.significant ? "sig" : ""}">${esc(describeComparison(c))}</li>`).join("")}</ul>
${caveats(result)
  .filter((line) => line !== "")
  .map((line) => `<p class="note">${esc(line)}</p>`)
  .join("")}
<h2>Learning curve</h2>
${legend(armsIn(result.arms))}
<h3>Cumulative accuracy</h3>
${learningCurveSvg("curve-cumulative", "cumulative accuracy over the stream", curve("cumulative"))}
<h3>Rolling accuracy (last ${window} problems)</h3>
${learningCurveSvg("curve-rolling", `rolling accuracy over the last ${window} problems`, curve("rolling"))}
<h2>Scratch banks</h2>
<p>Each repetition ran the memory arm in the first bank and the static and control arms in the second; every run is
stored there and listed in result.json.</p>
<ul>${banks}</ul>
</body></html>
`;
}
