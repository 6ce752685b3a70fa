import type { FC } from "hono/jsx";
import type { BankStats } from "../../memory/bankStats.js";
import type { Bank } from "../../memory/banks.js";
import type { BankImpact } from "../../reasoning/impact.js";
import type { RunPage } from "../../reasoning/listRuns.js";
import { RUN_VERDICTS } from "../../reasoning/runVocabulary.js";
import { excerpt, formatDate, formatMs, formatPercent } from "../format.js";
import { Layout, Verdict } from "../layout.js";
import { ImpactPanel } from "./impactPanel.js";

/** A bank: its figures, a search box over its memories and its runs, newest first. */
export const BankPage: FC<{
  bank: Bank;
  stats: BankStats;
  impact: BankImpact;
  runs: RunPage;
  verdict?: string;
}> = ({ bank, stats, impact, runs, verdict }) => (
  <Layout title={bank.id}>
    <h1>
      Bank {bank.id} <span class="tag">{bank.domain}</span>
    </h1>
    {bank.description ? <p>{bank.description}</p> : null}
    <dl class="facts">
      <dt>memories</dt>
      <dd>
        {Object.entries(stats.memories.byStatus)
          .map(([status, n]) => `${n} ${status}`)
          .join(" · ")}
      </dd>
      <dt>verification</dt>
      <dd>
        {Object.entries(stats.memories.byVerification)
          .filter(([, n]) => n > 0)
          .map(([v, n]) => `${n} ${v}`)
          .join(" · ") || "–"}
      </dd>
      <dt>runs</dt>
      <dd>
        {stats.runs.total} (
        {Object.entries(stats.runs.byVerdict)
          .map(([v, n]) => `${n} ${v}`)
          .join(" · ")}
        )
      </dd>
      <dt>accuracy</dt>
      <dd data-figure="accuracy">
        {stats.runs.groundTruth.n === 0
          ? "no run judged against ground truth yet (gold, a checker or feedback)"
          : `${formatPercent(stats.runs.accuracy)} of ${stats.runs.groundTruth.n} judged against ground truth ` +
            `(95% interval ${formatPercent(stats.runs.groundTruth.low)}–${formatPercent(stats.runs.groundTruth.high)})`}
      </dd>
      <dt>consensus rate</dt>
      <dd data-figure="consensus">
        {formatPercent(stats.runs.consensusRate)} of completed runs accepted on agreement among samples alone
        (not accuracy: no ground truth)
      </dd>
    </dl>

    <ImpactPanel bankId={bank.id} impact={impact} />

    <h2>Memories</h2>
    <form class="search" method="get" action={`/banks/${bank.id}/memories`}>
      <input
        type="search"
        name="q"
        placeholder="search problems, reasoning, answers"
        aria-label="search memories"
      />
      <button type="submit">Search</button>
    </form>

    <h2>Runs</h2>
    <form class="search" method="get" action={`/banks/${bank.id}`}>
      <label>
        verdict{" "}
        <select name="verdict">
          <option value="">any</option>
          {RUN_VERDICTS.map((v) => (
            <option value={v} selected={v === verdict}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
    {runs.runs.length === 0 ? (
      <p class="muted">No runs{verdict ? ` with verdict ${verdict}` : ""}.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>when</th>
            <th>query</th>
            <th>answer</th>
            <th>verdict</th>
            <th class="num">confidence</th>
            <th class="num">latency</th>
          </tr>
        </thead>
        <tbody>
          {runs.runs.map((run) => (
            <tr data-run={run.id}>
              <td class="small">
                <a href={`/runs/${run.id}`}>{formatDate(run.createdAt)}</a>
              </td>
              <td>{excerpt(run.query, 110)}</td>
              <td>{run.answer ?? "–"}</td>
              <td>
                <Verdict verdict={run.verdict} /> <span class="muted small">{run.verification}</span>
              </td>
              <td class="num">{formatPercent(run.confidence)}</td>
              <td class="num">{formatMs(run.latencyMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    {runs.nextCursor ? (
      <p>
        <a
          href={`/banks/${bank.id}?${new URLSearchParams({ ...(verdict ? { verdict } : {}), cursor: runs.nextCursor })}`}
        >
          older runs →
        </a>
      </p>
    ) : null}
  </Layout>
);
