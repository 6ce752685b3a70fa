import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import type { RequestParts, ResponseBody } from "../src/api/responseTypes.js";
import { listRunsRoute } from "../src/api/routes/runs.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { newId } from "../src/ids.js";
import { createModelClient } from "../src/reasoning/model.js";
import { type RunRecord, saveRun } from "../src/reasoning/runs.js";
import { type ApiClient, apiClient } from "./support/api.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

type RunListResponse = ResponseBody<typeof listRunsRoute>;
type SolveResponse = ResponseBody<typeof solveRoute>;

const t = useTestContext();
let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterAll(async () => {
  await fake.close();
});

async function apiWithBank(): Promise<ApiClient> {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return apiClient(createApp(ctx));
}

/** Stores a finished run directly, as the solve pipeline does, for listings that need many runs. */
async function storeRun(verdict: RunRecord["verdict"], query = `query ${verdict}`): Promise<string> {
  const id = newId("run");
  await saveRun(t.ctx().db, {
    id,
    bankId: "arith",
    query,
    queryHash: query,
    params: {},
    prompt: [],
    answer: "1",
    answerCanonical: "1",
    confidence: 1,
    votes: {},
    verification: verdict === "unknown" ? "none" : "gold",
    verificationDetail: {},
    verdict,
    status: "completed",
    timings: { totalMs: 12.5 },
    usage: {},
    recalls: [],
    samples: [],
  });
  return id;
}

type RunQuery = RequestParts<typeof listRunsRoute>["query"];

const page = (api: ApiClient, query: RunQuery = {}) =>
  api.ok(listRunsRoute, { params: { bank: "arith" }, query });

/** Every page of a listing, following nextCursor; `between` runs after each page but the last. */
async function allPages(
  api: ApiClient,
  query: RunQuery,
  between?: () => Promise<void>,
): Promise<RunListResponse[]> {
  const pages: RunListResponse[] = [];
  let cursor: string | undefined;
  do {
    const current = await page(api, { ...query, ...(cursor ? { cursor } : {}) });
    pages.push(current);
    cursor = current.nextCursor;
    if (cursor && between) await between();
  } while (cursor);
  return pages;
}

describe("listing a bank's runs", () => {
  it("lists solved runs newest first, each with its query, answer, verdict, latency and written memory", async () => {
    const api = await apiWithBank();
    const solved: SolveResponse[] = [];
    for (const [query, gold] of [
      ["Kai has 6 boxes of 9 pens. How many pens?", "54"],
      ["Lee has 5 bags of 11 apples. How many apples?", "55"],
    ] as const) {
      solved.push(await api.ok(solveRoute, { params: { bank: "arith" }, json: { query, samples: 4, gold } }));
    }
    const { runs, nextCursor } = await page(api);
    expect(nextCursor).toBeUndefined();
    expect(runs.map((r) => r.id)).toEqual([solved[1]?.runId, solved[0]?.runId]);
    expect(runs[1]).toMatchObject({
      query: "Kai has 6 boxes of 9 pens. How many pens?",
      answer: "54",
      verdict: "correct",
      verification: "gold",
      status: "completed",
      writtenMemoryId: solved[0]?.writtenMemory?.memoryId,
    });
    expect(runs[0]).toMatchObject({ answer: "54", verdict: "incorrect", verification: "gold" });
    expect(runs[0]?.writtenMemoryId).toBeUndefined();
    for (const run of runs) {
      expect(run.confidence).toBe(1);
      expect(typeof run.latencyMs).toBe("number");
      expect(new Date(run.createdAt).toISOString()).toBe(run.createdAt);
    }
  });

  it("pages through every run exactly once, in order, with no cursor on the last page", async () => {
    const api = await apiWithBank();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await storeRun("correct", `q${i}`));
    const pages = await allPages(api, { limit: 3 });
    expect(pages.map((p) => p.runs.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.runs.map((r) => r.id))).toEqual([...ids].reverse());
    expect(pages.at(-1)?.nextCursor).toBeUndefined();
  });

  it("keeps its pages stable when runs are saved while a client pages through", async () => {
    const api = await apiWithBank();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await storeRun("correct", `q${i}`));
    const added: string[] = [];
    const pages = await allPages(api, { limit: 2 }, async () => {
      added.push(await storeRun("correct", "saved meanwhile"));
    });
    const listed = pages.flatMap((p) => p.runs.map((r) => r.id));
    expect(listed).toEqual([...ids].reverse());
    expect(added).toHaveLength(2);
    // a new listing starts with them
    expect((await page(api, { limit: 2 })).runs.map((r) => r.id)).toEqual([...added].reverse());
  });

  it("filters by verdict, across pages too", async () => {
    const api = await apiWithBank();
    const correct: string[] = [];
    for (let i = 0; i < 3; i++) {
      correct.push(await storeRun("correct"));
      await storeRun("incorrect");
      await storeRun("unknown");
    }
    const pages = await allPages(api, { verdict: "correct", limit: 2 });
    expect(pages.flatMap((p) => p.runs.map((r) => r.id))).toEqual([...correct].reverse());
    const unknown = await page(api, { verdict: "unknown" });
    expect(unknown.runs).toHaveLength(3);
    expect(unknown.runs.every((r) => r.verdict === "unknown")).toBe(true);
    expect((await page(api, { limit: 100 })).runs).toHaveLength(9);
  });

  it("returns twenty runs by default", async () => {
    const api = await apiWithBank();
    for (let i = 0; i < 21; i++) await storeRun("correct", `q${i}`);
    const first = await page(api);
    expect(first.runs).toHaveLength(20);
    expect(first.nextCursor).toBeDefined();
  });

  it("answers 404 for an unknown bank and an empty list for a bank without runs", async () => {
    const api = await apiWithBank();
    await api.fails(listRunsRoute, { params: { bank: "nope" } }, 404);
    expect(await page(api)).toEqual({ runs: [] });
  });

  it("answers 400 naming the parameter for a bad verdict, limit or cursor", async () => {
    const api = await apiWithBank();
    await storeRun("correct");
    const memoryCursor = Buffer.from("memories:5").toString("base64url");
    for (const [query, field] of [
      [{ verdict: "maybe" }, "verdict"],
      [{ limit: 0 }, "limit"],
      [{ limit: 1000 }, "limit"],
      [{ limit: "ten" }, "limit"],
      [{ limit: 2.5 }, "limit"],
      [{ cursor: "not-a-cursor!" }, "cursor"],
      [{ cursor: "bm9wZQ" }, "cursor"],
      [{ cursor: memoryCursor }, "cursor"],
    ] as const) {
      const label = JSON.stringify(query);
      // deliberately bad queries, which the route's query type refuses
      const response = await api.send(listRunsRoute, { params: { bank: "arith" }, query: query as never });
      expect(response.status, label).toBe(400);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(((await response.json()) as { field: string }).field, label).toBe(field);
    }
  });

  it("lists a bank's runs for a key that may read it, and hides the bank from a key for another", async () => {
    const api = await apiWithBank();
    const id = await storeRun("correct");
    const reader = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:read"] } });
    const other = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:other:write"] } });
    const arith = { params: { bank: "arith" } };
    const allowed = await api.ok(listRunsRoute, { ...arith, token: reader.token });
    expect(allowed.runs.map((r) => r.id)).toEqual([id]);
    expect((await api.send(listRunsRoute, { ...arith, token: other.token })).status).toBe(404);
    expect((await api.send(listRunsRoute, arith)).status).toBe(401);
  });
});
