import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { formatImpact } from "../src/cli/commands/impact.js";
import { memories, runs } from "../src/db/schema.js";
import type { NewBank } from "../src/memory/banks.js";
import { trustOf } from "../src/memory/trust.js";
import type { BankImpact } from "../src/reasoning/impact.js";
import { createModelClient } from "../src/reasoning/model.js";
import { createShadowRunner } from "../src/reasoning/shadowRunner.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { messageText } from "./support/fakeOpenAI/behaviors.js";
import { seededRng } from "./support/fakeOpenAI/random.js";
import type { ChatBehavior } from "./support/fakeOpenAI.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";
import {
  EXAMPLE_AWARE,
  familyOf,
  familyStream,
  PROMPT_INDEPENDENT,
  type Problem,
  SEEDED,
} from "./support/familyProblems.js";

const t = useTestContext();
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** A bank of `problems` served by an app whose shadow runner draws from a seeded source. */
async function served(bank: NewBank, problems: Problem[] | { problem: string; answer: string }[]) {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  ctx.shadows = createShadowRunner({ log: ctx.log, random: seededRng("shadows", bank.id) });
  await bankWithProblems(ctx, bank, problems);
  const app = createApp(ctx);
  const solve = async (body: Record<string, unknown>) => {
    const response = await app.request(`/v1/banks/${bank.id}/solve`, post(body));
    expect(response.status).toBe(200);
    return (await response.json()) as { runId: string; answer?: string; verdict: string };
  };
  // the fake model's random draws follow its request count: a solve whose shadows end before the next
  // solve starts sends the same requests in the same order on every run
  const solveSettled = async (body: Record<string, unknown>) => {
    const result = await solve(body);
    await ctx.shadows?.drained();
    return result;
  };
  const impact = async () => {
    await ctx.shadows?.drained();
    const response = await app.request(`/v1/banks/${bank.id}/impact`);
    expect(response.status).toBe(200);
    return (await response.json()) as BankImpact;
  };
  return { ctx, app, solve, solveSettled, impact };
}

// problems of the seeded bank's three families the bank has not seen, with their gold answers
const TRAFFIC = familyStream([0, 1, 2], 8, 20);
const APPLES = familyStream([0], 30, 40);
const known = new Map([...SEEDED, ...TRAFFIC, ...APPLES].map((p) => [p.problem, p.answer]));
const answerFor = (q: string) => known.get(q) ?? "0";
const wrongAnswer = (q: string) => String(Number(answerFor(q)) + 1);
// right in 0.9 of samples shown an example of the question's family, in 0.25 otherwise
const HELPED: ChatBehavior = { ...EXAMPLE_AWARE, answerFor, wrongAnswer } as ChatBehavior;
// right in 0.4 of samples whatever the prompt
const IGNORING: ChatBehavior = { ...PROMPT_INDEPENDENT, answerFor, wrongAnswer } as ChatBehavior;

describe("shadow control runs", () => {
  it("report a lift whose interval excludes 0 for a model that same-family examples help", async () => {
    fake.setBehavior(HELPED);
    const { app, solveSettled, impact } = await served(
      { id: "helped", domain: "number", settings: { shadowRate: 1 } },
      SEEDED,
    );
    for (const p of TRAFFIC)
      await solveSettled({ query: p.problem, gold: p.answer, samples: 4, adaptive: false });
    const { control } = await impact();
    expect(control.pairs).toBe(TRAFFIC.length);
    expect(control.judged).toBe(TRAFFIC.length);
    expect(control.withMemory.rate).toBeGreaterThan(control.withoutMemory.rate);
    expect(control.lift.difference).toBeGreaterThan(0.3);
    expect(control.lift.low).toBeGreaterThan(0);
    expect(control.pValue).toBeLessThan(0.05);
    expect(control.curve).toHaveLength(TRAFFIC.length);
    // the inspector's bank page and the CLI's text say the same
    const html = await (await app.request("/banks/helped")).text();
    expect(html).toContain('data-panel="impact"');
    expect(html).toContain(`Lift +${(100 * (control.lift.difference as number)).toFixed(1)} points`);
    expect(html).toContain(`data-points="${TRAFFIC.length}"`);
    const text = formatImpact("helped", { control, memories: [] });
    expect(text).toContain(`${TRAFFIC.length} judged against ground truth`);
    expect(text).toContain(`lift +${(100 * (control.lift.difference as number)).toFixed(1)} points`);
  });

  it("report an interval that covers 0 for a model that ignores the prompt", async () => {
    fake.setBehavior(IGNORING);
    const { solveSettled, impact } = await served(
      { id: "ignored", domain: "number", settings: { shadowRate: 1 } },
      SEEDED,
    );
    for (const p of TRAFFIC)
      await solveSettled({ query: p.problem, gold: p.answer, samples: 4, adaptive: false });
    const { control } = await impact();
    expect(control.judged).toBe(TRAFFIC.length);
    expect(control.lift.low).toBeLessThan(0);
    expect(control.lift.high).toBeGreaterThan(0);
    expect(control.pValue).toBeGreaterThan(0.05);
  });

  it("never change the answer, the memories or the credit counters, and are not listed as traffic", async () => {
    // answers that depend on the prompt alone: the fake model's random draws follow its request count,
    // which the shadows' requests move, and the two banks must be given the same answers
    fake.setBehavior({
      kind: "script",
      respond: (r) => {
        const texts = userMessages(r);
        const question = texts.at(-1) as string;
        const shown = texts.slice(0, -1).some((e) => familyOf(e) === familyOf(question));
        return `#### ${shown ? answerFor(question) : wrongAnswer(question)}`;
      },
    });
    const shadowed = await served({ id: "shadowed", domain: "number", settings: { shadowRate: 1 } }, SEEDED);
    const plain = await served({ id: "plain", domain: "number" }, SEEDED);
    for (const p of TRAFFIC.slice(0, 6)) {
      const body = { query: p.problem, gold: p.answer, samples: 4, adaptive: false };
      const [a, b] = [await shadowed.solve(body), await plain.solve(body)];
      expect(a.answer).toBe(b.answer);
      expect(a.verdict).toBe(b.verdict);
      // both banks' next recalls see the memory this one wrote, whatever the indexer's timing
      await shadowed.ctx.indexer?.flush();
      await plain.ctx.indexer?.flush();
    }
    await shadowed.ctx.shadows?.drained();
    const memoryFigures = async (bankId: string) =>
      (
        await shadowed.ctx.db
          .select({
            problem: memories.problem,
            status: memories.status,
            recalled: memories.recalledCount,
            helped: memories.helpedCount,
            hurt: memories.hurtCount,
          })
          .from(memories)
          .where(eq(memories.bankId, bankId))
      ).sort((x, y) => x.problem.localeCompare(y.problem));
    expect(await memoryFigures("shadowed")).toEqual(await memoryFigures("plain"));
    const listed = (await (await shadowed.app.request("/v1/banks/shadowed/runs")).json()) as {
      runs: { id: string }[];
    };
    expect(listed.runs).toHaveLength(6);
    const stored = await shadowed.ctx.db
      .select({ id: runs.id })
      .from(runs)
      .where(eq(runs.bankId, "shadowed"));
    expect(stored).toHaveLength(12);
    const bank = (await (await shadowed.app.request("/v1/banks/shadowed")).json()) as {
      stats: { runs: { total: number } };
    };
    expect(bank.stats.runs.total).toBe(6);
  });

  it("start after the response, link each run to its shadow, and send no examples", async () => {
    fake.setBehavior(HELPED);
    const { ctx, app, solve } = await served(
      { id: "linked", domain: "number", settings: { shadowRate: 1 } },
      SEEDED,
    );
    const p = TRAFFIC[0] as Problem;
    const before = fake.requests.length;
    const run = await solve({ query: p.problem, gold: p.answer, samples: 4, adaptive: false });
    const answeredWith = fake.requests.length - before;
    // nothing of the shadow had reached the model when the response was in hand
    expect(answeredWith).toBeGreaterThan(0);
    const ownRequests = fake.requests.slice(before);
    expect(ownRequests.every((r) => userMessages(r.body).length > 1)).toBe(true);
    await ctx.shadows?.drained();
    const shadowRequests = fake.requests.slice(before + answeredWith);
    expect(shadowRequests.length).toBeGreaterThan(0);
    expect(shadowRequests.every((r) => userMessages(r.body).length === 1)).toBe(true);
    const read = (await (await app.request(`/v1/runs/${run.runId}`)).json()) as {
      shadows: { id: string; kind: string }[];
    };
    expect(read.shadows).toEqual([{ id: expect.stringMatching(/^run_/), kind: "control" }]);
    const shadow = (await (await app.request(`/v1/runs/${read.shadows[0]?.id}`)).json()) as {
      shadow: { of: string; kind: string };
      recalls: unknown[];
      writtenMemoryId?: string;
    };
    expect(shadow.shadow).toEqual({ of: run.runId, kind: "control" });
    expect(shadow.recalls).toEqual([]);
    expect(shadow.writtenMemoryId).toBeUndefined();
    const page = await (await app.request(`/runs/${run.runId}`)).text();
    expect(page).toContain(`href="/runs/${read.shadows[0]?.id}"`);
    const shadowPage = await (await app.request(`/runs/${read.shadows[0]?.id}`)).text();
    expect(shadowPage).toContain('data-field="shadow-of"');
    expect(shadowPage).toContain(`href="/runs/${run.runId}"`);
  });

  it("share the model's concurrency limit with user solves", async () => {
    const slow = await startFakeOpenAI({ behavior: HELPED, latencyMs: 40 });
    try {
      const ctx = t.ctx();
      ctx.model = createModelClient({ name: "fake-model", baseURL: slow.url, maxRetries: 0, concurrency: 2 });
      ctx.shadows = createShadowRunner({ log: ctx.log, random: seededRng("shadows", "gated") });
      await bankWithProblems(ctx, { id: "gated", domain: "number", settings: { shadowRate: 1 } }, SEEDED);
      const app = createApp(ctx);
      await Promise.all(
        TRAFFIC.slice(0, 6).map((p) =>
          app.request(
            "/v1/banks/gated/solve",
            post({ query: p.problem, gold: p.answer, samples: 2, batchSize: 1, adaptive: false }),
          ),
        ),
      );
      await ctx.shadows.drained();
      const shadows = (
        await ctx.db.select({ of: runs.shadowOf }).from(runs).where(eq(runs.bankId, "gated"))
      ).filter((r) => r.of !== null);
      expect(shadows).toHaveLength(6);
      expect(slow.maxInFlight()).toBe(2);
    } finally {
      await slow.close();
    }
  });

  it("stop at the bank's budget of shadow runs per 24 hours", async () => {
    fake.setBehavior(HELPED);
    const { ctx, solve } = await served(
      { id: "budget", domain: "number", settings: { shadowRate: 1, shadowBudget: 2 } },
      SEEDED,
    );
    for (const p of TRAFFIC.slice(0, 5)) {
      await solve({ query: p.problem, gold: p.answer, samples: 2, adaptive: false });
      await ctx.shadows?.drained();
    }
    const shadows = (
      await ctx.db.select({ of: runs.shadowOf }).from(runs).where(eq(runs.bankId, "budget"))
    ).filter((r) => r.of !== null);
    expect(shadows).toHaveLength(2);
  });

  it("take later feedback as the ground truth for the run and its shadow", async () => {
    // unanimous and unchecked: consensus verdicts, so nothing is judged until feedback comes
    fake.setBehavior({
      kind: "script",
      respond: (r) => (userMessages(r).length > 1 ? "#### 30" : "#### 31"),
    });
    const { app, solve, impact } = await served(
      { id: "later", domain: "number", settings: { shadowRate: 1 } },
      SEEDED,
    );
    const p = TRAFFIC[0] as Problem;
    const run = await solve({ query: p.problem, samples: 4, adaptive: false });
    expect((await impact()).control).toMatchObject({ pairs: 1, judged: 0, agreement: 0 });
    const given = await app.request(`/v1/runs/${run.runId}/feedback`, post({ correct: true }));
    expect(given.status).toBe(200);
    const { control } = await impact();
    expect(control).toMatchObject({ judged: 1, memoryOnly: 1, controlOnly: 0 });
    expect(control.lift.difference).toBe(1);
  });
});

describe("leave-one-out credit", () => {
  it("gives a memory that misleads the model a negative effect and retires it; a helpful one stays", async () => {
    const misleading =
      "Ava picks 3 apples every day for 2 days. How many apples does Ava pick in total? (Count only the first day.)";
    const helpful = "Ben picks 4 apples every day for 5 days. How many apples does Ben pick in total?";
    // shown the misleading example, the model is wrong half the time; without it, the helpful one suffices
    fake.setBehavior({
      kind: "script",
      respond: (r, _i, rng) => {
        const texts = userMessages(r);
        const question = texts.at(-1) as string;
        const misled = texts.slice(0, -1).some((m) => m.includes("first day"));
        const right = misled ? rng() < 0.5 : texts.slice(0, -1).some((m) => m.includes("Ben picks"));
        const answer = Number(answerFor(question));
        return `#### ${right ? answer : answer + 1}`;
      },
    });
    const { ctx, app, impact, solveSettled } = await served(
      { id: "ablate", domain: "number", settings: { ablationRate: 1, k: 2, matchFloor: 0 } },
      [
        { problem: misleading, answer: "3" },
        { problem: helpful, answer: "20" },
      ],
    );
    // the misleading one came in on agreement among samples, as a model's own solutions do (gold memories
    // are never retired automatically)
    await ctx.db
      .update(memories)
      .set({ verification: "consensus", trust: trustOf("consensus") })
      .where(eq(memories.problem, misleading));
    for (const p of APPLES) {
      await solveSettled({ query: p.problem, gold: p.answer, samples: 1, adaptive: false, writeBack: false });
    }
    const { memories: effects } = await impact();
    const byProblem = new Map(
      (await ctx.db.select().from(memories).where(eq(memories.bankId, "ablate"))).map((m) => [m.problem, m]),
    );
    const misleadingId = byProblem.get(misleading)?.id;
    const helpfulId = byProblem.get(helpful)?.id;
    const effectOf = (id?: string) => effects.find((e) => e.memoryId === id);
    expect(effectOf(misleadingId)?.difference).toBeLessThan(-0.3);
    expect(effectOf(misleadingId)?.high).toBeLessThan(0);
    expect(effectOf(helpfulId)?.judged).toBeGreaterThan(0);
    expect(effectOf(helpfulId)?.high).toBeGreaterThan(0);
    expect(byProblem.get(misleading)?.status).toBe("retired");
    expect(byProblem.get(helpful)?.status).toBe("active");
    const page = await (await app.request(`/banks/ablate/memories/${misleadingId}`)).text();
    expect(page).toMatch(/-\d+\.\d points of accuracy when shown rather than withheld/);
  });
});

function userMessages(body: unknown): string[] {
  const { messages } = body as { messages: Parameters<typeof messageText>[0][] };
  return messages.filter((m) => m.role === "user").map(messageText);
}
