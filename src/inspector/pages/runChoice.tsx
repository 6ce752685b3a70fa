import type { FC } from "hono/jsx";
import type { StrategyRecord } from "../../reasoning/runs.js";
import { formatScore } from "../format.js";

/** How a run picked its answer: universal selection's pick and reason, or CoT-decoding's paths and margins. */
export const RunChoice: FC<{ strategy: StrategyRecord }> = ({ strategy }) => {
  const { selection, decoding } = strategy;
  return (
    <>
      {selection ? (
        <>
          <dt>selection</dt>
          <dd data-field="selection">
            universal self-consistency:{" "}
            {selection.unanimous
              ? `all ${selection.of} samples gave the same answer (no call)`
              : `sample #${selection.sample}, ${selection.agreeing} of ${selection.of} samples agree`}
            {selection.reason ? <div class="muted small">“{selection.reason}”</div> : null}
            {selection.fallback ? <div data-field="selection-fallback">{selection.fallback}</div> : null}
          </dd>
        </>
      ) : null}
      {decoding ? (
        <>
          <dt>decoding</dt>
          <dd data-field="decoding">
            CoT-decoding over {decoding.paths.length} of {decoding.branches} first-token branches
            {decoding.chosenSample === undefined
              ? "; no path gave an answer"
              : `; path #${decoding.chosenSample} picked`}
            <table>
              <thead>
                <tr>
                  <th>path</th>
                  <th>first token</th>
                  <th class="num">its p</th>
                  <th class="num">answer margin</th>
                </tr>
              </thead>
              <tbody>
                {decoding.paths.map((p) => (
                  <tr data-field="path" data-margin={p.margin === undefined ? "" : String(p.margin)}>
                    <td>#{p.sample}</td>
                    <td>
                      <code>{p.firstToken}</code>
                    </td>
                    <td class="num">{formatScore(p.firstTokenProbability)}</td>
                    <td class="num">{p.margin === undefined ? "–" : formatScore(p.margin)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </dd>
        </>
      ) : null}
    </>
  );
};
