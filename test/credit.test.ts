import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { memories } from "../src/db/schema.js";
import { creditRecalls, RETIRE_MIN_VERIFIED_USES, type RunOutcome } from "../src/memory/credit.js";
import { bankWithProblems, useTestContext } from "./support/context.js";

const t = useTestContext();

const problems = [
  {
    problem: "Ann has 3 apples and buys 4 more. How many apples does she have?",
    answer: "7",
    verification: "consensus" as const,
  },
  {
    problem: "Bo has 10 pens and loses 2. How many pens are left?",
    answer: "8",
    verification: "gold" as const,
  },
];

async function rows() {
  return t.ctx().db.select().from(memories).orderBy(memories.problem);
}

describe("crediting recalled memories", () => {
  it("adds up exactly under concurrent runs: no update is lost", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "credit", domain: "number" }, problems);
    const ids = (await rows()).map((r) => r.id);
    const outcomes = Array.from(
      { length: 40 },
      (_, i): RunOutcome => (i % 4 === 0 ? "hurt" : i % 4 === 1 ? "unknown" : "helped"),
    );
    await Promise.all(
      outcomes.map((outcome) => creditRecalls({ ctx, memoryIds: ids, outcome, recalled: true })),
    );
    for (const r of await rows()) {
      expect(r.recalledCount).toBe(40);
      expect(r.helpedCount).toBe(20);
      expect(r.hurtCount).toBe(10);
    }
  });

  it("credits a later verdict without counting another recall", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "credit", domain: "number" }, problems);
    const ids = (await rows()).map((r) => r.id);
    await creditRecalls({ ctx, memoryIds: ids, outcome: "unknown", recalled: true });
    await creditRecalls({ ctx, memoryIds: ids, outcome: "helped", recalled: false });
    expect((await rows()).map((r) => [r.recalledCount, r.helpedCount])).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
});

describe("retiring memories that keep hurting", () => {
  it("retires a memory whose verified runs keep going wrong, removes it from the index, and spares gold", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "credit", domain: "number" }, problems);
    const ids = (await rows()).map((r) => r.id);
    let retired: string[] = [];
    for (let i = 0; i < RETIRE_MIN_VERIFIED_USES; i++) {
      retired = await creditRecalls({ ctx, memoryIds: ids, outcome: "hurt", recalled: true });
      if (i < RETIRE_MIN_VERIFIED_USES - 1) expect(retired).toEqual([]);
    }
    const [consensus, gold] = await Promise.all(
      (["consensus", "gold"] as const).map(
        async (v) => (await ctx.db.select().from(memories).where(eq(memories.verification, v)))[0],
      ),
    );
    expect(retired).toEqual([consensus?.id]);
    expect(consensus?.status).toBe("retired");
    expect(gold?.status).toBe("active");
    expect(await ctx.index.ids("credit")).toEqual([gold?.id]);
  });

  it("keeps a memory that helps as often as it hurts", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "credit", domain: "number" }, problems.slice(0, 1));
    const ids = (await rows()).map((r) => r.id);
    for (let i = 0; i < 10; i++) {
      await creditRecalls({ ctx, memoryIds: ids, outcome: i % 2 ? "hurt" : "helped", recalled: true });
    }
    const current = await ctx.db.select().from(memories).where(inArray(memories.id, ids));
    expect(current[0]?.status).toBe("active");
  });
});
