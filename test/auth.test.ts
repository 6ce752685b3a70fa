import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { problemForError, problemResponse } from "../src/api/problem.js";
import { bankRoutes, createBankRoute, getBankRoute, listBanksRoute } from "../src/api/routes/banks.js";
import { createKeyRoute, listKeysRoute, revokeKeyRoute } from "../src/api/routes/keys.js";
import { importProblemsRoute } from "../src/api/routes/problems.js";
import { recallRoute } from "../src/api/routes/recall.js";
import { listRunsRoute, runRoutes } from "../src/api/routes/runs.js";
import { queryRows } from "../src/db/database.js";
import { type ApiClient, apiClient } from "./support/api.js";
import { bankWithProblems, useTestContext } from "./support/context.js";

const t = useTestContext();
const ADMIN = "admin-token-for-tests-0123456789";

async function twoBanks() {
  const ctx = t.ctx();
  for (const id of ["alpha", "beta"]) {
    await bankWithProblems(ctx, { id, domain: "number" }, [
      {
        problem: `Sam has 4 boxes of 6 pens in ${id}. How many pens?`,
        answer: "24",
        reasoning: "4 * 6 = 24",
      },
    ]);
  }
  return ctx;
}

const createKey = (api: ApiClient, scopes: string[], token = ADMIN) =>
  api.ok(createKeyRoute, { json: { name: "test", scopes }, token });

const alpha = { params: { bank: "alpha" } };

describe("an open server (no key, no admin token)", () => {
  it("serves every request without credentials", async () => {
    const api = apiClient(createApp(await twoBanks()));
    expect((await api.send(listBanksRoute)).status).toBe(200);
    expect((await api.send(getBankRoute, { params: { bank: "beta" } })).status).toBe(200);
  });

  it("requires credentials from everyone once a key has been created", async () => {
    const api = apiClient(createApp(await twoBanks()));
    const key = await createKey(api, ["bank:alpha:read"], "");
    expect(await api.fails(listBanksRoute, {}, 401)).toMatchObject({
      type: "/problems/unauthorized",
      field: "authorization",
    });
    expect((await api.send(getBankRoute, { ...alpha, token: key.token })).status).toBe(200);
  });
});

describe("the admin token", () => {
  it("is required on /v1 routes but not on health, readiness and the OpenAPI document", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    for (const path of ["/healthz", "/readyz", "/openapi.json"]) {
      expect((await app.request(path)).status, path).toBe(200);
    }
    const api = apiClient(app);
    expect(await api.fails(listBanksRoute, {}, 401)).toMatchObject({
      status: 401,
      type: "/problems/unauthorized",
    });
    expect((await api.send(listBanksRoute, { token: `${ADMIN}x` })).status).toBe(401);
    // the token without its Bearer scheme
    expect((await api.send(listBanksRoute, { headers: { authorization: ADMIN } })).status).toBe(401);
    expect((await api.send(listBanksRoute, { token: ADMIN })).status).toBe(200);
  });

  it("may create banks and keys", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    await api.ok(createBankRoute, { json: { id: "gamma", domain: "text" }, token: ADMIN });
    const key = await createKey(api, ["bank:gamma:write"]);
    expect(key.token).toMatch(/^pk_[0-9a-z]+_[A-Za-z0-9_-]{43}$/);
  });
});

describe("API keys", () => {
  it("are stored hashed: the token appears once, in the creation answer, and nowhere in the database", async () => {
    const ctx = await twoBanks();
    const api = apiClient(createApp(ctx, { adminToken: ADMIN }));
    const key = await createKey(api, ["bank:alpha:read"]);
    const stored = await queryRows<{ row: string }>(
      ctx.db,
      sql`select row_to_json(k)::text as row from api_keys k`,
    );
    expect(stored).toHaveLength(1);
    const secret = key.token.slice(key.token.indexOf("_", 3) + 1);
    expect(secret).toHaveLength(43);
    expect(stored[0]?.row).not.toContain(secret);
    const body = await api.ok(listKeysRoute, { token: ADMIN });
    expect(body.keys).toEqual([expect.objectContaining({ id: key.id, scopes: ["bank:alpha:read"] })]);
    expect(JSON.stringify(body)).not.toContain(key.token);
  });

  it("reject unknown scopes and empty scope lists, naming the field", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    for (const scopes of [[], ["bank:alpha:delete"], ["root"], ["bank:../x:read"]]) {
      const problem = await api.fails(createKeyRoute, { unchecked: { scopes }, token: ADMIN }, 400);
      expect(problem.field).toMatch(/^scopes/);
    }
  });

  it("stop working once revoked, and revoking twice is harmless", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    const key = await createKey(api, ["bank:alpha:read"]);
    expect((await api.send(getBankRoute, { ...alpha, token: key.token })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const revoked = await api.ok(revokeKeyRoute, { params: { id: key.id }, token: ADMIN });
      expect(revoked).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
    }
    expect((await api.send(getBankRoute, { ...alpha, token: key.token })).status).toBe(401);
    expect((await api.send(revokeKeyRoute, { params: { id: "key_nothere" }, token: ADMIN })).status).toBe(
      404,
    );
  });

  it("an admin-scoped key may manage keys and banks; a bank key may not", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    const admin = await createKey(api, ["admin"]);
    const writer = await createKey(api, ["bank:alpha:write"]);
    expect((await api.send(listKeysRoute, { token: admin.token })).status).toBe(200);
    expect(await api.fails(listKeysRoute, { token: writer.token }, 403)).toMatchObject({
      type: "/problems/forbidden",
    });
    const bankX = { json: { id: "x", domain: "text" } } as const;
    expect((await api.send(createBankRoute, { ...bankX, token: writer.token })).status).toBe(403);
    expect((await api.send(createBankRoute, { ...bankX, token: admin.token })).status).toBe(201);
  });
});

describe("bank scopes", () => {
  it("a read key sees its bank only, may recall in it and may not write to it", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    const key = await createKey(api, ["bank:alpha:read"]);
    const list = await api.ok(listBanksRoute, { token: key.token });
    expect(list.banks.map((b) => b.id)).toEqual(["alpha"]);
    const recall = await api.send(recallRoute, {
      ...alpha,
      json: { query: "Ann has 3 boxes of 5 pens. How many pens?" },
      token: key.token,
    });
    expect(recall.status).toBe(200);
    const write = { ...alpha, json: [{ problem: "What is 2 + 2?", answer: "4" }], token: key.token };
    expect(await api.fails(importProblemsRoute, write, 403)).toMatchObject({
      type: "/problems/forbidden",
      field: "bank",
    });
  });

  it("a write key may import into its bank", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    const key = await createKey(api, ["bank:alpha:write"]);
    const write = await api.ok(importProblemsRoute, {
      ...alpha,
      json: [{ problem: "What is 2 + 2?", answer: "4" }],
      token: key.token,
    });
    expect(write).toMatchObject({ inserted: 1 });
  });

  it("another bank answers 404 exactly as a bank that does not exist", async () => {
    const api = apiClient(createApp(await twoBanks(), { adminToken: ADMIN }));
    const key = await createKey(api, ["bank:alpha:write"]);
    const a = await api.fails(getBankRoute, { params: { bank: "beta" }, token: key.token }, 404);
    const b = await api.fails(getBankRoute, { params: { bank: "nowhere" }, token: key.token }, 404);
    expect(a.type).toBe(b.type);
    expect(a.detail.replace("beta", "X")).toBe(b.detail.replace("nowhere", "X"));
  });
});

describe("authorization fails closed", () => {
  // a router mounted by mistake without the authentication middleware: no principal was ever set
  function mountedWithoutAuthentication() {
    const app = new OpenAPIHono();
    app.route("/", bankRoutes());
    app.route("/", runRoutes());
    app.onError((err, c) => problemResponse(c, problemForError(err, "test")));
    return app;
  }

  it("refuses a bank's routes with 401 when no principal was resolved, even on a server with no keys", async () => {
    await twoBanks();
    const api = apiClient(mountedWithoutAuthentication());
    const reads: [RouteConfig, object][] = [
      [listBanksRoute, {}],
      [getBankRoute, { bank: "alpha" }],
      [listRunsRoute, { bank: "alpha" }],
    ];
    for (const [route, params] of reads) {
      // the table mixes routes, so their parameters are not typed per route here
      const problem = await api.fails(route, { params: params as never }, 401);
      expect(problem.field).toBe("authorization");
    }
  });

  it("changes nothing when a write is refused that way", async () => {
    await twoBanks();
    const response = await apiClient(mountedWithoutAuthentication()).send(createBankRoute, {
      json: { id: "gamma", domain: "number" },
    });
    expect(response.status).toBe(401);
    const rows = await queryRows<{ n: number }>(t.ctx().db, sql`select count(*)::int as n from banks`);
    expect(rows[0]?.n).toBe(2);
  });

  it("still serves the same routes through the app, which authenticates first", async () => {
    await twoBanks();
    const response = await apiClient(createApp(t.ctx())).send(getBankRoute, alpha);
    expect(response.status).toBe(200);
  });
});
