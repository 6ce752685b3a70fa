import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import type { RequestParts, ResponseBody } from "../src/api/responseTypes.js";
import { getBankRoute, listBanksRoute, updateBankRoute } from "../src/api/routes/banks.js";
import { listMemoriesRoute, retireMemoryRoute } from "../src/api/routes/memories.js";
import { feedbackRoute, listRunsRoute } from "../src/api/routes/runs.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { bankChangeSchema, bankSettingsSchema } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
import { type ApiClient, apiClient } from "./support/api.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

async function apiWithBank() {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return apiClient(createApp(ctx));
}

async function statsOf(api: ApiClient): Promise<ResponseBody<typeof getBankRoute>["stats"]> {
  const body = await api.ok(getBankRoute, { params: { bank: "arith" } });
  expect(body.id).toBe("arith");
  return body.stats;
}

const solve = (api: ApiClient, json: RequestParts<typeof solveRoute>["json"]) =>
  api.ok(solveRoute, { params: { bank: "arith" }, json: { samples: 4, ...json } });

describe("bank stats", () => {
  it("reports zeros for every known status, verification and verdict, and no accuracy, before any run", async () => {
    const api = await apiWithBank();
    expect(await statsOf(api)).toEqual({
      memories: {
        total: 1,
        byStatus: { active: 1, quarantined: 0, retired: 0 },
        byVerification: { none: 0, consensus: 0, judge: 0, feedback: 0, checker: 0, gold: 1 },
      },
      runs: {
        total: 0,
        byVerdict: { correct: 0, incorrect: 0, unknown: 0 },
        byStatus: { completed: 0, failed: 0, memory_hit: 0, remembered: 0 },
        accuracy: null,
        groundTruth: { successes: 0, n: 0, rate: 0, low: 0, high: 1 },
        consensusRate: null,
      },
    });
  });

  it("counts exactly what a known sequence of solves, feedback and a retirement left behind", async () => {
    const api = await apiWithBank();
    fake.setBehavior({ kind: "fixed", content: "6 * 9 = 54\n#### 54" });
    // right against gold: an active gold memory
    await solve(api, { query: "Kai has 6 boxes of 9 pens. How many pens?", gold: "54" });
    // wrong against gold: nothing written
    await solve(api, { query: "Lee has 5 bags of 11 apples. How many apples?", gold: "55" });
    // answers split evenly: unknown verdict, a quarantined unverified memory
    fake.setBehavior({ kind: "script", respond: (_, i) => `#### ${54 + (i % 2)}` });
    const split = await solve(api, { query: "Ana has 7 jars of 8 beads. How many beads?", adaptive: false });
    expect(split.verdict).toBe("unknown");
    // the same problem again, answered from the gold memory
    await solve(api, { query: "Kai has 6 boxes of 9 pens. How many pens?" });

    expect(await statsOf(api)).toEqual({
      memories: {
        total: 3,
        byStatus: { active: 2, quarantined: 1, retired: 0 },
        byVerification: { none: 1, consensus: 0, judge: 0, feedback: 0, checker: 0, gold: 2 },
      },
      runs: {
        total: 4,
        byVerdict: { correct: 2, incorrect: 1, unknown: 1 },
        byStatus: { completed: 3, failed: 0, memory_hit: 1, remembered: 0 },
        accuracy: 2 / 3,
        groundTruth: expect.objectContaining({ successes: 2, n: 3 }),
        consensusRate: 0,
      },
    });

    // feedback confirms the split run: its memory becomes active (feedback), its verdict correct
    await api.send(feedbackRoute, { params: { id: split.runId }, json: { correct: true } });
    const seeded = await api.ok(listMemoriesRoute, {
      params: { bank: "arith" },
      query: { source: "import" },
    });
    await api.send(retireMemoryRoute, { params: { bank: "arith", id: seeded.memories[0]?.id as string } });

    const after = await statsOf(api);
    expect(after.memories).toEqual({
      total: 3,
      byStatus: { active: 2, quarantined: 0, retired: 1 },
      byVerification: { none: 0, consensus: 0, judge: 0, feedback: 1, checker: 0, gold: 2 },
    });
    expect(after.runs.byVerdict).toEqual({ correct: 3, incorrect: 1, unknown: 0 });
    expect(after.runs.accuracy).toBe(3 / 4);
    expect(after.runs.groundTruth).toMatchObject({ successes: 3, n: 4 });
  });

  it("counts no accuracy from runs that only agreement among samples accepted, and says so apart", async () => {
    const api = await apiWithBank();
    // a model wrong more often than not yet unanimous: every run passes consensus, none is checked
    fake.setBehavior({ kind: "fixed", content: "The total is 54.\n#### 54" });
    for (const query of [
      "Ivy has 7 cups of 8 nuts. How many nuts?",
      "Jo has 9 rows of 6 cans. How many cans?",
    ]) {
      expect((await solve(api, { query })).verdict).toBe("correct");
    }
    const stats = await statsOf(api);
    expect(stats.runs.byVerdict.correct).toBe(2);
    expect(stats.runs.accuracy).toBeNull();
    expect(stats.runs.groundTruth.n).toBe(0);
    expect(stats.runs.consensusRate).toBe(1);
    // feedback is ground truth: the refuted run counts, the other still does not
    const runs = await api.ok(listRunsRoute, { params: { bank: "arith" } });
    await api.send(feedbackRoute, {
      params: { id: runs.runs[0]?.id as string },
      json: { correct: false, answer: "56" },
    });
    const after = await statsOf(api);
    expect(after.runs.accuracy).toBe(0);
    expect(after.runs.groundTruth).toMatchObject({ successes: 0, n: 1 });
    expect(after.runs.consensusRate).toBe(0.5);
  });

  it("counts only the bank's own memories and runs", async () => {
    const api = await apiWithBank();
    await bankWithProblems(t.ctx(), { id: "other", domain: "number" }, [
      { problem: "What is 2 + 2?", answer: "4" },
      { problem: "What is 3 + 3?", answer: "6" },
    ]);
    fake.setBehavior({ kind: "fixed", content: "#### 4" });
    await api.send(solveRoute, {
      params: { bank: "other" },
      json: { query: "What is 1 + 3?", samples: 4, gold: "4" },
    });
    const stats = await statsOf(api);
    expect(stats.memories.total).toBe(1);
    expect(stats.runs.total).toBe(0);
  });

  it("leaves stats out of the bank list", async () => {
    const api = await apiWithBank();
    const list = await api.ok(listBanksRoute);
    expect(list.banks).toHaveLength(1);
    expect(list.banks[0]).not.toHaveProperty("stats");
  });

  it("answers 404 for an unknown bank, for a key of another bank too, and 400 for a malformed id", async () => {
    const api = await apiWithBank();
    await api.fails(getBankRoute, { params: { bank: "nope" } }, 404);
    expect((await api.send(getBankRoute, { params: { bank: "Not_A_Bank" } })).status).toBe(400);
    const other = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:other:read"] } });
    const reader = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:read"] } });
    const arith = { params: { bank: "arith" } };
    expect((await api.send(getBankRoute, { ...arith, token: other.token })).status).toBe(404);
    const allowed = await api.ok(getBankRoute, { ...arith, token: reader.token });
    expect(allowed.stats.memories.total).toBe(1);
  });
});

describe("changing a bank", () => {
  it("replaces the settings given and keeps the others; a bad value is a 400 naming it and changes nothing", async () => {
    const api = await apiWithBank();
    const arith = { params: { bank: "arith" } };
    const bank = await api.ok(updateBankRoute, {
      ...arith,
      json: { settings: { shadowRate: 0.05, k: 6 }, description: "sums" },
    });
    expect(bank.description).toBe("sums");
    expect(bank.settings).toMatchObject({ shadowRate: 0.05, k: 6, samples: 8, ablationRate: 0 });
    const bad = await api.send(updateBankRoute, { ...arith, unchecked: { settings: { ablationRate: 2 } } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("settings.ablationRate");
    const unknown = await api.send(updateBankRoute, {
      ...arith,
      unchecked: { settings: { shadowRatio: 0.5 } },
    });
    expect(unknown.status).toBe(400);
    const read = await api.ok(getBankRoute, arith);
    expect(read.settings).toMatchObject({ shadowRate: 0.05, k: 6, ablationRate: 0 });
    expect(
      (await api.send(updateBankRoute, { params: { bank: "nope" }, json: { settings: { k: 2 } } })).status,
    ).toBe(404);
  });

  it("names every setting a bank has as one a change may give", () => {
    const settings = Object.keys(bankSettingsSchema.shape).sort();
    const changeable = Object.keys(
      (bankChangeSchema.shape.settings.unwrap() as unknown as { shape: Record<string, unknown> }).shape,
    ).sort();
    expect(changeable).toEqual(settings);
  });
});
