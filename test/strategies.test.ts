import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { formatRun } from "../src/cli/formatRun.js";
import { memories } from "../src/db/schema.js";
import type { NewBank } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
import type { RunRecord } from "../src/reasoning/runs.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { messageText } from "./support/fakeOpenAI/behaviors.js";
import { type ChatBehavior, type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";
import { FAMILIES, familyOf, familyStream, type Problem, SEEDED } from "./support/familyProblems.js";

const t = useTestContext();
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

const TRAFFIC = familyStream([0, 1, 2, 3, 4, 5], 2, 30);
const known = new Map([...SEEDED, ...TRAFFIC].map((p) => [p.problem, p.answer]));
const answerFor = (q: string) => known.get(q) ?? "0";
// apples (0) and trains (1) are helped by examples; pencils (2) by a stated principle; cookies (3) by
// analogies the model writes itself
const MODEL: ChatBehavior = {
  kind: "strategyAware",
  answerFor,
  family: familyOf,
  principleFor: (q) =>
    `Principle: for ${FAMILIES[Number(familyOf(q))]?.keyword ?? "this"}, combine the given amounts.`,
  accuracy: { plain: 0.2, withExample: 0.9, withPrinciple: 0.9, withAnalogies: 0.9 },
  helpedBy: { example: ["0", "1"], principle: ["2"], analogies: ["3"] },
  wrongAnswer: (q) => String(Number(answerFor(q)) + 1),
};

const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function served(bank: NewBank, problems: Problem[] = SEEDED) {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, bank, problems);
  const app = createApp(ctx);
  const solve = async (body: Record<string, unknown>) => {
    const before = fake.requests.length;
    const response = await app.request(`/v1/banks/${bank.id}/solve`, post(body));
    expect(response.status).toBe(200);
    const result = (await response.json()) as { runId: string; verdict: string; answer?: string };
    const run = (await (await app.request(`/v1/runs/${result.runId}`)).json()) as Omit<
      RunRecord,
      "prompt"
    > & {
      prompt: { role: string; content: string }[];
    };
    return { result, run, requests: fake.requests.slice(before).map((r) => r.body) };
  };
  return { ctx, app, solve };
}

const userTurns = (prompt: { role: string; content: string }[]) => prompt.filter((m) => m.role === "user");
const systemOf = (body: unknown) =>
  messageText((body as { messages: Parameters<typeof messageText>[0][] }).messages[0] as never);

describe("prompting strategies", () => {
  it("shows the recalled memories as worked examples by default, and says so in the run", async () => {
    fake.setBehavior(MODEL);
    const { solve } = await served({ id: "ex", domain: "number" });
    const p = TRAFFIC[0] as Problem;
    const { run } = await solve({ query: p.problem, samples: 4, adaptive: false });
    expect(run.strategy).toEqual({ name: "exemplars", asked: "exemplars", fallback: false });
    expect(userTurns(run.prompt).length).toBeGreaterThan(1);
    expect(run.recalls.length).toBeGreaterThan(0);
  });

  it("step-back asks for the principle in one extra call, keeps it with its tokens, and adds it to the examples", async () => {
    fake.setBehavior(MODEL);
    const { app, solve } = await served({ id: "sb", domain: "number" });
    const p = TRAFFIC[2] as Problem; // pencils
    const { run, requests } = await solve({
      query: p.problem,
      samples: 4,
      batchSize: 4,
      adaptive: false,
      strategy: "step-back",
    });
    // one request for the principle, one for the batch of four chains
    expect(requests).toHaveLength(2);
    expect(systemOf(requests[0])).toContain("step back from it");
    expect(run.strategy?.name).toBe("step-back");
    expect(run.strategy?.abstraction?.text).toContain("combine the given amounts");
    expect(run.strategy?.abstraction?.completionTokens).toBeGreaterThan(0);
    const last = userTurns(run.prompt).at(-1)?.content ?? "";
    expect(last.startsWith(p.problem)).toBe(true);
    expect(last).toContain("Principle: Principle: for pencils");
    // it composes with recall: the worked examples are there too
    expect(userTurns(run.prompt).length).toBeGreaterThan(1);
    // the inspector and `precedent inspect` show the principle
    const page = await (await app.request(`/runs/${run.id}`)).text();
    expect(page).toContain('data-field="abstraction"');
    expect(page).toContain("combine the given amounts");
    expect(formatRun(run as RunRecord)).toMatch(/strategy +step-back\n.*principle +Principle: for pencils/s);
    expect(run.usage.completionTokens).toBeGreaterThan(run.samples.reduce((sum, s) => sum + s.tokens, 0) - 1);
  });

  it("analogical shows no recalled example, keeps each chain's own problems in the run, and never stores them", async () => {
    fake.setBehavior(MODEL);
    const { ctx, app, solve } = await served({ id: "an", domain: "number" });
    const p = TRAFFIC[3] as Problem; // cookies
    const before = await ctx.db.select().from(memories).where(eq(memories.bankId, "an"));
    const { run } = await solve({
      query: p.problem,
      gold: p.answer,
      samples: 4,
      adaptive: false,
      strategy: "analogical",
    });
    expect(run.strategy?.name).toBe("analogical");
    expect(userTurns(run.prompt)).toHaveLength(1);
    expect(run.recalls).toEqual([]);
    expect(run.prompt[0]?.content).toContain("# Relevant problems:");
    expect(run.strategy?.analogies).toHaveLength(4);
    expect(run.strategy?.analogies?.[0]?.text).toContain("A problem like this one");
    const after = await ctx.db.select().from(memories).where(eq(memories.bankId, "an"));
    expect(after.length - before.length).toBeLessThanOrEqual(1);
    for (const m of after) expect(m.reasoning).not.toContain("Relevant problems");
    const page = await (await app.request(`/runs/${run.id}`)).text();
    expect(page.match(/data-field="analogies"/g)).toHaveLength(4);
    expect(formatRun(run as RunRecord)).toContain("own #0");
  });

  it("plain sends the question alone and recalls nothing", async () => {
    fake.setBehavior(MODEL);
    const { solve } = await served({ id: "pl", domain: "number" });
    const p = TRAFFIC[0] as Problem;
    const { run } = await solve({ query: p.problem, samples: 2, adaptive: false, strategy: "plain" });
    expect(run.prompt.map((m) => m.role)).toEqual(["system", "user"]);
    expect(run.recalls).toEqual([]);
  });

  it("falls back to the bank's fallback strategy when recall finds nothing, and names it in the run", async () => {
    fake.setBehavior(MODEL);
    const { solve } = await served({ id: "empty", domain: "number" }, []);
    const p = TRAFFIC[0] as Problem;
    const { run } = await solve({ query: p.problem, samples: 2, adaptive: false });
    expect(run.strategy).toMatchObject({ name: "analogical", asked: "exemplars", fallback: true });
    const plain = await served(
      { id: "empty-plain", domain: "number", settings: { fallbackStrategy: "plain" } },
      [],
    );
    const second = await plain.solve({ query: p.problem, samples: 2, adaptive: false });
    expect(second.run.strategy).toMatchObject({ name: "plain", asked: "exemplars", fallback: true });
    // k = 0 asks for no examples: nothing to fall back from
    const none = await plain.solve({ query: p.problem, samples: 2, adaptive: false, k: 0 });
    expect(none.run.strategy).toMatchObject({ name: "exemplars", fallback: false });
  });

  it("takes the bank's strategy unless the request names one, and refuses an unknown one naming the field", async () => {
    fake.setBehavior(MODEL);
    const { app, solve } = await served({ id: "banked", domain: "number", settings: { strategy: "plain" } });
    const p = TRAFFIC[0] as Problem;
    expect((await solve({ query: p.problem, samples: 2, adaptive: false })).run.strategy?.name).toBe("plain");
    expect(
      (await solve({ query: p.problem, samples: 2, adaptive: false, strategy: "exemplars" })).run.strategy
        ?.name,
    ).toBe("exemplars");
    const bad = await app.request(
      "/v1/banks/banked/solve",
      post({ query: p.problem, strategy: "tree-of-thought" }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("strategy");
  });
});
