import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { queryRows } from "../src/db/database.js";
import { banks, memories, memoryRemovals } from "../src/db/schema.js";
import { problemHash } from "../src/memory/problemHash.js";
import { createRecordsCache, type RecordsCache } from "../src/memory/recordsCache.js";
import { CANDIDATE_COLUMN_NAMES, type CandidateRow, candidateRows } from "../src/memory/store.js";
import { bankWithProblems, type TestContext, useTestContext } from "./support/context.js";
import { TEST_DATABASE } from "./support/database.js";

const problems = Array.from({ length: 40 }, (_, i) => ({
  problem: `Ann has ${i + 3} apples and buys ${2 * i + 1} more. How many apples does she have now?`,
  answer: String(3 * i + 4),
}));

const byId = (rows: CandidateRow[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));

async function idsOf(ctx: TestContext, bankId: string): Promise<string[]> {
  const rows = await ctx.db.select({ id: memories.id }).from(memories).where(eq(memories.bankId, bankId));
  return rows.map((r) => r.id).sort();
}

/** The bank of `problems`, and a cache that has loaded it (a bank is loaded at its second recall). */
async function loadedCache(ctx: TestContext): Promise<{ ids: string[]; cache: RecordsCache }> {
  await bankWithProblems(ctx, { id: "apples", domain: "number" }, problems);
  const ids = await idsOf(ctx, "apples");
  const cache = createRecordsCache();
  await both(ctx, cache, ids);
  await both(ctx, cache, ids);
  return { ids, cache };
}

/** What the cache answers and what the database answers, for the same question. */
async function both(ctx: TestContext, cache: RecordsCache, ids: string[], problem = "no such problem") {
  const input = { db: ctx.db, bankId: "apples", ids, hash: problemHash(problem), bankSize: problems.length };
  return {
    cached: byId(await cache.candidates(input)),
    stored: byId(await candidateRows(ctx.db, "apples", ids, input.hash)),
  };
}

describe("candidate records kept in process", () => {
  const t = useTestContext();

  it("answers what the database answers, ids and the exact problem alike", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "apples", domain: "number" }, problems);
    const ids = await idsOf(ctx, "apples");
    const cache = createRecordsCache();
    for (const [i, pick] of [ids.slice(0, 5), ids.slice(10, 30), [], ids].entries()) {
      const { cached, stored } = await both(
        ctx,
        cache,
        pick,
        (problems[i * 7] as { problem: string }).problem,
      );
      expect(cached).toEqual(stored);
      expect(cached.length).toBeGreaterThan(0);
    }
    expect(cache.size).toBe(problems.length);
  });

  it("loads a bank at its second recall, not its first", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "apples", domain: "number" }, problems);
    const ids = await idsOf(ctx, "apples");
    const cache = createRecordsCache();
    await both(ctx, cache, ids.slice(0, 3));
    expect(cache.size).toBe(0);
    await both(ctx, cache, ids.slice(0, 3));
    expect(cache.size).toBe(problems.length);
  });

  it("sees every change any writer makes to the records: status, trust, credit, a new memory", async () => {
    const ctx = t.ctx();
    const { ids, cache } = await loadedCache(ctx);
    // written past the cache, as another process would
    await ctx.db
      .update(memories)
      .set({ status: "retired" })
      .where(eq(memories.id, ids[0] as string));
    await ctx.db
      .update(memories)
      .set({ trust: 1 })
      .where(eq(memories.id, ids[1] as string));
    await ctx.db
      .update(memories)
      .set({ recalledCount: 9, helpedCount: 7 })
      .where(eq(memories.id, ids[2] as string));
    const fresh = "Bo has 5 pears and eats 2. How many pears are left?";
    await ctx.db.insert(memories).values({
      id: "mem_fresh",
      bankId: "apples",
      problem: fresh,
      answer: "3",
      answerCanonical: "3",
      problemHash: problemHash(fresh),
      source: "import",
      verification: "gold",
      trust: 3,
    });
    const { cached, stored } = await both(ctx, cache, ids.slice(0, 3), fresh);
    expect(cached).toEqual(stored);
    const seen = new Map(cached.map((r) => [r.id, r]));
    expect(seen.get(ids[0] as string)?.status).toBe("retired");
    expect(seen.get(ids[1] as string)?.trust).toBe(1);
    expect(seen.get(ids[2] as string)).toMatchObject({ recalledCount: 9, helpedCount: 7 });
    expect(seen.get("mem_fresh")?.answer).toBe("3");
  });

  it("forgets a memory deleted from the records", async () => {
    const ctx = t.ctx();
    const { ids, cache } = await loadedCache(ctx);
    const gone = ids[4] as string;
    const goneProblem = (await ctx.db.select().from(memories).where(eq(memories.id, gone)))[0]?.problem;
    await ctx.db.delete(memories).where(eq(memories.id, gone));
    const { cached, stored } = await both(ctx, cache, ids, goneProblem);
    expect(cached).toEqual(stored);
    expect(cached.map((r) => r.id)).not.toContain(gone);
    expect(cache.size).toBe(problems.length - 1);
  });

  it("starts over for a bank dropped and made again under the same id", async () => {
    const ctx = t.ctx();
    const { ids: before, cache } = await loadedCache(ctx);
    await ctx.db.delete(banks).where(eq(banks.id, "apples"));
    // the bank's own deletion leaves no removals behind: nothing would ever read them
    expect(await ctx.db.select().from(memoryRemovals)).toEqual([]);
    await bankWithProblems(ctx, { id: "apples", domain: "number" }, problems.slice(0, 10));
    const after = await idsOf(ctx, "apples");
    const { cached, stored } = await both(ctx, cache, [...before, ...after]);
    expect(cached).toEqual(stored);
    expect(cached.map((r) => r.id).sort()).toEqual(after);
  });

  it("keeps nothing of a bank larger than its limit, and still answers", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "apples", domain: "number" }, problems);
    const ids = await idsOf(ctx, "apples");
    const cache = createRecordsCache({ limit: 10 });
    for (let i = 0; i < 3; i++) {
      const { cached, stored } = await both(ctx, cache, ids.slice(0, 8));
      expect(cached).toEqual(stored);
    }
    expect(cache.size).toBe(0);
  });

  it("is told of changes to every column recall reads", async () => {
    const ctx = t.ctx();
    const watched = await queryRows<{ column: string }>(
      ctx.db,
      sql`select event_object_column as column from information_schema.triggered_update_columns
          where trigger_name = 'memories_changed_xid'`,
    );
    const expected = CANDIDATE_COLUMN_NAMES.filter((c) => c !== "id");
    expect(watched.map((r) => r.column).sort()).toEqual([...expected].sort());
  });

  it.runIf(TEST_DATABASE === "postgres")(
    "sees a change whose transaction began before a refresh and committed after it",
    async () => {
      const ctx = t.ctx();
      const { ids, cache } = await loadedCache(ctx);
      const { target } = t.database();
      if (target.kind !== "postgres") throw new Error("a second connection needs a Postgres server");
      const other = postgres(target.url, { max: 1, onnotice: () => {} });
      try {
        let release: () => void = () => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let written: () => void = () => {};
        const wrote = new Promise<void>((resolve) => {
          written = resolve;
        });
        const slow = other.begin(async (tx) => {
          await tx`update memories set status = 'retired' where id = ${ids[0] as string}`;
          written();
          await held;
        });
        await wrote;
        // a later transaction commits meanwhile: the highest finished one is now past the one in flight
        await ctx.db
          .update(memories)
          .set({ trust: 1 })
          .where(eq(memories.id, ids[1] as string));
        // refreshed while the first write is in flight: its watermark must stay below that transaction
        const during = await both(ctx, cache, ids.slice(0, 2));
        expect(during.cached.map((r) => [r.status, r.trust])).toEqual(
          during.stored.map((r) => [r.status, r.trust]),
        );
        expect(during.cached.find((r) => r.id === ids[0])?.status).toBe("active");
        release();
        await slow;
        const { cached, stored } = await both(ctx, cache, ids.slice(0, 1));
        expect(stored[0]?.status).toBe("retired");
        expect(cached).toEqual(stored);
      } finally {
        await other.end();
      }
    },
  );
});
