import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createBankRoute, getBankRoute, listBanksRoute } from "../src/api/routes/banks.js";
import { recallRoute } from "../src/api/routes/recall.js";
import { RECALL_SIGNALS } from "../src/memory/recallResult.js";
import { apiClient } from "./support/api.js";
import { bankWithProblems, useTestContext } from "./support/context.js";

// every score a recalled memory carries, as the API gives them
const SCORE_NAMES = [...RECALL_SIGNALS, "utility", "final"].sort();

const t = useTestContext();

async function seededApp() {
  const ctx = t.ctx();
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return createApp(ctx);
}

describe("banks over REST", () => {
  it("creates a bank with default settings, lists it and reads it back", async () => {
    const api = apiClient(createApp(t.ctx()));
    const created = await api.ok(createBankRoute, {
      json: { id: "math", domain: "number", description: "word problems" },
    });
    expect(created).toMatchObject({
      id: "math",
      domain: "number",
      settings: { k: 4, samples: 8, trustFloor: "consensus", writeBackTier: "checker" },
    });
    expect(await api.ok(listBanksRoute)).toMatchObject({ banks: [{ id: "math" }] });
    expect(await api.ok(getBankRoute, { params: { bank: "math" } })).toMatchObject({ id: "math" });
  });

  it("answers 409 for a taken id and 404 for a missing bank, as problem+json", async () => {
    const api = apiClient(createApp(t.ctx()));
    await api.send(createBankRoute, { json: { id: "math", domain: "number" } });
    const again = await api.fails(createBankRoute, { json: { id: "math", domain: "number" } }, 409);
    expect(again).toMatchObject({ type: "/problems/conflict", field: "id" });
    expect(await api.fails(getBankRoute, { params: { bank: "nope" } }, 404)).toMatchObject({
      type: "/problems/not-found",
      detail: 'bank "nope" does not exist',
    });
  });

  it("rejects bad bank input naming the field: id with path characters, unknown domain, unknown field", async () => {
    const api = apiClient(createApp(t.ctx()));
    for (const [body, field] of [
      [{ id: "../etc", domain: "number" }, "id"],
      [{ id: "ok", domain: "poetry" }, "domain"],
      [{ id: "ok", domain: "number", colour: "red" }, "colour"],
    ] as const) {
      const problem = await api.fails(createBankRoute, { unchecked: body }, 400);
      expect(problem.type).toBe("/problems/validation-error");
      expect(problem.field).toBe(field);
    }
    expect(await api.ok(listBanksRoute)).toEqual({ banks: [] });
  });
});

describe("recall over REST", () => {
  it("returns the recalled memories with their score breakdown, without calling a model", async () => {
    const api = apiClient(await seededApp());
    const body = await api.ok(recallRoute, {
      params: { bank: "arith" },
      json: { query: "Kai has 3 boxes of 9 pens. How many pens?", k: 2 },
    });
    expect(body.memories).toHaveLength(1);
    expect(body.memories[0]?.answer).toBe("24");
    expect(Object.keys(body.memories[0]?.scores ?? {}).sort()).toEqual(SCORE_NAMES);
  });

  it("answers 404 for an unknown bank and 400 naming the field for bad input", async () => {
    const api = apiClient(await seededApp());
    expect((await api.send(recallRoute, { params: { bank: "none" }, json: { query: "x" } })).status).toBe(
      404,
    );
    for (const [body, field] of [
      [{}, "query"],
      [{ query: "" }, "query"],
      [{ query: "x", k: 51 }, "k"],
      [{ query: "x", k: "3" }, "k"],
    ] as const) {
      const problem = await api.fails(recallRoute, { params: { bank: "arith" }, unchecked: body }, 400);
      expect(problem.field).toBe(field);
    }
  });

  it("answers 400 problem+json to a body that is not JSON", async () => {
    const app = await seededApp();
    // the client sends JSON only, so a malformed body goes through the app itself
    const response = await app.request("/v1/banks/arith/recall", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not json",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(((await response.json()) as { type: string }).type).toBe("/problems/validation-error");
  });
});

describe("the API surface", () => {
  it("answers unknown routes with 404 problem+json", async () => {
    // no route defines this path, so it is requested by URL
    const response = await createApp(t.ctx()).request("/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(((await response.json()) as { detail: string }).detail).toBe("no route for GET /v1/nothing-here");
  });
});
