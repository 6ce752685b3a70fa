import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createRateLimiter } from "../src/api/rateLimit.js";
import { createApiKey } from "../src/auth/apiKeys.js";
import { queryRows } from "../src/db/database.js";
import { bankWithProblems, useTestContext } from "./support/context.js";

const t = useTestContext();
const ADMIN = "admin-token-for-tests-0123456789";
let clock = 0;
let app: ReturnType<typeof createApp>;
let writer = "";
let other = "";

beforeEach(async () => {
  clock = 1_000_000;
  const ctx = t.ctx();
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "What is 2 + 3?", answer: "5" },
  ]);
  // 60 a minute is one a second on average, three at once
  const rateLimiter = createRateLimiter({ perMinute: 60, burst: 3 }, () => clock);
  app = createApp(ctx, { adminToken: ADMIN, rateLimiter });
  writer = (await createApiKey({ ctx, input: { scopes: ["bank:arith:write"] } })).token;
  other = (await createApiKey({ ctx, input: { scopes: ["bank:arith:read"] } })).token;
});

function importOne(token: string, problem: string) {
  return app.request("/v1/banks/arith/problems", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify([{ problem, answer: "1" }]),
  });
}

const memoryCount = async () =>
  (await queryRows<{ n: number }>(t.ctx().db, sql`select count(*)::int as n from memories`))[0]?.n;

describe("rate limits per API key", () => {
  it("answers 429 problem+json with Retry-After once a key has spent its burst, and changes nothing", async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await importOne(writer, `What is ${i} + 10?`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("ratelimit-remaining")).toBe(String(2 - i));
    }
    const before = await memoryCount();
    const refused = await importOne(writer, "What is 99 + 10?");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-limit")).toBe("60");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(await refused.json()).toMatchObject({
      type: "/problems/rate-limited",
      status: 429,
      field: "authorization",
    });
    expect(await memoryCount()).toBe(before);
  });

  it("refills at the key's rate, and counts each key on its own", async () => {
    for (let i = 0; i < 3; i++) expect((await importOne(writer, `What is ${i} + 20?`)).status).toBe(200);
    expect((await importOne(writer, "What is 5 + 20?")).status).toBe(429);
    // another key has its own allowance
    const read = await app.request("/v1/banks/arith", { headers: { authorization: `Bearer ${other}` } });
    expect(read.status).toBe(200);
    // one second later the first key has earned one request, and only one
    clock += 1_000;
    expect((await importOne(writer, "What is 6 + 20?")).status).toBe(200);
    expect((await importOne(writer, "What is 7 + 20?")).status).toBe(429);
  });

  it("does not limit the admin token", async () => {
    for (let i = 0; i < 10; i++) expect((await importOne(ADMIN, `What is ${i} + 30?`)).status).toBe(200);
  });

  it("answers the OpenAI-compatible route in OpenAI's error shape", async () => {
    const ask = () =>
      app.request("/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${other}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "precedent/arith", messages: [{ role: "user", content: "2 + 2?" }] }),
      });
    for (let i = 0; i < 3; i++) expect((await ask()).status).not.toBe(429);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limited" } });
  });
});
