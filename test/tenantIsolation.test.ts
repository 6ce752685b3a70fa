import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { queryRows } from "../src/db/database.js";
import { createModelClient } from "../src/reasoning/model.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext({ shared: true });
const ADMIN = "admin-token-for-tests-0123456789";
const BETA_PROBLEM = "Beta has 6 crates of 9 melons. How many melons?";

type Need = "read" | "write";
/** Every route that touches one bank's data, with a valid request: the test below fails if one is missing. */
const BANK_ROUTES: Record<string, { need: Need; body?: unknown }> = {
  "GET /v1/banks/{bank}": { need: "read" },
  "PATCH /v1/banks/{bank}": { need: "write", body: { settings: { k: 3 } } },
  "GET /v1/banks/{bank}/impact": { need: "read" },
  "GET /v1/banks/{bank}/export": { need: "read" },
  "GET /v1/banks/{bank}/memories": { need: "read" },
  "GET /v1/banks/{bank}/memories/{id}": { need: "read" },
  "POST /v1/banks/{bank}/memories/{id}/retire": { need: "write" },
  "POST /v1/banks/{bank}/memories/{id}/restore": { need: "write" },
  "POST /v1/banks/{bank}/problems": { need: "write", body: [{ problem: "What is 5 + 8?", answer: "13" }] },
  "POST /v1/banks/{bank}/recall": { need: "read", body: { query: "How many melons are in 3 crates of 4?" } },
  "GET /v1/banks/{bank}/runs": { need: "read" },
  "POST /v1/banks/{bank}/solutions": {
    need: "write",
    body: {
      problem: "Beta has 2 crates of 5 melons. How many melons?",
      reasoning: "2 * 5 = 10",
      answer: "10",
    },
  },
  "POST /v1/banks/{bank}/solve": {
    need: "write",
    body: { query: "How many melons in 2 crates of 3?", samples: 1 },
  },
  "GET /v1/runs/{id}": { need: "read" },
  "POST /v1/runs/{id}/feedback": { need: "write", body: { correct: true } },
};

let fake: FakeOpenAI;
let app: ReturnType<typeof createApp>;
const keys: { alphaWriter: string; betaReader: string } = { alphaWriter: "", betaReader: "" };
const beta = { runId: "", memoryId: "" };

function call(route: string, token: string) {
  const [method, template] = route.split(" ") as [string, string];
  const path = template
    .replace("{bank}", "beta")
    .replace(/runs\/\{id\}/, `runs/${beta.runId}`)
    .replace(/memories\/\{id\}/, `memories/${beta.memoryId}`);
  const { body } = BANK_ROUTES[route] ?? {};
  return app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
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
  const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  const solved = await app.request("/v1/banks/beta/solve", {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ query: "Beta has 7 crates of 9 melons. How many melons?", samples: 2 }),
  });
  expect(solved.status).toBe(200);
  beta.runId = ((await solved.json()) as { runId: string }).runId;
  const [memory] = await queryRows<{ id: string }>(
    ctx.db,
    sql`select id from memories where bank_id = 'beta' and source <> 'run' order by seq limit 1`,
  );
  beta.memoryId = memory?.id ?? "";
  for (const [name, scopes] of [
    ["alphaWriter", ["bank:alpha:write"]],
    ["betaReader", ["bank:beta:read"]],
  ] as const) {
    const created = await app.request("/v1/keys", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ scopes }),
    });
    keys[name] = ((await created.json()) as { token: string }).token;
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
    const response = await app.request("/v1/banks", {
      headers: { authorization: `Bearer ${keys.alphaWriter}` },
    });
    const body = (await response.json()) as { banks: { id: string }[] };
    expect(body.banks.map((b) => b.id)).toEqual(["alpha"]);
  });
});
