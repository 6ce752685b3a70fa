import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { memories } from "../src/db/schema.js";
import { createModelClient } from "../src/reasoning/model.js";
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

const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function appWithBank(withModel = true) {
  const ctx = t.ctx();
  if (withModel) ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return createApp(ctx);
}

describe("solve over REST", () => {
  it("answers with the verdict, the recalled memories and a run id that reads back with everything", async () => {
    const app = await appWithBank();
    const query = "Kai has 6 boxes of 9 pens. How many pens?";
    const response = await app.request("/v1/banks/arith/solve", post({ query, samples: 4, gold: "54" }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { runId: string; recalled: { memoryId: string }[] };
    expect(body).toMatchObject({
      answer: "54",
      verdict: "correct",
      verification: "gold",
      status: "completed",
    });
    expect(body.recalled).toHaveLength(1);

    const run = await app.request(`/v1/runs/${body.runId}`);
    expect(run.status).toBe(200);
    const stored = (await run.json()) as {
      prompt: { role: string }[];
      samples: unknown[];
      recalls: unknown[];
    };
    expect(stored.prompt.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(stored.samples.length).toBeGreaterThanOrEqual(4);
    expect(stored.recalls).toEqual(body.recalled);
  });

  it("answers 503 problem+json naming the variables to set when no model is configured", async () => {
    const app = await appWithBank(false);
    const response = await app.request("/v1/banks/arith/solve", post({ query: "What is 2 + 2?" }));
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(((await response.json()) as { detail: string }).detail).toMatch(/PRECEDENT_MODEL/);
  });

  it("rejects bad solve input naming the field, and unknown banks and runs with 404", async () => {
    const app = await appWithBank();
    for (const [body, field] of [
      [{}, "query"],
      [{ query: "x", samples: 65 }, "samples"],
      [{ query: "x", temperature: -1 }, "temperature"],
      [{ query: "x", colour: "red" }, "colour"],
    ] as const) {
      const response = await app.request("/v1/banks/arith/solve", post(body));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { field: string }).field).toBe(field);
    }
    expect((await app.request("/v1/banks/nope/solve", post({ query: "x" }))).status).toBe(404);
    expect((await app.request("/v1/runs/run_0000000000000000")).status).toBe(404);
    expect((await app.request("/v1/runs/../etc")).status).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("feedback on a run", () => {
  const query = "Kai has 6 boxes of 9 pens. How many pens?";
  const json = (body: unknown): RequestInit => post(body);

  async function solveOnce(app: Awaited<ReturnType<typeof appWithBank>>, body: Record<string, unknown>) {
    const response = await app.request("/v1/banks/arith/solve", post({ query, samples: 4, ...body }));
    return (await response.json()) as {
      runId: string;
      verdict: string;
      recalled: { memoryId: string }[];
      writtenMemory?: { memoryId: string; status: string };
    };
  }

  async function memory(id: string) {
    const [m] = await t.ctx().db.select().from(memories).where(eq(memories.id, id));
    return m;
  }

  it("confirms an unverified run: its memory becomes active and the recalled memories count as helped", async () => {
    const app = await appWithBank();
    // answers split evenly: no consensus, so the verdict stays unknown and the memory is quarantined
    fake.setBehavior({ kind: "script", respond: (_, i) => `6 * 9 = ${54 + (i % 2)}\n#### ${54 + (i % 2)}` });
    const run = await solveOnce(app, { adaptive: false });
    expect(run.verdict).toBe("unknown");
    expect(run.writtenMemory?.status).toBe("quarantined");

    const response = await app.request(`/v1/runs/${run.runId}/feedback`, json({ correct: true }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
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
    const stored = (await (await app.request(`/v1/runs/${run.runId}`)).json()) as { verdict: string };
    expect(stored.verdict).toBe("correct");
  });

  it("refutes a run: its quarantined memory is retired and the recalled memories count as hurt", async () => {
    const app = await appWithBank();
    fake.setBehavior({ kind: "script", respond: (_, i) => `#### ${54 + (i % 2)}` });
    const run = await solveOnce(app, { adaptive: false });
    const response = await app.request(
      `/v1/runs/${run.runId}/feedback`,
      json({ correct: false, answer: "54" }),
    );
    expect(await response.json()).toMatchObject({
      verdict: "incorrect",
      memory: { status: "retired", changed: true },
    });
    expect(await memory(run.recalled[0]?.memoryId as string)).toMatchObject({ hurtCount: 1, helpedCount: 0 });
  });

  it("leaves a memory a verifier above feedback vouched for as it is", async () => {
    const app = await appWithBank();
    const run = await solveOnce(app, { gold: "54" });
    expect(run.writtenMemory?.status).toBe("active");
    const response = await app.request(`/v1/runs/${run.runId}/feedback`, json({ correct: false }));
    expect(await response.json()).toMatchObject({
      credited: false,
      memory: { status: "active", changed: false },
    });
    expect(await memory(run.writtenMemory?.memoryId as string)).toMatchObject({
      verification: "gold",
      status: "active",
    });
  });

  it("answers 404 for an unknown run and 400 naming the field for bad feedback", async () => {
    const app = await appWithBank();
    expect(
      (await app.request("/v1/runs/run_0000000000000000/feedback", json({ correct: true }))).status,
    ).toBe(404);
    const run = await solveOnce(app, {});
    const bad = await app.request(`/v1/runs/${run.runId}/feedback`, json({ correct: "yes" }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe("correct");
  });
});
