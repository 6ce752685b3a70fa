import type { RouteConfig } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { getBankRoute, listBanksRoute, updateBankRoute } from "../src/api/routes/banks.js";
import { exportMemoriesRoute } from "../src/api/routes/export.js";
import { bankImpactRoute } from "../src/api/routes/impact.js";
import { createKeyRoute } from "../src/api/routes/keys.js";
import {
  getMemoryRoute,
  listMemoriesRoute,
  restoreMemoryRoute,
  retireMemoryRoute,
} from "../src/api/routes/memories.js";
import { importProblemsRoute } from "../src/api/routes/problems.js";
import { recallRoute } from "../src/api/routes/recall.js";
import { feedbackRoute, getRunRoute, listRunsRoute } from "../src/api/routes/runs.js";
import { rememberSolutionRoute } from "../src/api/routes/solutions.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { queryRows } from "../src/db/database.js";
import { createModelClient } from "../src/reasoning/model.js";
import { apiClient } from "./support/api.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext({ shared: true });
const ADMIN = "admin-token-for-tests-0123456789";
const BETA_PROBLEM = "Beta has 6 crates of 9 melons. How many melons?";

type Need = "read" | "write";
type BankRoute = { route: RouteConfig; need: Need; body?: unknown; id?: () => string };
const beta = { runId: "", memoryId: "" };
const memoryId = () => beta.memoryId;
const runId = () => beta.runId;
/** Every route that touches one bank's data, with a valid request: the test below fails if one is missing. */
const BANK_ROUTE_LIST: BankRoute[] = [
  { route: getBankRoute, need: "read" },
  { route: updateBankRoute, need: "write", body: { settings: { k: 3 } } },
  { route: bankImpactRoute, need: "read" },
  { route: exportMemoriesRoute, need: "read" },
  { route: listMemoriesRoute, need: "read" },
  { route: getMemoryRoute, need: "read", id: memoryId },
  { route: retireMemoryRoute, need: "write", id: memoryId },
  { route: restoreMemoryRoute, need: "write", id: memoryId },
  { route: importProblemsRoute, need: "write", body: [{ problem: "What is 5 + 8?", answer: "13" }] },
  { route: recallRoute, need: "read", body: { query: "How many melons are in 3 crates of 4?" } },
  { route: listRunsRoute, need: "read" },
  {
    route: rememberSolutionRoute,
    need: "write",
    body: {
      problem: "Beta has 2 crates of 5 melons. How many melons?",
      reasoning: "2 * 5 = 10",
      answer: "10",
    },
  },
  { route: solveRoute, need: "write", body: { query: "How many melons in 2 crates of 3?", samples: 1 } },
  { route: getRunRoute, need: "read", id: runId },
  { route: feedbackRoute, need: "write", body: { correct: true }, id: runId },
];
const BANK_ROUTES = Object.fromEntries(
  BANK_ROUTE_LIST.map((r) => [`${r.route.method.toUpperCase()} ${r.route.path}`, r]),
);

let fake: FakeOpenAI;
let app: ReturnType<typeof createApp>;
const keys: { alphaWriter: string; betaReader: string } = { alphaWriter: "", betaReader: "" };

function call(name: string, token: string) {
  const { route, body, id } = BANK_ROUTES[name] as BankRoute;
  // the table mixes routes, so their parameters are not typed per route here
  const params = { bank: "beta", ...(id ? { id: id() } : {}) } as never;
  return apiClient(app, { token }).send(route, { params, unchecked: body });
}

/** Row counts and fingerprints of everything a request could change. */
async function databaseState() {
  const [row] = await queryRows<Record<string, string>>(
    t.ctx().db,
    sql`select (select count(*) from memories) as memories,
               (select count(*) from memories where status = 'active') as active,
               (select coalesce(sum(recalled_count + helped_count + hurt_count), 0) from memories) as credit,
               (select count(*) from runs) as runs,
               (select count(*) from feedback) as feedback`,
  );
  return row;
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  app = createApp(ctx, { adminToken: ADMIN });
  await bankWithProblems(ctx, { id: "alpha", domain: "number" }, [
    { problem: "Alpha has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  await bankWithProblems(ctx, { id: "beta", domain: "number" }, [
    { problem: BETA_PROBLEM, answer: "54", reasoning: "6 * 9 = 54" },
  ]);
  const admin = apiClient(app, { token: ADMIN });
  const solved = await admin.ok(solveRoute, {
    params: { bank: "beta" },
    json: { query: "Beta has 7 crates of 9 melons. How many melons?", samples: 2 },
  });
  beta.runId = solved.runId;
  const [memory] = await queryRows<{ id: string }>(
    ctx.db,
    sql`select id from memories where bank_id = 'beta' and source <> 'run' order by seq limit 1`,
  );
  beta.memoryId = memory?.id ?? "";
  for (const [name, scopes] of [
    ["alphaWriter", ["bank:alpha:write"]],
    ["betaReader", ["bank:beta:read"]],
  ] as const) {
    keys[name] = (await admin.ok(createKeyRoute, { json: { scopes: [...scopes] } })).token;
  }
});
afterAll(async () => {
  await fake?.close();
});

describe("tenant isolation", () => {
  it("the table below covers every route that reaches into a bank", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, object> };
    const scoped = Object.entries(doc.paths).flatMap(([path, methods]) =>
      path.includes("{bank}") || path.startsWith("/v1/runs/")
        ? Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)
        : [],
    );
    expect(scoped.sort()).toEqual(Object.keys(BANK_ROUTES).sort());
  });

  it.each(Object.keys(BANK_ROUTES))(
    "a key for bank alpha gets 404 and nothing of bank beta from %s",
    async (route) => {
      const before = await databaseState();
      const response = await call(route, keys.alphaWriter);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ type: "/problems/not-found", status: 404 });
      expect(text).not.toContain("melons");
      expect(text).not.toContain(beta.memoryId);
      expect(await databaseState()).toEqual(before);
    },
  );

  it.each(
    Object.entries(BANK_ROUTES)
      .filter(([, r]) => r.need === "write")
      .map(([route]) => route),
  )("a read-only key for bank beta gets 403 and changes nothing at %s", async (route) => {
    const before = await databaseState();
    const response = await call(route, keys.betaReader);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ type: "/problems/forbidden", status: 403 });
    expect(await databaseState()).toEqual(before);
  });

  it.each(
    Object.entries(BANK_ROUTES)
      .filter(([, r]) => r.need === "read")
      .map(([route]) => route),
  )("a read-only key for bank beta may read it at %s", async (route) => {
    const response = await call(route, keys.betaReader);
    expect(response.status).toBe(200);
  });

  it("a streamed solve into another bank is refused before any event is sent", async () => {
    const response = await app.request("/v1/banks/beta/solve", {
      method: "POST",
      headers: {
        authorization: `Bearer ${keys.alphaWriter}`,
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      body: JSON.stringify({ query: "How many melons in 2 crates of 3?" }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  it("the bank list shows a key only its own banks", async () => {
    const body = await apiClient(app, { token: keys.alphaWriter }).ok(listBanksRoute);
    expect(body.banks.map((b) => b.id)).toEqual(["alpha"]);
  });
});
