import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import type { RequestParts } from "../src/api/responseTypes.js";
import {
  getMemoryRoute,
  listMemoriesRoute,
  restoreMemoryRoute,
  retireMemoryRoute,
} from "../src/api/routes/memories.js";
import { importProblemsRoute } from "../src/api/routes/problems.js";
import { recallRoute } from "../src/api/routes/recall.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { importProblems } from "../src/memory/importProblems.js";
import { startBackgroundIndexer } from "../src/memory/indexer.js";
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

const PENS = "Sam has 4 boxes of 6 pens. How many pens?";
const SPEED = "A train covers 60 km in 2 hours. What is its speed in km per hour?";
const PETS = "Mia is 100% sure she has 3 cats and 2 dogs. How many pets?";
const SNAKE = "Add the values of snake_case items: 7 and 8. What is the total?";
const PAGES = "Tom reads 5 pages a day for 7 days. How many pages?";

/** A bank of five memories: four imported (one per verification) and one seeded. */
async function apiWithBank(): Promise<ApiClient> {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  const bank = await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: PENS, answer: "24", reasoning: "4 * 6 = 24" },
    {
      problem: SPEED,
      answer: "30",
      reasoning: "speed is distance over time: 60 / 2 = 30",
      verification: "checker",
    },
    { problem: PETS, answer: "5", reasoning: "3 + 2 = 5", verification: "consensus" },
    { problem: SNAKE, answer: "15", reasoning: "7 + 8 = 15", verification: "none" },
  ]);
  await importProblems({
    ctx,
    input: { bankId: bank.id, source: "seed", rows: [{ line: 1, value: { problem: PAGES, answer: "35" } }] },
  });
  return apiClient(createApp(ctx));
}

type MemoryQuery = RequestParts<typeof listMemoriesRoute>["query"];

async function list(api: ApiClient, query: MemoryQuery = {}) {
  return api.ok(listMemoriesRoute, { params: { bank: "arith" }, query });
}

async function problems(api: ApiClient, query: MemoryQuery): Promise<string[]> {
  return (await list(api, query)).memories.map((m) => m.problem);
}

async function memoryOf(api: ApiClient, problem: string) {
  const found = (await list(api, { limit: 100 })).memories.find((m) => m.problem === problem);
  if (!found) throw new Error(`no memory for ${problem}`);
  return found;
}

const detail = (api: ApiClient, id: string) => api.ok(getMemoryRoute, { params: { bank: "arith", id } });

async function recalledIds(api: ApiClient, query: string): Promise<string[]> {
  const body = await api.ok(recallRoute, { params: { bank: "arith" }, json: { query, k: 5 } });
  return body.memories.map((m) => m.id);
}

const ACTIONS = { retire: retireMemoryRoute, restore: restoreMemoryRoute };
const act = (api: ApiClient, id: string, action: keyof typeof ACTIONS, bank = "arith") =>
  api.send(ACTIONS[action], { params: { bank, id } });

const solve = (api: ApiClient, json: RequestParts<typeof solveRoute>["json"]) =>
  api.ok(solveRoute, { params: { bank: "arith" }, json: { samples: 4, ...json } });

describe("listing a bank's memories", () => {
  it("lists memories newest first with their provenance, usage and utility", async () => {
    const api = await apiWithBank();
    const { memories, nextCursor } = await list(api);
    expect(nextCursor).toBeUndefined();
    expect(memories.map((m) => m.problem)).toEqual([PAGES, SNAKE, PETS, SPEED, PENS]);
    expect(memories[4]).toMatchObject({
      bankId: "arith",
      answer: "24",
      source: "import",
      verification: "gold",
      trust: 5,
      status: "active",
      usage: { recalled: 0, helped: 0, hurt: 0, support: 1 },
      utility: { prior: 0.5, verified: 0.5 },
      version: 1,
      indexed: true,
    });
    expect(memories[0]).toMatchObject({ source: "seed", verification: "gold" });
  });

  it("filters by status, verification and source, alone and combined", async () => {
    const api = await apiWithBank();
    await act(api, (await memoryOf(api, PENS)).id, "retire");
    expect(await problems(api, { status: "retired" })).toEqual([PENS]);
    expect(await problems(api, { status: "active" })).toEqual([PAGES, SNAKE, PETS, SPEED]);
    expect(await problems(api, { status: "quarantined" })).toEqual([]);
    expect(await problems(api, { verification: "checker" })).toEqual([SPEED]);
    expect(await problems(api, { source: "seed" })).toEqual([PAGES]);
    expect(await problems(api, { source: "import", verification: "gold" })).toEqual([PENS]);
    expect(await problems(api, { source: "import", verification: "gold", status: "active" })).toEqual([]);
  });

  it("searches problem, reasoning and answer case-insensitively, taking % and _ literally", async () => {
    const api = await apiWithBank();
    expect(await problems(api, { q: "PENS" })).toEqual([PENS]);
    expect(await problems(api, { q: "distance over" })).toEqual([SPEED]);
    expect(await problems(api, { q: "35" })).toEqual([PAGES]);
    expect(await problems(api, { q: "0%" })).toEqual([PETS]);
    expect(await problems(api, { q: "_" })).toEqual([SNAKE]);
    expect(await problems(api, { q: "'; drop table memories; --" })).toEqual([]);
    expect(await problems(api, { q: "" })).toHaveLength(5);
    expect(await problems(api, { q: "pages", source: "import" })).toEqual([]);
  });

  it("pages through every memory exactly once, unshifted by memories written between pages", async () => {
    const api = await apiWithBank();
    const all = (await list(api)).memories.map((m) => m.id);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    let added = 0;
    do {
      const page = await list(api, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.memories.map((m) => m.id));
      sizes.push(page.memories.length);
      cursor = page.nextCursor;
      await api.ok(importProblemsRoute, {
        params: { bank: "arith" },
        json: [
          { problem: `Written meanwhile number ${++added}: what is ${added} + 1?`, answer: `${added + 1}` },
        ],
      });
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(all);
    const fresh = await list(api, { limit: 3 });
    expect(fresh.memories.map((m) => m.problem)[0]).toMatch(/^Written meanwhile number 3/);
  });

  it("answers 404 for an unknown bank and 400 naming the parameter for bad filters, limits and cursors", async () => {
    const api = await apiWithBank();
    await api.fails(listMemoriesRoute, { params: { bank: "nope" } }, 404);
    const runsCursor = Buffer.from("runs:3").toString("base64url");
    for (const [query, field] of [
      [{ status: "deleted" }, "status"],
      [{ verification: "great" }, "verification"],
      [{ source: "web" }, "source"],
      [{ limit: 0 }, "limit"],
      [{ limit: 1000 }, "limit"],
      [{ cursor: "%%" }, "cursor"],
      [{ cursor: runsCursor }, "cursor"],
      [{ q: "x".repeat(201) }, "q"],
    ] as const) {
      // deliberately bad queries, which the route's query type refuses
      const response = await api.send(listMemoriesRoute, {
        params: { bank: "arith" },
        query: query as never,
      });
      const label = JSON.stringify(query);
      expect(response.status, label).toBe(400);
      expect(((await response.json()) as { field: string }).field, label).toBe(field);
    }
  });
});

describe("reading one memory", () => {
  it("shows an imported memory's provenance and that no run has recalled it yet", async () => {
    const api = await apiWithBank();
    const { id } = await memoryOf(api, SPEED);
    expect(await detail(api, id)).toMatchObject({
      id,
      problem: SPEED,
      source: "import",
      verification: "checker",
      verificationDetail: { by: "import", line: 2 },
      trust: 4,
      usage: { recalled: 0, helped: 0, hurt: 0, support: 1 },
      recalledBy: [],
    });
  });

  it("lists the runs that recalled it, newest first, with rank, score and verdict, and counts their help", async () => {
    const api = await apiWithBank();
    fake.setBehavior({ kind: "fixed", content: "6 * 9 = 54\n#### 54" });
    const pens = await memoryOf(api, PENS);
    const first = await solve(api, { query: "Kai has 6 boxes of 9 pens. How many pens?", gold: "54" });
    const second = await solve(api, { query: "Ada has 9 boxes of 6 pens. How many pens?", gold: "55" });
    const recalledIn = (run: typeof first) => run.recalled.find((r) => r.memoryId === pens.id);
    expect(recalledIn(first)).toBeDefined();
    expect(recalledIn(second)).toBeDefined();

    const shown = await detail(api, pens.id);
    expect(shown.recalledBy).toEqual([
      {
        runId: second.runId,
        rank: recalledIn(second)?.rank,
        // stored as a 4-byte real
        finalScore: expect.closeTo(recalledIn(second)?.scores.final as number, 5),
        verdict: "incorrect",
        createdAt: expect.any(String),
      },
      {
        runId: first.runId,
        rank: recalledIn(first)?.rank,
        finalScore: expect.closeTo(recalledIn(first)?.scores.final as number, 5),
        verdict: "correct",
        createdAt: expect.any(String),
      },
    ]);
    expect(shown.usage).toEqual({ recalled: 2, helped: 1, hurt: 1, support: 1 });
    expect(shown.utility).toEqual({ prior: 2 / 4, verified: 2 / 4 });

    // the memory the first run wrote names the run and model it came from
    const written = await detail(api, first.writtenMemory?.memoryId as string);
    expect(written).toMatchObject({
      source: "run",
      runId: first.runId,
      model: "fake-model",
      verification: "gold",
      status: "active",
    });
  });

  it("answers 404 for an unknown memory, a memory of another bank and an unknown bank; 400 for a bad id", async () => {
    const api = await apiWithBank();
    await bankWithProblems(t.ctx(), { id: "other", domain: "number" }, [
      { problem: "What is 2 + 2?", answer: "4" },
    ]);
    const otherId = (await api.ok(listMemoriesRoute, { params: { bank: "other" } })).memories[0]
      ?.id as string;
    const ownId = (await memoryOf(api, PENS)).id;
    for (const params of [
      { bank: "arith", id: "mem_0000000000000000" },
      { bank: "arith", id: otherId },
      { bank: "nope", id: ownId },
    ]) {
      const response = await api.send(getMemoryRoute, { params });
      expect(response.status, JSON.stringify(params)).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
    expect((await api.send(getMemoryRoute, { params: { bank: "other", id: otherId } })).status).toBe(200);
    const bad = await api.send(getMemoryRoute, { params: { bank: "arith", id: "run_123" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe("id");
  });
});

describe("retiring and restoring a memory", () => {
  const ANALOGUE = "Kai has 3 boxes of 9 pens. How many pens?";

  it("retires a memory so recall no longer finds it, and restores it so recall finds it again", async () => {
    const api = await apiWithBank();
    const pens = await memoryOf(api, PENS);
    expect(await recalledIds(api, ANALOGUE)).toContain(pens.id);

    const retired = await act(api, pens.id, "retire");
    expect(retired.status).toBe(200);
    expect(await retired.json()).toMatchObject({ id: pens.id, status: "retired", version: 2, indexed: true });
    expect(await recalledIds(api, ANALOGUE)).not.toContain(pens.id);
    expect(await recalledIds(api, PENS)).not.toContain(pens.id);
    // kept, not deleted
    expect((await detail(api, pens.id)).status).toBe("retired");

    const restored = await act(api, pens.id, "restore");
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ status: "active", version: 3, indexed: true });
    expect(await recalledIds(api, ANALOGUE)).toContain(pens.id);
  });

  it("leaves the index to the background indexer, which removes a retired memory and re-adds a restored one", async () => {
    const api = await apiWithBank();
    const ctx = t.ctx();
    const indexer = startBackgroundIndexer(ctx, { delayMs: 5 });
    ctx.indexer = indexer;
    try {
      const { id } = await memoryOf(api, PENS);
      await act(api, id, "retire");
      await indexer.flush();
      expect(await ctx.index.ids("arith")).not.toContain(id);
      expect((await detail(api, id)).indexed).toBe(true);

      expect(await (await act(api, id, "restore")).json()).toMatchObject({ status: "active", version: 3 });
      await indexer.flush();
      expect(await ctx.index.ids("arith")).toContain(id);
      expect(await recalledIds(api, ANALOGUE)).toContain(id);
    } finally {
      await indexer.close();
      ctx.indexer = undefined;
    }
  });

  it("treats retiring a retired memory and restoring an active one as no change", async () => {
    const api = await apiWithBank();
    const { id } = await memoryOf(api, PENS);
    expect(await (await act(api, id, "restore")).json()).toMatchObject({ status: "active", version: 1 });
    await act(api, id, "retire");
    const again = await act(api, id, "retire");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "retired", version: 2 });
  });

  it("restores a memory verified below the bank's write-back tier to quarantine, where recall cannot see it", async () => {
    const api = await apiWithBank();
    const pets = await memoryOf(api, PETS);
    const analogue = "Leo is 100% sure he has 4 cats and 1 dog. How many pets?";
    expect(await recalledIds(api, analogue)).toContain(pets.id);
    await act(api, pets.id, "retire");
    const restored = await act(api, pets.id, "restore");
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ status: "quarantined", verification: "consensus" });
    expect(await recalledIds(api, analogue)).not.toContain(pets.id);
    expect(await recalledIds(api, PETS)).not.toContain(pets.id);
  });

  it("refuses to restore a quarantined memory with 409, so unverified content never becomes recallable", async () => {
    const api = await apiWithBank();
    // answers split evenly: unverified, so the run's memory is quarantined
    fake.setBehavior({ kind: "script", respond: (_, i) => `#### ${54 + (i % 2)}` });
    const query = "Ana has 7 jars of 8 beads. How many beads?";
    const run = await solve(api, { query, adaptive: false });
    expect(run.writtenMemory?.status).toBe("quarantined");
    const id = run.writtenMemory?.memoryId as string;

    const refused = await act(api, id, "restore");
    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await detail(api, id)).toMatchObject({ status: "quarantined", verification: "none", version: 1 });

    await act(api, id, "retire");
    expect(await (await act(api, id, "restore")).json()).toMatchObject({ status: "quarantined" });
    expect(await recalledIds(api, query)).not.toContain(id);
  });

  it("restores to active a memory verified at a lenient bank's write-back tier", async () => {
    const api = await apiWithBank();
    const ctx = t.ctx();
    await bankWithProblems(
      ctx,
      { id: "lenient", domain: "number", settings: { writeBackTier: "consensus" } },
      [{ problem: PETS, answer: "5", verification: "consensus" }],
    );
    const id = (await api.ok(listMemoriesRoute, { params: { bank: "lenient" } })).memories[0]?.id as string;
    await act(api, id, "retire", "lenient");
    expect(await (await act(api, id, "restore", "lenient")).json()).toMatchObject({ status: "active" });
  });

  it("answers 404 for unknown memories, banks and another bank's memory, leaving that memory as it was", async () => {
    const api = await apiWithBank();
    await bankWithProblems(t.ctx(), { id: "other", domain: "number" }, [
      { problem: "What is 2 + 2?", answer: "4" },
    ]);
    const otherBank = { params: { bank: "other" } };
    const otherId = (await api.ok(listMemoriesRoute, otherBank)).memories[0]?.id as string;
    for (const action of ["retire", "restore"] as const) {
      expect((await act(api, "mem_0000000000000000", action)).status).toBe(404);
      expect((await act(api, otherId, action)).status).toBe(404);
      expect((await act(api, otherId, action, "nope")).status).toBe(404);
      expect((await act(api, "not-an-id", action)).status).toBe(400);
    }
    const after = (await api.ok(listMemoriesRoute, otherBank)).memories[0];
    expect(after).toMatchObject({ status: "active", version: 1 });
  });

  it("lets a read-only key browse but not retire (403), and hides the bank from a key for another (404)", async () => {
    const api = await apiWithBank();
    const { id } = await memoryOf(api, PENS);
    const reader = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:read"] } });
    const writer = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:write"] } });
    const stranger = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:other:write"] } });
    const params = { bank: "arith", id };
    const status = async (
      route: typeof getMemoryRoute | typeof retireMemoryRoute | typeof restoreMemoryRoute,
      token?: string,
    ) => (await api.send(route, { params, token })).status;
    expect(
      (await api.send(listMemoriesRoute, { params: { bank: "arith" }, token: reader.token })).status,
    ).toBe(200);
    expect(await status(getMemoryRoute, reader.token)).toBe(200);
    expect(await status(retireMemoryRoute, reader.token)).toBe(403);
    expect(await status(restoreMemoryRoute, reader.token)).toBe(403);
    expect(await status(getMemoryRoute, stranger.token)).toBe(404);
    expect(await status(retireMemoryRoute, stranger.token)).toBe(404);
    expect(await status(retireMemoryRoute, writer.token)).toBe(200);
    expect(await status(retireMemoryRoute)).toBe(401);
  });
});
