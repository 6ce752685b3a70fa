import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { createBank } from "../src/memory/banks.js";
import type { Services } from "../src/services.js";
import { useTestContext } from "./support/context.js";

const t = useTestContext();

type Line = Record<string, unknown>;

/** A context whose logger writes JSON lines into memory, at info level, for assertions. */
function logged(base: Services): { ctx: Services; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split("\n")) if (text.trim()) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { ctx: { ...base, log: pino({ level: "info" }, sink) }, lines };
}

const requestLines = (lines: Line[]) =>
  lines.filter((l) => l.msg === "request" || l.msg === "request failed");

describe("request logs", () => {
  it("writes one structured info line per request: method, path, status, duration, request id", async () => {
    const { ctx, lines } = logged(t.ctx());
    const response = await createApp(ctx).request("/healthz?probe=1");
    expect(response.status).toBe(200);
    expect(requestLines(lines)).toHaveLength(1);
    const [line] = requestLines(lines);
    expect(line).toMatchObject({
      level: 30,
      msg: "request",
      method: "GET",
      path: "/healthz",
      status: 200,
      requestId: response.headers.get("x-request-id"),
    });
    expect(typeof line?.durationMs).toBe("number");
    expect(line?.durationMs).toBeGreaterThanOrEqual(0);
    // a public route has no caller to name
    expect(line).not.toHaveProperty("principal");
  });

  it("names the caller: the key id for an API key, the kind otherwise", async () => {
    await createBank({ ctx: t.ctx(), input: { id: "arith", domain: "number" } });
    const key = await createApiKey({ ctx: t.ctx(), input: { scopes: ["bank:arith:read"] } });
    const { ctx, lines } = logged(t.ctx());
    const app = createApp(ctx, { adminToken: "admin-secret" });

    const asKey = await app.request("/v1/banks/arith", { headers: { authorization: `Bearer ${key.token}` } });
    expect(asKey.status).toBe(200);
    const asAdmin = await app.request("/v1/banks", { headers: { authorization: "Bearer admin-secret" } });
    expect(asAdmin.status).toBe(200);

    expect(requestLines(lines)).toMatchObject([
      { path: "/v1/banks/arith", status: 200, principal: "key", keyId: key.id },
      { path: "/v1/banks", status: 200, principal: "admin-token" },
    ]);
    expect(requestLines(lines)[1]).not.toHaveProperty("keyId");
    expect(JSON.stringify(lines)).not.toContain(key.token);
  });

  it("logs a 4xx at info level without an error", async () => {
    const { ctx, lines } = logged(t.ctx());
    const response = await createApp(ctx).request("/v1/banks/nope");
    expect(response.status).toBe(404);
    expect(requestLines(lines)).toHaveLength(1);
    expect(requestLines(lines)[0]).toMatchObject({ level: 30, status: 404, principal: "open" });
    expect(requestLines(lines)[0]).not.toHaveProperty("err");
  });

  it("logs a 5xx at error level with the error and its stack, which the response does not show", async () => {
    const { ctx, lines } = logged(t.ctx());
    const failing = new Proxy(ctx.db, {
      get(target, prop, receiver) {
        if (prop === "select") {
          return () => {
            throw new Error("database is down");
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const response = await createApp({ ...ctx, db: failing }).request("/v1/banks");
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).not.toMatch(/database is down|\bat .+:\d+:\d+/);

    expect(requestLines(lines)).toHaveLength(1);
    const [line] = requestLines(lines);
    expect(line).toMatchObject({
      level: 50,
      msg: "request failed",
      method: "GET",
      path: "/v1/banks",
      status: 500,
      requestId: response.headers.get("x-request-id"),
      err: { message: "database is down" },
    });
    expect((line?.err as { stack?: string } | undefined)?.stack).toMatch(/database is down\n\s+at /);
    // the one line carries the error: no second, separate error line for the same request
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1);
  });
});
