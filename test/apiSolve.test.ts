import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import type { RequestParts } from "../src/api/responseTypes.js";
import { feedbackRoute, getRunRoute } from "../src/api/routes/runs.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { memories } from "../src/db/schema.js";
import { createModelClient } from "../src/reasoning/model.js";
import { type ApiClient, apiClient } from "./support/api.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
let fake: FakeOpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterEach(async () => {
  await fake.close();
});

async function appWithBank(withModel = true) {
  const ctx = t.ctx();
  if (withModel) ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return createApp(ctx);
}

const arith = { params: { bank: "arith" } };

describe("solve over REST", () => {
  it("answers with the verdict, the recalled memories and a run id that reads back with everything", async () => {
    const api = apiClient(await appWithBank());
    const query = "Kai has 6 boxes of 9 pens. How many pens?";
    const body = await api.ok(solveRoute, { ...arith, json: { query, samples: 4, gold: "54" } });
    expect(body).toMatchObject({
      answer: "54",
      verdict: "correct",
      verification: "gold",
      status: "completed",
    });
    expect(body.recalled).toHaveLength(1);

    const stored = await api.ok(getRunRoute, { params: { id: body.runId } });
    // the API leaves the stored prompt's messages untyped
    expect((stored.prompt as { role: string }[]).map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "user",
    ]);
    expect(stored.samples.length).toBeGreaterThanOrEqual(4);
    expect(stored.recalls).toEqual(body.recalled);
  });

  it("answers 503 problem+json naming the variables to set when no model is configured", async () => {
    const api = apiClient(await appWithBank(false));
    const problem = await api.fails(solveRoute, { ...arith, json: { query: "What is 2 + 2?" } }, 503);
    expect(problem.detail).toMatch(/PRECEDENT_MODEL/);
  });

  it("rejects bad solve input naming the field, and unknown banks and runs with 404", async () => {
    const app = await appWithBank();
    const api = apiClient(app);
    for (const [body, field] of [
      [{}, "query"],
      [{ query: "x", samples: 65 }, "samples"],
      [{ query: "x", temperature: -1 }, "temperature"],
      [{ query: "x", colour: "red" }, "colour"],
    ] as const) {
      const response = await api.send(solveRoute, { ...arith, unchecked: body });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { field: string }).field).toBe(field);
    }
    expect((await api.send(solveRoute, { params: { bank: "nope" }, json: { query: "x" } })).status).toBe(404);
    expect((await api.send(getRunRoute, { params: { id: "run_0000000000000000" } })).status).toBe(404);
    // a path that climbs out of /v1/runs, which the client would encode into one parameter
    expect((await app.request("/v1/runs/../etc")).status).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("feedback on a run", () => {
  const query = "Kai has 6 boxes of 9 pens. How many pens?";

  const solveOnce = (api: ApiClient, json: Omit<RequestParts<typeof solveRoute>["json"], "query">) =>
    api.ok(solveRoute, { ...arith, json: { query, samples: 4, ...json } });

  async function memory(id: string) {
    const [m] = await t.ctx().db.select().from(memories).where(eq(memories.id, id));
    return m;
  }

  it("confirms an unverified run: its memory becomes active and the recalled memories count as helped", async () => {
    const api = apiClient(await appWithBank());
    // answers split evenly: no consensus, so the verdict stays unknown and the memory is quarantined
    fake.setBehavior({ kind: "script", respond: (_, i) => `6 * 9 = ${54 + (i % 2)}\n#### ${54 + (i % 2)}` });
    const run = await solveOnce(api, { adaptive: false });
    expect(run.verdict).toBe("unknown");
    expect(run.writtenMemory?.status).toBe("quarantined");

    const judged = await api.ok(feedbackRoute, { params: { id: run.runId }, json: { correct: true } });
    expect(judged).toMatchObject({
      verdict: "correct",
      credited: true,
      memory: { id: run.writtenMemory?.memoryId, status: "active", changed: true },
    });
    expect(await memory(run.writtenMemory?.memoryId as string)).toMatchObject({
      verification: "feedback",
      status: "active",
    });
    expect(await memory(run.recalled[0]?.memoryId as string)).toMatchObject({
      recalledCount: 1,
      helpedCount: 1,
    });
    const stored = await api.ok(getRunRoute, { params: { id: run.runId } });
    expect(stored.verdict).toBe("correct");
  });

  it("refutes a run: its quarantined memory is retired and the recalled memories count as hurt", async () => {
    const api = apiClient(await appWithBank());
    fake.setBehavior({ kind: "script", respond: (_, i) => `#### ${54 + (i % 2)}` });
    const run = await solveOnce(api, { adaptive: false });
    const judged = await api.ok(feedbackRoute, {
      params: { id: run.runId },
      json: { correct: false, answer: "54" },
    });
    expect(judged).toMatchObject({
      verdict: "incorrect",
      memory: { status: "retired", changed: true },
    });
    expect(await memory(run.recalled[0]?.memoryId as string)).toMatchObject({ hurtCount: 1, helpedCount: 0 });
  });

  it("leaves a memory a verifier above feedback vouched for as it is", async () => {
    const api = apiClient(await appWithBank());
    const run = await solveOnce(api, { gold: "54" });
    expect(run.writtenMemory?.status).toBe("active");
    const judged = await api.ok(feedbackRoute, { params: { id: run.runId }, json: { correct: false } });
    expect(judged).toMatchObject({
      credited: false,
      memory: { status: "active", changed: false },
    });
    expect(await memory(run.writtenMemory?.memoryId as string)).toMatchObject({
      verification: "gold",
      status: "active",
    });
  });

  it("answers 404 for an unknown run and 400 naming the field for bad feedback", async () => {
    const api = apiClient(await appWithBank());
    expect(
      (await api.send(feedbackRoute, { params: { id: "run_0000000000000000" }, json: { correct: true } }))
        .status,
    ).toBe(404);
    const run = await solveOnce(api, {});
    const bad = await api.send(feedbackRoute, { params: { id: run.runId }, unchecked: { correct: "yes" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe("correct");
  });
});
