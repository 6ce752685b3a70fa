import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { bankChangeSchema, bankSettingsSchema } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
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

const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

interface Stats {
  memories: { total: number; byStatus: Record<string, number>; byVerification: Record<string, number> };
  runs: {
    total: number;
    byVerdict: Record<string, number>;
    byStatus: Record<string, number>;
    accuracy: number | null;
    groundTruth: { successes: number; n: number; rate: number; low: number; high: number };
    consensusRate: number | null;
  };
}

async function appWithBank() {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return createApp(ctx);
}

async function statsOf(app: ReturnType<typeof createApp>): Promise<Stats> {
  const response = await app.request("/v1/banks/arith");
  expect(response.status).toBe(200);
  const body = (await response.json()) as { id: string; stats: Stats };
  expect(body.id).toBe("arith");
  return body.stats;
}

async function solve(app: ReturnType<typeof createApp>, body: Record<string, unknown>) {
  const response = await app.request("/v1/banks/arith/solve", post({ samples: 4, ...body }));
  expect(response.status).toBe(200);
  return (await response.json()) as { runId: string; verdict: string; writtenMemory?: { memoryId: string } };
}

describe("bank stats", () => {
  it("reports zeros for every known status, verification and verdict, and no accuracy, before any run", async () => {
    const app = await appWithBank();
    expect(await statsOf(app)).toEqual({
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
    const app = await appWithBank();
    fake.setBehavior({ kind: "fixed", content: "6 * 9 = 54\n#### 54" });
    // right against gold: an active gold memory
    await solve(app, { query: "Kai has 6 boxes of 9 pens. How many pens?", gold: "54" });
    // wrong against gold: nothing written
    await solve(app, { query: "Lee has 5 bags of 11 apples. How many apples?", gold: "55" });
    // answers split evenly: unknown verdict, a quarantined unverified memory
    fake.setBehavior({ kind: "script", respond: (_, i) => `#### ${54 + (i % 2)}` });
    const split = await solve(app, { query: "Ana has 7 jars of 8 beads. How many beads?", adaptive: false });
    expect(split.verdict).toBe("unknown");
    // the same problem again, answered from the gold memory
    await solve(app, { query: "Kai has 6 boxes of 9 pens. How many pens?" });

    expect(await statsOf(app)).toEqual({
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
    await app.request(`/v1/runs/${split.runId}/feedback`, post({ correct: true }));
    const seeded = (await (await app.request("/v1/banks/arith/memories?source=import")).json()) as {
      memories: { id: string }[];
    };
    await app.request(`/v1/banks/arith/memories/${seeded.memories[0]?.id}/retire`, { method: "POST" });

    const after = await statsOf(app);
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
    const app = await appWithBank();
    // a model wrong more often than not yet unanimous: every run passes consensus, none is checked
    fake.setBehavior({ kind: "fixed", content: "The total is 54.\n#### 54" });
    for (const query of [
      "Ivy has 7 cups of 8 nuts. How many nuts?",
      "Jo has 9 rows of 6 cans. How many cans?",
    ]) {
      expect((await solve(app, { query })).verdict).toBe("correct");
    }
    const stats = await statsOf(app);
    expect(stats.runs.byVerdict.correct).toBe(2);
    expect(stats.runs.accuracy).toBeNull();
    expect(stats.runs.groundTruth.n).toBe(0);
    expect(stats.runs.consensusRate).toBe(1);
    // feedback is ground truth: the refuted run counts, the other still does not
    const runs = (await (await app.request("/v1/banks/arith/runs")).json()) as { runs: { id: string }[] };
    await app.request(`/v1/runs/${runs.runs[0]?.id}/feedback`, post({ correct: false, answer: "56" }));
    const after = await statsOf(app);
    expect(after.runs.accuracy).toBe(0);
    expect(after.runs.groundTruth).toMatchObject({ successes: 0, n: 1 });
    expect(after.runs.consensusRate).toBe(0.5);
  });

  it("counts only the bank's own memories and runs", async () => {
    const app = await appWithBank();
    await bankWithProblems(t.ctx(), { id: "other", domain: "number" }, [
      { problem: "What is 2 + 2?", answer: "4" },
      { problem: "What is 3 + 3?", answer: "6" },
    ]);
    fake.setBehavior({ kind: "fixed", content: "#### 4" });
    await app.request("/v1/banks/other/solve", post({ query: "What is 1 + 3?", samples: 4, gold: "4" }));
    const stats = await statsOf(app);
    expect(stats.memories.total).toBe(1);
    expect(stats.runs.total).toBe(0);
  });

  it("leaves stats out of the bank list", async () => {
    const app = await appWithBank();
    const list = (await (await app.request("/v1/banks")).json()) as { banks: Record<string, unknown>[] };
    expect(list.banks).toHaveLength(1);
    expect(list.banks[0]).not.toHaveProperty("stats");
  });

  it("answers 404 for an unknown bank, for a key of another bank too, and 400 for a malformed id", async () => {
    const app = await appWithBank();
    const missing = await app.request("/v1/banks/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect((await app.request("/v1/banks/Not_A_Bank")).status).toBe(400);
    const other = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:other:read"] } });
    const reader = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:read"] } });
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await app.request("/v1/banks/arith", as(other.token))).status).toBe(404);
    const allowed = await app.request("/v1/banks/arith", as(reader.token));
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { stats: Stats }).stats.memories.total).toBe(1);
  });
});

describe("changing a bank", () => {
  it("replaces the settings given and keeps the others; a bad value is a 400 naming it and changes nothing", async () => {
    const app = await appWithBank();
    const patch = (body: unknown) => app.request("/v1/banks/arith", { ...post(body), method: "PATCH" });
    const changed = await patch({ settings: { shadowRate: 0.05, k: 6 }, description: "sums" });
    expect(changed.status).toBe(200);
    const bank = (await changed.json()) as { description: string; settings: Record<string, unknown> };
    expect(bank.description).toBe("sums");
    expect(bank.settings).toMatchObject({ shadowRate: 0.05, k: 6, samples: 8, ablationRate: 0 });
    const bad = await patch({ settings: { ablationRate: 2 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("settings.ablationRate");
    const unknown = await patch({ settings: { shadowRatio: 0.5 } });
    expect(unknown.status).toBe(400);
    const read = (await (await app.request("/v1/banks/arith")).json()) as {
      settings: Record<string, unknown>;
    };
    expect(read.settings).toMatchObject({ shadowRate: 0.05, k: 6, ablationRate: 0 });
    expect(
      (await app.request("/v1/banks/nope", { ...post({ settings: { k: 2 } }), method: "PATCH" })).status,
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
