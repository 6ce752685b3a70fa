import type { FC } from "hono/jsx";
import { RECALL_SIGNALS, type RecallScores } from "../../memory/recallResult.js";
import type { VoteResult } from "../../reasoning/vote.js";
import { excerpt, formatMs, formatPercent, formatScore } from "../format.js";
import { Layout, Verdict } from "../layout.js";
import type { RunView } from "../loadRun.js";
import { RunChoice } from "./runChoice.js";
import { VoteChart } from "./voteChart.js";

const SCORE_NAMES: (keyof RecallScores)[] = [...RECALL_SIGNALS, "utility", "final"];

/** A recalled memory's score breakdown; each value also rides in a data attribute, unrounded. */
const Scores: FC<{ scores: RecallScores }> = ({ scores }) => (
  <dl class="scores">
    {SCORE_NAMES.map((name) => (
      <>
        <dt>{name}</dt>
        <dd data-score={name} data-value={String(scores[name])}>
          {scores[name] === null ? "–" : formatScore(scores[name] as number)}
        </dd>
      </>
    ))}
  </dl>
);

type Message = { role?: string; content?: unknown };

function messageText(message: Message): string {
  if (typeof message.content === "string") return message.content;
  return JSON.stringify(message.content ?? "");
}

/** One run: what was asked, what was recalled and why, the exact prompt, every sample, the vote and verdict. */
export const RunPage: FC<{ view: RunView }> = ({ view: { run, recalled } }) => {
  const votes = run.votes as Partial<VoteResult> & { memoryHit?: string };
  const detail = run.verificationDetail as {
    reason?: string;
    verdicts?: { verifier: string; verdict: string; reason: string }[];
  };
  return (
    <Layout title={`run ${run.id}`}>
      <h1>
        Run <code>{run.id}</code>
      </h1>
      <p class="small">
        bank <a href={`/banks/${run.bankId}`}>{run.bankId}</a> · {run.status}
        {run.model ? ` · model ${run.model}` : ""}
      </p>
      <h2>Query</h2>
      <pre data-field="query">{run.query}</pre>
      <dl class="facts">
        <dt>answer</dt>
        <dd data-field="answer">{run.answer ?? "–"}</dd>
        <dt>confidence</dt>
        <dd>{formatPercent(run.confidence)}</dd>
        <dt>verdict</dt>
        <dd>
          <Verdict verdict={run.verdict} /> by <span data-field="verification">{run.verification}</span>
          {detail.reason ? `: ${detail.reason}` : ""}
        </dd>
        {run.error ? (
          <>
            <dt>error</dt>
            <dd>{run.error}</dd>
          </>
        ) : null}
        {run.strategy ? (
          <>
            <dt>strategy</dt>
            <dd data-field="strategy">
              {run.strategy.name}
              {run.strategy.fallback
                ? ` (the fallback: recall found nothing to show for ${run.strategy.asked})`
                : ""}
            </dd>
            {run.strategy.abstraction ? (
              <>
                <dt>principle</dt>
                <dd>
                  <pre data-field="abstraction">{run.strategy.abstraction.text}</pre>
                  <span class="muted small">
                    stated first, on a step back ({run.strategy.abstraction.completionTokens} tokens)
                  </span>
                </dd>
              </>
            ) : null}
            {run.strategy.analogies && run.strategy.analogies.length > 0 ? (
              <>
                <dt>own problems</dt>
                <dd>
                  {run.strategy.analogies.map((a) => (
                    <details data-field="analogies">
                      <summary>sample #{a.sample}: the problems it wrote and solved first</summary>
                      <pre>{a.text}</pre>
                    </details>
                  ))}
                </dd>
              </>
            ) : null}
            <RunChoice strategy={run.strategy} />
          </>
        ) : null}
        {run.shadow ? (
          <>
            <dt>shadow of</dt>
            <dd data-field="shadow-of">
              <a href={`/runs/${run.shadow.of}`}>{run.shadow.of}</a> ·{" "}
              {run.shadow.kind === "control"
                ? "the same query without recalled examples (a control)"
                : `the same query with memory ${String(run.params.withheld)} withheld (an ablation)`}
            </dd>
          </>
        ) : null}
        {run.shadows && run.shadows.length > 0 ? (
          <>
            <dt>shadow runs</dt>
            <dd data-field="shadows">
              {run.shadows.map((s, i) => (
                <>
                  {i > 0 ? " · " : ""}
                  <a href={`/runs/${s.id}`}>{s.id}</a> ({s.kind})
                </>
              ))}
            </dd>
          </>
        ) : null}
        <dt>memory written</dt>
        <dd>
          {run.writtenMemoryId ? (
            <a href={`/banks/${run.bankId}/memories/${run.writtenMemoryId}`} data-field="written-memory">
              {run.writtenMemoryId}
            </a>
          ) : (
            "none"
          )}
        </dd>
        <dt>timings</dt>
        <dd class="small">
          {Object.entries(run.timings)
            .map(([k, v]) => `${k.replace(/Ms$/, "")} ${formatMs(v)}`)
            .join(" · ")}
        </dd>
        <dt>usage</dt>
        <dd class="small">
          {Object.entries(run.usage)
            .map(([k, v]) => `${k} ${v}`)
            .join(" · ") || "–"}
        </dd>
      </dl>

      <h2>Recalled memories ({run.recalls.length})</h2>
      {run.recalls.length === 0 ? (
        <p class="muted">Nothing was recalled: the prompt had no worked examples.</p>
      ) : (
        <div class="cards">
          {run.recalls.map((r) => {
            const memory = recalled.get(r.memoryId);
            return (
              <article class="card" data-recall={r.memoryId} data-rank={String(r.rank)}>
                <h3>
                  #{r.rank}{" "}
                  <a href={`/banks/${run.bankId}/memories/${r.memoryId}`} data-memory-link={r.memoryId}>
                    {r.memoryId}
                  </a>
                </h3>
                {memory ? (
                  <>
                    <div>{excerpt(memory.problem, 160)}</div>
                    <div class="small muted">
                      answer {memory.answer} · {memory.verification} · {memory.status}
                    </div>
                  </>
                ) : (
                  <div class="muted">(no longer stored)</div>
                )}
                <Scores scores={r.scores} />
              </article>
            );
          })}
        </div>
      )}

      <h2>Prompt ({run.prompt.length} messages)</h2>
      <details>
        <summary>the exact messages sent to the model</summary>
        {(run.prompt as Message[]).map((m, i) => (
          <div data-message={String(i)}>
            <div class="small muted">{m.role}</div>
            <pre>{messageText(m)}</pre>
          </div>
        ))}
      </details>

      <h2>Samples ({run.samples.length})</h2>
      {run.samples.length === 0 ? (
        <p class="muted">{votes.memoryHit ? "Answered from memory without sampling." : "No samples."}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th class="num">#</th>
              <th>answer</th>
              <th class="num">confidence</th>
              <th class="num">tokens</th>
              <th>chain of thought</th>
            </tr>
          </thead>
          <tbody>
            {run.samples.map((s) => (
              <tr data-sample={String(s.index)}>
                <td class="num">{s.index}</td>
                <td>{s.answer ?? <span class="muted">none</span>}</td>
                <td class="num">{s.confidence === undefined ? "–" : formatScore(s.confidence)}</td>
                <td class="num">{s.tokens}</td>
                <td>
                  <details>
                    <summary>{excerpt(s.text, 80)}</summary>
                    <pre>{s.text}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Vote</h2>
      {votes.tallies && votes.tallies.length > 0 ? (
        <>
          <VoteChart tallies={votes.tallies} winner={votes.winner?.answer} />
          <p class="small muted">
            {votes.weighted ? "weighted by each sample's answer-token confidence" : "one sample, one vote"} ·{" "}
            {votes.voters} voters
          </p>
        </>
      ) : (
        <p class="muted">No vote.</p>
      )}

      <h2>Verification</h2>
      {detail.verdicts && detail.verdicts.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>verifier</th>
              <th>verdict</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {detail.verdicts.map((v) => (
              <tr data-verifier={v.verifier}>
                <td>{v.verifier}</td>
                <td>{v.verdict}</td>
                <td>{v.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">{detail.reason ?? "No verifier spoke."}</p>
      )}
    </Layout>
  );
};
