import type { FC } from "hono/jsx";
import type { Bank } from "../../memory/banks.js";
import type { MemoryFilter, MemoryPage } from "../../memory/browseMemories.js";
import { MEMORY_STATUSES } from "../../memory/trust.js";
import { excerpt } from "../format.js";
import { Layout } from "../layout.js";

/** A bank's memories, newest first, with a text search and a status filter. */
export const MemoriesPage: FC<{ bank: Bank; page: MemoryPage; filter: MemoryFilter }> = ({
  bank,
  page,
  filter,
}) => {
  const query = { ...(filter.q ? { q: filter.q } : {}), ...(filter.status ? { status: filter.status } : {}) };
  return (
    <Layout title={`${bank.id} memories`}>
      <h1>
        Memories of <a href={`/banks/${bank.id}`}>{bank.id}</a>
      </h1>
      <form class="search" method="get" action={`/banks/${bank.id}/memories`}>
        <input
          type="search"
          name="q"
          value={filter.q ?? ""}
          placeholder="search problems, reasoning, answers"
          aria-label="search memories"
        />
        <select name="status" aria-label="status">
          <option value="">any status</option>
          {MEMORY_STATUSES.map((s) => (
            <option value={s} selected={s === filter.status}>
              {s}
            </option>
          ))}
        </select>
        <button type="submit">Search</button>
      </form>
      {page.memories.length === 0 ? (
        <p class="muted">No memory matches.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>problem</th>
              <th>answer</th>
              <th>verification</th>
              <th>status</th>
              <th class="num">recalled</th>
              <th class="num">helped</th>
              <th class="num">hurt</th>
            </tr>
          </thead>
          <tbody>
            {page.memories.map((m) => (
              <tr data-memory={m.id}>
                <td>
                  <a href={`/banks/${bank.id}/memories/${m.id}`}>{excerpt(m.problem, 120)}</a>
                </td>
                <td>{m.answer}</td>
                <td>{m.verification}</td>
                <td>{m.status}</td>
                <td class="num">{m.usage.recalled}</td>
                <td class="num">{m.usage.helped}</td>
                <td class="num">{m.usage.hurt}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.nextCursor ? (
        <p>
          <a
            href={`/banks/${bank.id}/memories?${new URLSearchParams({ ...query, cursor: page.nextCursor })}`}
          >
            older memories →
          </a>
        </p>
      ) : null}
    </Layout>
  );
};
