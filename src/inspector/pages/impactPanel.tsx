import type { FC } from "hono/jsx";
import type { BankImpact, MemoryEffect } from "../../reasoning/impact.js";

const WIDTH = 520;
const HEIGHT = 160;
const PAD = 32;
// the most harmful and most helpful memories the panel lists
const LISTED = 5;

const percent = (x: number | null) => (x === null ? "–" : `${(100 * x).toFixed(1)}%`);
const points = (x: number | null) => (x === null ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);

/** The lift after each judged pair as a line (inline SVG), from −1 to +1 with the zero line marked. */
const LiftChart: FC<{ curve: BankImpact["control"]["curve"] }> = ({ curve }) => {
  const x = (i: number) => PAD + (curve.length <= 1 ? 0 : (i / (curve.length - 1)) * (WIDTH - 2 * PAD));
  const y = (lift: number) => HEIGHT / 2 - (lift * (HEIGHT - 2 * PAD)) / 2;
  const line = curve.map((p, i) => `${x(i).toFixed(1)},${y(p.lift).toFixed(1)}`).join(" ");
  return (
    <svg
      role="img"
      aria-label="lift from memory over the judged pairs"
      width={WIDTH}
      height={HEIGHT}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      data-chart="lift"
    >
      <line x1={PAD} x2={WIDTH - PAD} y1={y(0)} y2={y(0)} stroke="#9ca3af" stroke-dasharray="4 3" />
      <text x={4} y={y(1) + 4} font-size="11" fill="currentColor">
        +100
      </text>
      <text x={4} y={y(0) + 4} font-size="11" fill="currentColor">
        0
      </text>
      <text x={4} y={y(-1) + 4} font-size="11" fill="currentColor">
        −100
      </text>
      <polyline
        points={line}
        fill="none"
        stroke="#2563eb"
        stroke-width="2"
        data-points={String(curve.length)}
      />
      <text x={WIDTH - PAD} y={HEIGHT - 6} text-anchor="end" font-size="11" fill="currentColor">
        {`${curve.length} judged pairs`}
      </text>
    </svg>
  );
};

const EffectRows: FC<{ bankId: string; effects: MemoryEffect[] }> = ({ bankId, effects }) => (
  <>
    {effects.map((m) => (
      <tr data-memory={m.memoryId}>
        <td>
          <a href={`/banks/${bankId}/memories/${m.memoryId}`}>{m.memoryId}</a>
        </td>
        <td class="num">{points(m.difference)}</td>
        <td class="num">{m.low === null ? "–" : `${points(m.low)} to ${points(m.high)}`}</td>
        <td class="num">{m.judged}</td>
      </tr>
    ))}
  </>
);

/** "Does memory help?": the lift over shadow control runs, its course, and the memories that help or hurt most. */
export const ImpactPanel: FC<{ bankId: string; impact: BankImpact }> = ({ bankId, impact }) => {
  const { control } = impact;
  const known = impact.memories.filter((m) => m.judged > 0);
  const hurting = known.filter((m) => (m.difference ?? 0) < 0).slice(0, LISTED);
  const helping = known
    .filter((m) => (m.difference ?? 0) > 0)
    .reverse()
    .slice(0, LISTED);
  return (
    <section data-panel="impact">
      <h2>Does memory help?</h2>
      {control.pairs === 0 ? (
        <p class="muted">
          No shadow control runs yet. Set the bank's <code>shadowRate</code> (e.g. 0.05) and a share of solves
          is answered again without examples, off the request path, to measure what memory adds.
        </p>
      ) : (
        <>
          <p data-figure="lift">
            {control.judged === 0
              ? `${control.pairs} runs have a shadow control; none judged against ground truth yet. Answers agree in ${percent(control.agreement)} of pairs.`
              : `Lift ${points(control.lift.difference)} points (95% interval ${points(control.lift.low)} to ${points(control.lift.high)}, McNemar p ${control.pValue?.toFixed(3)}) over ${control.judged} pairs judged against ground truth: accuracy ${percent(control.withMemory.rate)} with memory, ${percent(control.withoutMemory.rate)} without.`}
          </p>
          {control.curve.length > 1 ? <LiftChart curve={control.curve} /> : null}
        </>
      )}
      {hurting.length + helping.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>memory (ablation shadows)</th>
              <th class="num">effect, points</th>
              <th class="num">95% interval</th>
              <th class="num">judged</th>
            </tr>
          </thead>
          <tbody>
            <EffectRows bankId={bankId} effects={hurting} />
            <EffectRows bankId={bankId} effects={helping} />
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
