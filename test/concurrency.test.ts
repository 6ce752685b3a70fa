import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/database.js";
import { problemHash } from "../src/memory/problemHash.js";
import { createModelClient } from "../src/reasoning/model.js";
import { solve } from "../src/reasoning/pipeline.js";
import type { SolveResult } from "../src/reasoning/solveResult.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const SEEDED = [
  { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  { problem: "A farm has 7 rows of 8 trees. How many trees?", answer: "56", reasoning: "7 * 8 = 56" },
];
const CHAIN = "6 * 9 = 54\n#### 54";

async function setUp(options: {
  latencyMs: number;
  concurrency?: number;
  timeoutMs?: number;
  maxRetries?: number;
}) {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: CHAIN }, latencyMs: options.latencyMs });
  const ctx = t.ctx();
  ctx.model = createModelClient({
    name: "fake-model",
    baseURL: fake.url,
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries ?? 0,
  });
  const bank = await bankWithProblems(ctx, { id: "arith", domain: "number" }, SEEDED);
  return { ctx, bank, fake };
}

describe("many solves at once on one bank", () => {
  it("writes one memory per problem however many solve it at once, and every counter adds up", async () => {
    const { ctx, bank } = await setUp({ latencyMs: 200, concurrency: 32 });
    const queries = [
      "Kai has 6 boxes of 9 pens. How many pens?",
      "A park has 6 rows of 9 trees. How many trees?",
    ];
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        solve({ ctx, bank, query: queries[i % 2] as string, options: { samples: 4, gold: "54" } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(16).fill("completed"));
    expect(results.map((r) => r.verdict)).toEqual(Array(16).fill("correct"));

    for (const query of queries) {
      const mine = results.filter((_, i) => queries[i % 2] === query);
      const [row] = await queryRows<{ n: number; support: number }>(
        ctx.db,
        sql`select count(*)::int as n, sum(support_count)::int as support from memories
            where bank_id = ${bank.id} and problem_hash = ${problemHash(query)}`,
      );
      // one memory, and each of the other solves added its support to it
      expect(row).toEqual({ n: 1, support: 8 });
      expect(mine.filter((r) => r.writtenMemory?.action === "created")).toHaveLength(1);
      expect(mine.filter((r) => r.writtenMemory?.action === "supported")).toHaveLength(7);
    }

    // every recall counted once, every verified outcome credited once
    const [counts] = await queryRows<Record<string, number>>(
      ctx.db,
      sql`select
            (select coalesce(sum(recalled_count), 0)::int from memories) as recalled,
            (select coalesce(sum(helped_count), 0)::int from memories) as helped,
            (select coalesce(sum(hurt_count), 0)::int from memories) as hurt,
            (select count(*)::int from run_recalls) as recalls,
            (select count(*)::int from run_recalls rr join runs r on r.id = rr.run_id
               where r.verdict = 'correct') as "rightRecalls"`,
    );
    expect(counts?.recalls).toBe(results.reduce((n, r) => n + r.recalled.length, 0));
    expect(counts).toMatchObject({ recalled: counts?.recalls, helped: counts?.rightRecalls, hurt: 0 });
  });

  it("keeps at most the configured number of model requests in flight, queueing the rest", async () => {
    const { ctx, bank, fake } = await setUp({ latencyMs: 200, concurrency: 3 });
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        solve({
          ctx,
          bank,
          query: `Kai has ${i + 2} boxes of 9 pens. How many pens?`,
          options: { samples: 4 },
        }),
      ),
    );
    expect(results.every((r) => r.status === "completed")).toBe(true);
    expect(fake.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(9);
    expect(fake.maxInFlight()).toBe(3);
  });
});

describe("a model that fails", () => {
  it("yields a failed run naming the timeout when the model does not answer in time, after its retries", async () => {
    const { ctx, bank, fake } = await setUp({ latencyMs: 3_000, timeoutMs: 200, maxRetries: 1 });
    const result: SolveResult = await solve({
      ctx,
      bank,
      query: "Kai has 6 boxes of 9 pens. How many pens?",
      options: { samples: 4 },
    });
    expect(result.status).toBe("failed");
    expect(result.reason).toMatch(/model endpoint failed: .*timed out/i);
    // the first try and one retry
    expect(fake.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(2);
    const [run] = await queryRows<{ status: string; error: string }>(
      ctx.db,
      sql`select status, error from runs where id = ${result.runId}`,
    );
    expect(run?.status).toBe("failed");
    expect(run?.error).toBe(result.reason);
  });

  it("retries server errors with backoff and fails the run with the endpoint's status once retries run out", async () => {
    const { ctx, bank, fake } = await setUp({ latencyMs: 0, maxRetries: 2 });
    fake.failNext(3, 503);
    const failed = await solve({ ctx, bank, query: "Kai has 6 boxes of 9 pens. How many pens?" });
    expect(failed.status).toBe("failed");
    expect(failed.reason).toContain("503");
    expect(fake.requests).toHaveLength(3);

    // one failure fewer than the retries allow: the solve goes through
    fake.failNext(2, 503);
    const recovered = await solve({ ctx, bank, query: "Kai has 7 boxes of 9 pens. How many pens?" });
    expect(recovered.status).toBe("completed");
  });
});
