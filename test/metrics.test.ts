import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createModelClient } from "../src/reasoning/model.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
let fake: FakeOpenAI;
const ADMIN = "admin-token-for-tests-0123456789";
const SCRAPER = "metrics-token-for-tests-0123456";

beforeEach(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterEach(async () => {
  await fake.close();
});

const bearer = (token?: string): RequestInit =>
  token ? { headers: { authorization: `Bearer ${token}` } } : {};

/** The value of one sample of the scrape (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

async function appWithBank(options: Parameters<typeof createApp>[1] = {}) {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return createApp(ctx, options);
}

describe("metrics for Prometheus", () => {
  it("counts a solve: its route's latency, every stage, the model's requests, samples and tokens", async () => {
    const app = await appWithBank();
    const before = await (await app.request("/metrics")).text();
    const response = await app.request("/v1/banks/arith/solve", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "Kai has 6 boxes of 9 pens. How many pens?", samples: 4, gold: "54" }),
    });
    expect(response.status).toBe(200);
    const after = await app.request("/metrics");
    expect(after.headers.get("content-type")).toContain("text/plain");
    const text = await after.text();
    const moved = (name: string, labels = "") => sample(text, name, labels) - sample(before, name, labels);
    expect(
      moved(
        "precedent_http_request_duration_seconds_count",
        'route="/v1/banks/:bank/solve",method="POST",status="200"',
      ),
    ).toBe(1);
    for (const stage of ["recall", "prompt", "sample", "verify", "writeBack"]) {
      expect(moved("precedent_solve_stage_duration_seconds_count", `stage="${stage}"`), stage).toBe(1);
    }
    expect(moved("precedent_solves_total", 'status="completed"')).toBe(1);
    expect(moved("precedent_model_requests_total")).toBeGreaterThanOrEqual(1);
    expect(moved("precedent_model_samples_total")).toBeGreaterThanOrEqual(4);
    expect(moved("precedent_model_tokens_total", 'kind="completion"')).toBeGreaterThan(0);
    expect(moved("precedent_model_tokens_total", 'kind="prompt"')).toBeGreaterThan(0);
    expect(text).toContain("precedent_model_queue_depth 0");
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("labels a request no route answered as unmatched, never by its raw path", async () => {
    const app = await appWithBank();
    await app.request("/v1/no-such-thing/12345");
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain('route="unmatched"');
    expect(text).not.toContain("12345");
  });

  it("reports how many memories are committed but not yet searchable", async () => {
    const app = await appWithBank();
    expect(sample(await (await app.request("/metrics")).text(), "precedent_index_lag_memories")).toBe(0);
    await t.ctx().db.execute(sql`update memories set index_version = 0`);
    expect(sample(await (await app.request("/metrics")).text(), "precedent_index_lag_memories")).toBe(1);
  });

  it("answers an admin key or the metrics token once keys exist, and refuses the rest", async () => {
    const app = await appWithBank({ adminToken: ADMIN, metricsToken: SCRAPER });
    expect((await app.request("/metrics")).status).toBe(401);
    expect((await app.request("/metrics", bearer("not-a-key"))).status).toBe(401);
    expect((await app.request("/metrics", bearer(SCRAPER))).status).toBe(200);
    expect((await app.request("/metrics", bearer(ADMIN))).status).toBe(200);
    const created = await app.request("/v1/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "reader", scopes: ["bank:arith:read"] }),
    });
    const key = (await created.json()) as { token: string };
    expect((await app.request("/metrics", bearer(key.token))).status).toBe(403);
    // the scraper's token opens nothing else
    expect((await app.request("/v1/banks/arith", bearer(SCRAPER))).status).toBe(401);
  });
});
