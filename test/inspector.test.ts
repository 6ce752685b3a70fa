import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createModelClient } from "../src/reasoning/model.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
const ADMIN = "admin-token-for-tests-0123456789";
let fake: FakeOpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterEach(async () => {
  await fake.close();
});

const PROBLEMS = [
  { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  { problem: "Ann has 3 bags of 5 plums. How many plums?", answer: "15", reasoning: "3 * 5 = 15" },
];

async function solvedRun(adminToken?: string) {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number", description: "times tables" }, PROBLEMS);
  const app = createApp(ctx, adminToken ? { adminToken } : {});
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (adminToken) headers.authorization = `Bearer ${adminToken}`;
  const solved = await app.request("/v1/banks/arith/solve", {
    method: "POST",
    headers,
    body: JSON.stringify({ query: "Kai has 6 boxes of 9 pens. How many pens?", samples: 4, gold: "54" }),
  });
  expect(solved.status).toBe(200);
  const { runId } = (await solved.json()) as { runId: string };
  const run = (await (await app.request(`/v1/runs/${runId}`, { headers })).json()) as {
    recalls: { memoryId: string; scores: Record<string, number | null> }[];
    writtenMemoryId: string;
  };
  return { app, runId, run, headers };
}

async function page(app: ReturnType<typeof createApp>, path: string, init?: RequestInit) {
  const response = await app.request(path, init);
  const html = await response.text();
  return { status: response.status, html, response };
}

describe("the inspector's pages", () => {
  it("lists banks with their figures and a bank's runs, newest first, without any script", async () => {
    const { app, runId } = await solvedRun();
    const home = await page(app, "/");
    expect(home.status).toBe(200);
    expect(home.response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(home.html).toContain('data-bank="arith"');
    expect(home.html).toContain("100.0%"); // one correct verified run
    const bank = await page(app, "/banks/arith");
    expect(bank.html).toContain(`href="/runs/${runId}"`);
    expect(bank.html).toContain("Kai has 6 boxes of 9 pens.");
    for (const html of [home.html, bank.html]) expect(html).not.toContain("<script");
  });

  it("shows a run's recalled memories with the same scores as the API, the prompt, samples, vote and verdict", async () => {
    const { app, runId, run } = await solvedRun();
    const { status, html } = await page(app, `/runs/${runId}`);
    expect(status).toBe(200);
    expect(run.recalls.length).toBeGreaterThan(0);
    for (const recall of run.recalls) {
      expect(html).toContain(`data-memory-link="${recall.memoryId}"`);
      for (const [name, value] of Object.entries(recall.scores)) {
        const shown = value === null ? "–" : value.toFixed(4);
        expect(html).toContain(`data-score="${name}" data-value="${String(value)}">${shown}<`);
      }
    }
    expect(html).toContain("Sam has 4 boxes of 6 pens."); // a worked example in the exact prompt
    expect(html.match(/data-sample="/g)).toHaveLength(4);
    expect(html).toContain('data-chart="votes"');
    expect(html).toContain('data-answer="54"');
    expect(html).toContain('data-verdict="correct"');
    expect(html).toContain(`data-field="written-memory">${run.writtenMemoryId}<`);
  });

  it("shows a memory with its provenance, usage and the runs that recalled it", async () => {
    const { app, runId, run } = await solvedRun();
    const memoryId = run.recalls[0]?.memoryId as string;
    const { status, html } = await page(app, `/banks/arith/memories/${memoryId}`);
    expect(status).toBe(200);
    expect(html).toContain('data-field="verification">gold<');
    expect(html).toMatch(/data-field="usage">1 \/ 1 \/ 0</);
    expect(html).toContain(`data-recalled-by="${runId}"`);
  });

  it("searches a bank's memories by text", async () => {
    const { app } = await solvedRun();
    const { html } = await page(app, "/banks/arith/memories?q=plums");
    expect(html).toContain("Ann has 3 bags of 5 plums.");
    expect(html).not.toContain("Sam has 4 boxes");
    const none = await page(app, "/banks/arith/memories?q=zebra");
    expect(none.html).toContain("No memory matches.");
  });

  it("answers an unknown run, bank or memory with a 404 page", async () => {
    const { app } = await solvedRun();
    for (const path of [
      "/runs/run_nothing",
      "/banks/nowhere",
      "/banks/arith/memories/mem_nothing",
      "/banks/..%2F",
    ]) {
      const { status, html } = await page(app, path);
      expect(status, path).toBe(404);
      expect(html).toContain("<h1>Not found</h1>");
    }
  });
});

describe("the inspector with authentication on", () => {
  it("asks for a key, keeps a valid one in an HttpOnly cookie and rejects an unknown one", async () => {
    const { app, runId } = await solvedRun(ADMIN);
    const anonymous = await page(app, `/runs/${runId}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.html).toContain('action="/login"');

    const form = (token: string) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, next: `/runs/${runId}` }).toString(),
    });
    const wrong = await page(app, "/login", form("pk_wrong_token"));
    expect(wrong.status).toBe(401);
    const signedIn = await app.request("/login", form(ADMIN));
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe(`/runs/${runId}`);
    const cookie = signedIn.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await page(app, `/runs/${runId}`, {
      headers: { cookie: cookie.split(";")[0] as string },
    });
    expect(withCookie.status).toBe(200);
  });

  it("a key for another bank sees neither the bank nor its runs", async () => {
    const { app, runId, headers } = await solvedRun(ADMIN);
    const created = await app.request("/v1/keys", {
      method: "POST",
      headers,
      body: JSON.stringify({ scopes: ["bank:other:read"] }),
    });
    const { token } = (await created.json()) as { token: string };
    const auth = { headers: { authorization: `Bearer ${token}` } };
    expect((await page(app, "/", auth)).html).not.toContain('data-bank="arith"');
    expect((await page(app, "/banks/arith", auth)).status).toBe(404);
    expect((await page(app, `/runs/${runId}`, auth)).status).toBe(404);
  });
});
