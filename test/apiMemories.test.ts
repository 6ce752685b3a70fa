import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { importProblems } from "../src/memory/importProblems.js";
import { startBackgroundIndexer } from "../src/memory/indexer.js";
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

type App = ReturnType<typeof createApp>;

interface Memory {
  id: string;
  bankId: string;
  problem: string;
  answer: string;
  source: string;
  runId?: string;
  model?: string;
  verification: string;
  verificationDetail: Record<string, unknown>;
  trust: number;
  status: string;
  usage: { recalled: number; helped: number; hurt: number; support: number };
  utility: { prior: number; verified: number };
  version: number;
  indexed: boolean;
  createdAt: string;
}
interface MemoryDetail extends Memory {
  recalledBy: { runId: string; rank: number; finalScore: number; verdict: string; createdAt: string }[];
}
interface Page {
  memories: Memory[];
  nextCursor?: string;
}

const post = (body?: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

const PENS = "Sam has 4 boxes of 6 pens. How many pens?";
const SPEED = "A train covers 60 km in 2 hours. What is its speed in km per hour?";
const PETS = "Mia is 100% sure she has 3 cats and 2 dogs. How many pets?";
const SNAKE = "Add the values of snake_case items: 7 and 8. What is the total?";
const PAGES = "Tom reads 5 pages a day for 7 days. How many pages?";

/** A bank of five memories: four imported (one per verification) and one seeded. */
async function appWithBank(): Promise<App> {
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
  return createApp(ctx);
}

async function list(app: App, query = ""): Promise<Page> {
  const response = await app.request(`/v1/banks/arith/memories${query}`);
  expect(response.status, query).toBe(200);
  return (await response.json()) as Page;
}

async function problems(app: App, query: string): Promise<string[]> {
  return (await list(app, query)).memories.map((m) => m.problem);
}

async function memoryOf(app: App, problem: string): Promise<Memory> {
  const found = (await list(app, "?limit=100")).memories.find((m) => m.problem === problem);
  if (!found) throw new Error(`no memory for ${problem}`);
  return found;
}

async function detail(app: App, id: string): Promise<MemoryDetail> {
  const response = await app.request(`/v1/banks/arith/memories/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as MemoryDetail;
}

async function recalledIds(app: App, query: string): Promise<string[]> {
  const response = await app.request("/v1/banks/arith/recall", post({ query, k: 5 }));
  expect(response.status).toBe(200);
  return ((await response.json()) as { memories: { id: string }[] }).memories.map((m) => m.id);
}

async function act(app: App, id: string, action: "retire" | "restore", bank = "arith") {
  return app.request(`/v1/banks/${bank}/memories/${id}/${action}`, post());
}

async function solve(app: App, body: Record<string, unknown>) {
  const response = await app.request("/v1/banks/arith/solve", post({ samples: 4, ...body }));
  expect(response.status).toBe(200);
  return (await response.json()) as {
    runId: string;
    recalled: { memoryId: string; rank: number; scores: { final: number } }[];
    writtenMemory?: { memoryId: string; status: string };
  };
}

describe("listing a bank's memories", () => {
  it("lists memories newest first with their provenance, usage and utility", async () => {
    const app = await appWithBank();
    const { memories, nextCursor } = await list(app);
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
    const app = await appWithBank();
    await act(app, (await memoryOf(app, PENS)).id, "retire");
    expect(await problems(app, "?status=retired")).toEqual([PENS]);
    expect(await problems(app, "?status=active")).toEqual([PAGES, SNAKE, PETS, SPEED]);
    expect(await problems(app, "?status=quarantined")).toEqual([]);
    expect(await problems(app, "?verification=checker")).toEqual([SPEED]);
    expect(await problems(app, "?source=seed")).toEqual([PAGES]);
    expect(await problems(app, "?source=import&verification=gold")).toEqual([PENS]);
    expect(await problems(app, "?source=import&verification=gold&status=active")).toEqual([]);
  });

  it("searches problem, reasoning and answer case-insensitively, taking % and _ literally", async () => {
    const app = await appWithBank();
    expect(await problems(app, "?q=PENS")).toEqual([PENS]);
    expect(await problems(app, "?q=distance%20over")).toEqual([SPEED]);
    expect(await problems(app, "?q=35")).toEqual([PAGES]);
    expect(await problems(app, `?q=${encodeURIComponent("0%")}`)).toEqual([PETS]);
    expect(await problems(app, "?q=_")).toEqual([SNAKE]);
    expect(await problems(app, `?q=${encodeURIComponent("'; drop table memories; --")}`)).toEqual([]);
    expect(await problems(app, "?q=")).toHaveLength(5);
    expect(await problems(app, "?q=pages&source=import")).toEqual([]);
  });

  it("pages through every memory exactly once, unshifted by memories written between pages", async () => {
    const app = await appWithBank();
    const all = (await list(app)).memories.map((m) => m.id);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    let added = 0;
    do {
      const page = await list(app, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.memories.map((m) => m.id));
      sizes.push(page.memories.length);
      cursor = page.nextCursor;
      const response = await app.request(
        "/v1/banks/arith/problems",
        post([
          { problem: `Written meanwhile number ${++added}: what is ${added} + 1?`, answer: `${added + 1}` },
        ]),
      );
      expect(response.status).toBe(200);
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(all);
    const fresh = await list(app, "?limit=3");
    expect(fresh.memories.map((m) => m.problem)[0]).toMatch(/^Written meanwhile number 3/);
  });

  it("answers 404 for an unknown bank and 400 naming the parameter for bad filters, limits and cursors", async () => {
    const app = await appWithBank();
    const missing = await app.request("/v1/banks/nope/memories");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    const runsCursor = Buffer.from("runs:3").toString("base64url");
    for (const [query, field] of [
      ["?status=deleted", "status"],
      ["?verification=great", "verification"],
      ["?source=web", "source"],
      ["?limit=0", "limit"],
      ["?limit=1000", "limit"],
      ["?cursor=%25%25", "cursor"],
      [`?cursor=${runsCursor}`, "cursor"],
      [`?q=${"x".repeat(201)}`, "q"],
    ] as const) {
      const response = await app.request(`/v1/banks/arith/memories${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { field: string }).field, query).toBe(field);
    }
  });
});

describe("reading one memory", () => {
  it("shows an imported memory's provenance and that no run has recalled it yet", async () => {
    const app = await appWithBank();
    const { id } = await memoryOf(app, SPEED);
    expect(await detail(app, id)).toMatchObject({
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
    const app = await appWithBank();
    fake.setBehavior({ kind: "fixed", content: "6 * 9 = 54\n#### 54" });
    const pens = await memoryOf(app, PENS);
    const first = await solve(app, { query: "Kai has 6 boxes of 9 pens. How many pens?", gold: "54" });
    const second = await solve(app, { query: "Ada has 9 boxes of 6 pens. How many pens?", gold: "55" });
    const recalledIn = (run: typeof first) => run.recalled.find((r) => r.memoryId === pens.id);
    expect(recalledIn(first)).toBeDefined();
    expect(recalledIn(second)).toBeDefined();

    const shown = await detail(app, pens.id);
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
    const written = await detail(app, first.writtenMemory?.memoryId as string);
    expect(written).toMatchObject({
      source: "run",
      runId: first.runId,
      model: "fake-model",
      verification: "gold",
      status: "active",
    });
  });

  it("answers 404 for an unknown memory, a memory of another bank and an unknown bank; 400 for a bad id", async () => {
    const app = await appWithBank();
    await bankWithProblems(t.ctx(), { id: "other", domain: "number" }, [
      { problem: "What is 2 + 2?", answer: "4" },
    ]);
    const otherId = ((await (await app.request("/v1/banks/other/memories")).json()) as Page).memories[0]
      ?.id as string;
    const ownId = (await memoryOf(app, PENS)).id;
    for (const path of [
      "/v1/banks/arith/memories/mem_0000000000000000",
      `/v1/banks/arith/memories/${otherId}`,
      `/v1/banks/nope/memories/${ownId}`,
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
    expect((await app.request(`/v1/banks/other/memories/${otherId}`)).status).toBe(200);
    const bad = await app.request("/v1/banks/arith/memories/run_123");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe("id");
  });
});

describe("retiring and restoring a memory", () => {
  const ANALOGUE = "Kai has 3 boxes of 9 pens. How many pens?";

  it("retires a memory so recall no longer finds it, and restores it so recall finds it again", async () => {
    const app = await appWithBank();
    const pens = await memoryOf(app, PENS);
    expect(await recalledIds(app, ANALOGUE)).toContain(pens.id);

    const retired = await act(app, pens.id, "retire");
    expect(retired.status).toBe(200);
    expect(await retired.json()).toMatchObject({ id: pens.id, status: "retired", version: 2, indexed: true });
    expect(await recalledIds(app, ANALOGUE)).not.toContain(pens.id);
    expect(await recalledIds(app, PENS)).not.toContain(pens.id);
    // kept, not deleted
    expect((await detail(app, pens.id)).status).toBe("retired");

    const restored = await act(app, pens.id, "restore");
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ status: "active", version: 3, indexed: true });
    expect(await recalledIds(app, ANALOGUE)).toContain(pens.id);
  });

  it("leaves the index to the background indexer, which removes a retired memory and re-adds a restored one", async () => {
    const app = await appWithBank();
    const ctx = t.ctx();
    const indexer = startBackgroundIndexer(ctx, { delayMs: 5 });
    ctx.indexer = indexer;
    try {
      const { id } = await memoryOf(app, PENS);
      await act(app, id, "retire");
      await indexer.flush();
      expect(await ctx.index.ids("arith")).not.toContain(id);
      expect((await detail(app, id)).indexed).toBe(true);

      expect(await (await act(app, id, "restore")).json()).toMatchObject({ status: "active", version: 3 });
      await indexer.flush();
      expect(await ctx.index.ids("arith")).toContain(id);
      expect(await recalledIds(app, ANALOGUE)).toContain(id);
    } finally {
      await indexer.close();
      ctx.indexer = undefined;
    }
  });

  it("treats retiring a retired memory and restoring an active one as no change", async () => {
    const app = await appWithBank();
    const { id } = await memoryOf(app, PENS);
    expect(await (await act(app, id, "restore")).json()).toMatchObject({ status: "active", version: 1 });
    await act(app, id, "retire");
    const again = await act(app, id, "retire");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "retired", version: 2 });
  });

  it("restores a memory verified below the bank's write-back tier to quarantine, where recall cannot see it", async () => {
    const app = await appWithBank();
    const pets = await memoryOf(app, PETS);
    const analogue = "Leo is 100% sure he has 4 cats and 1 dog. How many pets?";
    expect(await recalledIds(app, analogue)).toContain(pets.id);
    await act(app, pets.id, "retire");
    const restored = await act(app, pets.id, "restore");
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ status: "quarantined", verification: "consensus" });
    expect(await recalledIds(app, analogue)).not.toContain(pets.id);
    expect(await recalledIds(app, PETS)).not.toContain(pets.id);
  });

  it("refuses to restore a quarantined memory with 409, so unverified content never becomes recallable", async () => {
    const app = await appWithBank();
    // answers split evenly: unverified, so the run's memory is quarantined
    fake.setBehavior({ kind: "script", respond: (_, i) => `#### ${54 + (i % 2)}` });
    const query = "Ana has 7 jars of 8 beads. How many beads?";
    const run = await solve(app, { query, adaptive: false });
    expect(run.writtenMemory?.status).toBe("quarantined");
    const id = run.writtenMemory?.memoryId as string;

    const refused = await act(app, id, "restore");
    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await detail(app, id)).toMatchObject({ status: "quarantined", verification: "none", version: 1 });

    await act(app, id, "retire");
    expect(await (await act(app, id, "restore")).json()).toMatchObject({ status: "quarantined" });
    expect(await recalledIds(app, query)).not.toContain(id);
  });

  it("restores to active a memory verified at a lenient bank's write-back tier", async () => {
    const app = await appWithBank();
    const ctx = t.ctx();
    await bankWithProblems(
      ctx,
      { id: "lenient", domain: "number", settings: { writeBackTier: "consensus" } },
      [{ problem: PETS, answer: "5", verification: "consensus" }],
    );
    const { id } = ((await (await app.request("/v1/banks/lenient/memories")).json()) as Page)
      .memories[0] as Memory;
    await act(app, id, "retire", "lenient");
    expect(await (await act(app, id, "restore", "lenient")).json()).toMatchObject({ status: "active" });
  });

  it("answers 404 for unknown memories, banks and another bank's memory, leaving that memory as it was", async () => {
    const app = await appWithBank();
    await bankWithProblems(t.ctx(), { id: "other", domain: "number" }, [
      { problem: "What is 2 + 2?", answer: "4" },
    ]);
    const other = ((await (await app.request("/v1/banks/other/memories")).json()) as Page)
      .memories[0] as Memory;
    for (const action of ["retire", "restore"] as const) {
      expect((await act(app, "mem_0000000000000000", action)).status).toBe(404);
      expect((await act(app, other.id, action)).status).toBe(404);
      expect((await act(app, other.id, action, "nope")).status).toBe(404);
      expect((await act(app, "not-an-id", action)).status).toBe(400);
    }
    const after = ((await (await app.request("/v1/banks/other/memories")).json()) as Page).memories[0];
    expect(after).toMatchObject({ status: "active", version: 1 });
  });

  it("lets a read-only key browse but not retire (403), and hides the bank from a key for another (404)", async () => {
    const app = await appWithBank();
    const { id } = await memoryOf(app, PENS);
    const reader = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:read"] } });
    const writer = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:write"] } });
    const stranger = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:other:write"] } });
    const as = (token: string, init: RequestInit = {}) => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });
    const path = `/v1/banks/arith/memories/${id}`;
    expect((await app.request("/v1/banks/arith/memories", as(reader.token))).status).toBe(200);
    expect((await app.request(path, as(reader.token))).status).toBe(200);
    expect((await app.request(`${path}/retire`, as(reader.token, post()))).status).toBe(403);
    expect((await app.request(`${path}/restore`, as(reader.token, post()))).status).toBe(403);
    expect((await app.request(path, as(stranger.token))).status).toBe(404);
    expect((await app.request(`${path}/retire`, as(stranger.token, post()))).status).toBe(404);
    expect((await app.request(`${path}/retire`, as(writer.token, post()))).status).toBe(200);
    expect((await app.request(`${path}/retire`, post())).status).toBe(401);
  });
});
