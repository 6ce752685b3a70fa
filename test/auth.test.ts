import { OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { problemForError, problemResponse } from "../src/api/problem.js";
import { bankRoutes } from "../src/api/routes/banks.js";
import { runRoutes } from "../src/api/routes/runs.js";
import { queryRows } from "../src/db/database.js";
import { bankWithProblems, useTestContext } from "./support/context.js";

const t = useTestContext();
const ADMIN = "admin-token-for-tests-0123456789";

function request(token: string | undefined, method = "GET", body?: unknown): RequestInit {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
}

async function problemOf(response: Response) {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return (await response.json()) as { type: string; status: number; detail: string; field?: string };
}

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

async function createKey(app: ReturnType<typeof createApp>, scopes: string[], token = ADMIN) {
  const response = await app.request("/v1/keys", request(token, "POST", { name: "test", scopes }));
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; token: string; scopes: string[] };
}

describe("an open server (no key, no admin token)", () => {
  it("serves every request without credentials", async () => {
    const app = createApp(await twoBanks());
    expect((await app.request("/v1/banks")).status).toBe(200);
    expect((await app.request("/v1/banks/beta")).status).toBe(200);
  });

  it("requires credentials from everyone once a key has been created", async () => {
    const app = createApp(await twoBanks());
    const key = await createKey(app, ["bank:alpha:read"], "");
    const anonymous = await app.request("/v1/banks");
    expect(anonymous.status).toBe(401);
    expect(await problemOf(anonymous)).toMatchObject({
      type: "/problems/unauthorized",
      field: "authorization",
    });
    expect((await app.request("/v1/banks/alpha", request(key.token))).status).toBe(200);
  });
});

describe("the admin token", () => {
  it("is required on /v1 routes but not on health, readiness and the OpenAPI document", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    for (const path of ["/healthz", "/readyz", "/openapi.json"]) {
      expect((await app.request(path)).status, path).toBe(200);
    }
    const missing = await app.request("/v1/banks");
    expect(missing.status).toBe(401);
    expect(await problemOf(missing)).toMatchObject({ status: 401, type: "/problems/unauthorized" });
    expect((await app.request("/v1/banks", request(`${ADMIN}x`))).status).toBe(401);
    expect((await app.request("/v1/banks", { headers: { authorization: ADMIN } })).status).toBe(401);
    expect((await app.request("/v1/banks", request(ADMIN))).status).toBe(200);
  });

  it("may create banks and keys", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    const bank = await app.request("/v1/banks", request(ADMIN, "POST", { id: "gamma", domain: "text" }));
    expect(bank.status).toBe(201);
    const key = await createKey(app, ["bank:gamma:write"]);
    expect(key.token).toMatch(/^pk_[0-9a-z]+_[A-Za-z0-9_-]{43}$/);
  });
});

describe("API keys", () => {
  it("are stored hashed: the token appears once, in the creation answer, and nowhere in the database", async () => {
    const ctx = await twoBanks();
    const app = createApp(ctx, { adminToken: ADMIN });
    const key = await createKey(app, ["bank:alpha:read"]);
    const stored = await queryRows<{ row: string }>(
      ctx.db,
      sql`select row_to_json(k)::text as row from api_keys k`,
    );
    expect(stored).toHaveLength(1);
    const secret = key.token.slice(key.token.indexOf("_", 3) + 1);
    expect(secret).toHaveLength(43);
    expect(stored[0]?.row).not.toContain(secret);
    const listed = await app.request("/v1/keys", request(ADMIN));
    const body = (await listed.json()) as { keys: Record<string, unknown>[] };
    expect(body.keys).toEqual([expect.objectContaining({ id: key.id, scopes: ["bank:alpha:read"] })]);
    expect(JSON.stringify(body)).not.toContain(key.token);
  });

  it("reject unknown scopes and empty scope lists, naming the field", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    for (const scopes of [[], ["bank:alpha:delete"], ["root"], ["bank:../x:read"]]) {
      const response = await app.request("/v1/keys", request(ADMIN, "POST", { scopes }));
      expect(response.status, JSON.stringify(scopes)).toBe(400);
      expect((await problemOf(response)).field).toMatch(/^scopes/);
    }
  });

  it("stop working once revoked, and revoking twice is harmless", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    const key = await createKey(app, ["bank:alpha:read"]);
    expect((await app.request("/v1/banks/alpha", request(key.token))).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const revoked = await app.request(`/v1/keys/${key.id}/revoke`, request(ADMIN, "POST"));
      expect(revoked.status).toBe(200);
      expect(await revoked.json()).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
    }
    expect((await app.request("/v1/banks/alpha", request(key.token))).status).toBe(401);
    expect((await app.request("/v1/keys/key_nothere/revoke", request(ADMIN, "POST"))).status).toBe(404);
  });

  it("an admin-scoped key may manage keys and banks; a bank key may not", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    const admin = await createKey(app, ["admin"]);
    const writer = await createKey(app, ["bank:alpha:write"]);
    expect((await app.request("/v1/keys", request(admin.token))).status).toBe(200);
    const forbidden = await app.request("/v1/keys", request(writer.token));
    expect(forbidden.status).toBe(403);
    expect(await problemOf(forbidden)).toMatchObject({ type: "/problems/forbidden" });
    expect(
      (await app.request("/v1/banks", request(writer.token, "POST", { id: "x", domain: "text" }))).status,
    ).toBe(403);
    expect(
      (await app.request("/v1/banks", request(admin.token, "POST", { id: "x", domain: "text" }))).status,
    ).toBe(201);
  });
});

describe("bank scopes", () => {
  it("a read key sees its bank only, may recall in it and may not write to it", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    const key = await createKey(app, ["bank:alpha:read"]);
    const list = (await (await app.request("/v1/banks", request(key.token))).json()) as {
      banks: { id: string }[];
    };
    expect(list.banks.map((b) => b.id)).toEqual(["alpha"]);
    const recall = await app.request(
      "/v1/banks/alpha/recall",
      request(key.token, "POST", { query: "Ann has 3 boxes of 5 pens. How many pens?" }),
    );
    expect(recall.status).toBe(200);
    const write = await app.request(
      "/v1/banks/alpha/problems",
      request(key.token, "POST", [{ problem: "What is 2 + 2?", answer: "4" }]),
    );
    expect(write.status).toBe(403);
    expect(await problemOf(write)).toMatchObject({ type: "/problems/forbidden", field: "bank" });
  });

  it("a write key may import into its bank", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    const key = await createKey(app, ["bank:alpha:write"]);
    const write = await app.request(
      "/v1/banks/alpha/problems",
      request(key.token, "POST", [{ problem: "What is 2 + 2?", answer: "4" }]),
    );
    expect(write.status).toBe(200);
    expect(await write.json()).toMatchObject({ inserted: 1 });
  });

  it("another bank answers 404 exactly as a bank that does not exist", async () => {
    const app = createApp(await twoBanks(), { adminToken: ADMIN });
    const key = await createKey(app, ["bank:alpha:write"]);
    const existing = await app.request("/v1/banks/beta", request(key.token));
    const missing = await app.request("/v1/banks/nowhere", request(key.token));
    expect(existing.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [await problemOf(existing), await problemOf(missing)];
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
    const app = mountedWithoutAuthentication();
    for (const path of ["/v1/banks", "/v1/banks/alpha", "/v1/banks/alpha/runs"]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(401);
      expect((await problemOf(response)).field).toBe("authorization");
    }
  });

  it("changes nothing when a write is refused that way", async () => {
    await twoBanks();
    const response = await mountedWithoutAuthentication().request(
      "/v1/banks",
      request(undefined, "POST", { id: "gamma", domain: "number" }),
    );
    expect(response.status).toBe(401);
    const rows = await queryRows<{ n: number }>(t.ctx().db, sql`select count(*)::int as n from banks`);
    expect(rows[0]?.n).toBe(2);
  });

  it("still serves the same routes through the app, which authenticates first", async () => {
    await twoBanks();
    const response = await createApp(t.ctx()).request("/v1/banks/alpha");
    expect(response.status).toBe(200);
  });
});
