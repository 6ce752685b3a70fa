import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
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
