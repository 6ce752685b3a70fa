import type { FC } from "hono/jsx";
import type { BankStats } from "../../memory/bankStats.js";
import type { Bank } from "../../memory/banks.js";
import { formatPercent } from "../format.js";
import { Layout } from "../layout.js";

/** Every bank the caller may read, with its figures. */
export const BanksPage: FC<{ banks: { bank: Bank; stats: BankStats }[] }> = ({ banks }) => (
  <Layout title="Banks">
    <h1>Banks</h1>
    {banks.length === 0 ? (
      <p class="muted">No bank yet: seed one with `precedent seed &lt;bank&gt; --from gsm8k`.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>bank</th>
            <th>domain</th>
            <th class="num">active memories</th>
            <th class="num">quarantined</th>
            <th class="num">retired</th>
            <th class="num">runs</th>
            <th class="num">accuracy (ground truth)</th>
            <th class="num">consensus rate</th>
          </tr>
        </thead>
        <tbody>
          {banks.map(({ bank, stats }) => (
            <tr data-bank={bank.id}>
              <td>
                <a href={`/banks/${bank.id}`}>{bank.id}</a>
                {bank.description ? <div class="muted small">{bank.description}</div> : null}
              </td>
              <td>{bank.domain}</td>
              <td class="num">{stats.memories.byStatus.active ?? 0}</td>
              <td class="num">{stats.memories.byStatus.quarantined ?? 0}</td>
              <td class="num">{stats.memories.byStatus.retired ?? 0}</td>
              <td class="num">{stats.runs.total}</td>
              <td class="num">
                {formatPercent(stats.runs.accuracy)}
                {stats.runs.groundTruth.n > 0 ? (
                  <span class="muted small"> of {stats.runs.groundTruth.n}</span>
                ) : null}
              </td>
              <td class="num">{formatPercent(stats.runs.consensusRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);
