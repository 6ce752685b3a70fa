import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { RECALL_SIGNALS } from "../src/memory/recallResult.js";
import { bankWithProblems, useTestContext } from "./support/context.js";

// every score a recalled memory carries, as the API gives them
const SCORE_NAMES = [...RECALL_SIGNALS, "utility", "final"].sort();

const t = useTestContext();

function json(body: unknown, method = "POST"): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

async function problemOf(response: Response) {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return (await response.json()) as { type: string; status: number; detail: string; field?: string };
}

async function seededApp() {
  const ctx = t.ctx();
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return createApp(ctx);
}

describe("banks over REST", () => {
  it("creates a bank with default settings, lists it and reads it back", async () => {
    const app = createApp(t.ctx());
    const created = await app.request(
      "/v1/banks",
      json({ id: "math", domain: "number", description: "word problems" }),
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      id: "math",
      domain: "number",
      settings: { k: 4, samples: 8, trustFloor: "consensus", writeBackTier: "checker" },
    });
    expect(await (await app.request("/v1/banks")).json()).toMatchObject({ banks: [{ id: "math" }] });
    expect(await (await app.request("/v1/banks/math")).json()).toMatchObject({ id: "math" });
  });

  it("answers 409 for a taken id and 404 for a missing bank, as problem+json", async () => {
    const app = createApp(t.ctx());
    await app.request("/v1/banks", json({ id: "math", domain: "number" }));
    const again = await app.request("/v1/banks", json({ id: "math", domain: "number" }));
    expect(again.status).toBe(409);
    expect(await problemOf(again)).toMatchObject({ type: "/problems/conflict", field: "id" });
    const missing = await app.request("/v1/banks/nope");
    expect(missing.status).toBe(404);
    expect(await problemOf(missing)).toMatchObject({
      type: "/problems/not-found",
      detail: 'bank "nope" does not exist',
    });
  });

  it("rejects bad bank input naming the field: id with path characters, unknown domain, unknown field", async () => {
    const app = createApp(t.ctx());
    for (const [body, field] of [
      [{ id: "../etc", domain: "number" }, "id"],
      [{ id: "ok", domain: "poetry" }, "domain"],
      [{ id: "ok", domain: "number", colour: "red" }, "colour"],
    ] as const) {
      const response = await app.request("/v1/banks", json(body));
      expect(response.status).toBe(400);
      const problem = await problemOf(response);
      expect(problem.type).toBe("/problems/validation-error");
      expect(problem.field).toBe(field);
    }
    expect(await (await app.request("/v1/banks")).json()).toEqual({ banks: [] });
  });
});

describe("recall over REST", () => {
  it("returns the recalled memories with their score breakdown, without calling a model", async () => {
    const app = await seededApp();
    const response = await app.request(
      "/v1/banks/arith/recall",
      json({ query: "Kai has 3 boxes of 9 pens. How many pens?", k: 2 }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      memories: { answer: string; scores: Record<string, number> }[];
    };
    expect(body.memories).toHaveLength(1);
    expect(body.memories[0]?.answer).toBe("24");
    expect(Object.keys(body.memories[0]?.scores ?? {}).sort()).toEqual(SCORE_NAMES);
  });

  it("answers 404 for an unknown bank and 400 naming the field for bad input", async () => {
    const app = await seededApp();
    expect((await app.request("/v1/banks/none/recall", json({ query: "x" }))).status).toBe(404);
    for (const [body, field] of [
      [{}, "query"],
      [{ query: "" }, "query"],
      [{ query: "x", k: 51 }, "k"],
      [{ query: "x", k: "3" }, "k"],
    ] as const) {
      const response = await app.request("/v1/banks/arith/recall", json(body));
      expect(response.status).toBe(400);
      expect((await problemOf(response)).field).toBe(field);
    }
  });

  it("answers 400 problem+json to a body that is not JSON", async () => {
    const app = await seededApp();
    const response = await app.request("/v1/banks/arith/recall", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not json",
    });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).type).toBe("/problems/validation-error");
  });
});

describe("the API surface", () => {
  it("answers unknown routes with 404 problem+json", async () => {
    const response = await createApp(t.ctx()).request("/v1/nothing-here");
    expect(response.status).toBe(404);
    expect((await problemOf(response)).detail).toBe("no route for GET /v1/nothing-here");
  });
});
