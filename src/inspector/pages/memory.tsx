import type { FC } from "hono/jsx";
import type { MemoryDetail } from "../../memory/browseMemories.js";
import type { MemoryEffect } from "../../reasoning/impact.js";
import { formatDate, formatScore } from "../format.js";
import { Layout, Verdict } from "../layout.js";

/** One memory: what it says, how it was verified, how it has fared and the runs that recalled it. */
const formatSigned = (x: number | null) => (x === null ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);

export const MemoryPage: FC<{ memory: MemoryDetail; effect: MemoryEffect }> = ({ memory: m, effect }) => (
  <Layout title={m.id}>
    <h1>
      Memory <code>{m.id}</code>
    </h1>
    <p class="small">
      in bank <a href={`/banks/${m.bankId}`}>{m.bankId}</a> ·{" "}
      <a href={`/banks/${m.bankId}/memories`}>all memories</a>
    </p>
    <h2>Problem</h2>
    <pre data-field="problem">{m.problem}</pre>
    <h2>Reasoning</h2>
    <pre data-field="reasoning">{m.reasoning || "(none: checked by the domain's checker)"}</pre>
    <h2>Answer</h2>
    <pre data-field="answer">{m.answer}</pre>
    <h2>Provenance and usage</h2>
    <dl class="facts">
      <dt>status</dt>
      <dd data-field="status">{m.status}</dd>
      <dt>verification</dt>
      <dd data-field="verification">{m.verification}</dd>
      <dt>trust</dt>
      <dd>{m.trust}</dd>
      <dt>source</dt>
      <dd>
        {m.source}
        {m.runId ? (
          <>
            {" "}
            (written by <a href={`/runs/${m.runId}`}>{m.runId}</a>
            {m.model ? `, ${m.model}` : ""})
          </>
        ) : null}
      </dd>
      <dt>recalled / helped / hurt</dt>
      <dd data-field="usage">
        {m.usage.recalled} / {m.usage.helped} / {m.usage.hurt}
      </dd>
      <dt>support</dt>
      <dd>{m.usage.support}</dd>
      <dt>utility</dt>
      <dd>
        prior {formatScore(m.utility.prior)} · verified {formatScore(m.utility.verified)}
      </dd>
      <dt>effect</dt>
      <dd data-field="effect">
        {effect.difference === null
          ? effect.withheld === 0
            ? "not yet withheld by an ablation shadow (the bank's ablationRate)"
            : `withheld by ${effect.withheld} ablation shadows, none judged against ground truth yet`
          : `${formatSigned(effect.difference)} points of accuracy when shown rather than withheld ` +
            `(95% interval ${formatSigned(effect.low)} to ${formatSigned(effect.high)}, ${effect.judged} judged pairs)`}
      </dd>
      <dt>created</dt>
      <dd>{formatDate(m.createdAt)}</dd>
    </dl>
    {Object.keys(m.verificationDetail).length > 0 ? (
      <details>
        <summary>verification detail</summary>
        <pre>{JSON.stringify(m.verificationDetail, null, 2)}</pre>
      </details>
    ) : null}
    <h2>Recalled by</h2>
    {m.recalledBy.length === 0 ? (
      <p class="muted">No run has recalled it yet.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>run</th>
            <th class="num">rank</th>
            <th class="num">final score</th>
            <th>verdict</th>
            <th>when</th>
          </tr>
        </thead>
        <tbody>
          {m.recalledBy.map((r) => (
            <tr data-recalled-by={r.runId}>
              <td>
                <a href={`/runs/${r.runId}`}>{r.runId}</a>
              </td>
              <td class="num">{r.rank}</td>
              <td class="num">{formatScore(r.finalScore)}</td>
              <td>
                <Verdict verdict={r.verdict} />
              </td>
              <td class="small">{formatDate(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);
