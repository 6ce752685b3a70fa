import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createModelClient } from "../src/reasoning/model.js";
import { haveChromium as chromiumInstalled, launchChromium, SCREENSHOTS } from "./support/chromium.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { TEST_DATABASE } from "./support/database.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const haveChromium = chromiumInstalled("inspector browser test");

const t = useTestContext({ shared: true });
let fake: FakeOpenAI;
let server: ServerType;
let browser: Browser;
let base = "";
let runId = "";
let apiRecalls: { memoryId: string; rank: number; scores: Record<string, number | null> }[] = [];

beforeAll(async () => {
  if (!haveChromium) return;
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
    { problem: "Ann has 3 bags of 5 plums. How many plums?", answer: "15", reasoning: "3 * 5 = 15" },
    { problem: "A farm has 7 rows of 8 trees. How many trees?", answer: "56", reasoning: "7 * 8 = 56" },
  ]);
  const app = createApp(ctx);
  server = await new Promise<ServerType>((ready) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => ready(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const solved = await fetch(`${base}/v1/banks/arith/solve`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "Kai has 6 boxes of 9 pens. How many pens?", samples: 4, gold: "54" }),
  });
  runId = ((await solved.json()) as { runId: string }).runId;
  apiRecalls = ((await (await fetch(`${base}/v1/runs/${runId}`)).json()) as { recalls: typeof apiRecalls })
    .recalls;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  await fake?.close();
});

describe.runIf(haveChromium)(`the inspector in Chromium (${TEST_DATABASE})`, () => {
  it("goes from a run to a recalled memory and back, showing the API's scores, and saves a screenshot", async () => {
    const page = await browser.newPage({ javaScriptEnabled: false, viewport: { width: 1280, height: 1600 } });
    await page.goto(`${base}/runs/${runId}`);
    expect(await page.locator("h1").textContent()).toContain(runId);

    expect(apiRecalls.length).toBeGreaterThan(0);
    const cards = page.locator("article[data-recall]");
    expect(await cards.count()).toBe(apiRecalls.length);
    for (const recall of apiRecalls) {
      const card = page.locator(`article[data-recall="${recall.memoryId}"]`);
      for (const [name, value] of Object.entries(recall.scores)) {
        const cell = card.locator(`[data-score="${name}"]`);
        // a signal not measured for the memory (null) is shown as such
        expect(await cell.getAttribute("data-value"), `${recall.memoryId} ${name}`).toBe(String(value));
        expect((await cell.textContent())?.trim()).toBe(value === null ? "–" : value.toFixed(4));
      }
    }
    const votes = page.locator('svg[data-chart="votes"] g');
    expect(await votes.count()).toBe(1);
    expect(await votes.first().getAttribute("data-share")).toBe("1");

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `inspector-run-${TEST_DATABASE}.png`), fullPage: true });

    const first = apiRecalls[0] as (typeof apiRecalls)[number];
    await page.click(`a[data-memory-link="${first.memoryId}"]`);
    await page.waitForURL(`**/banks/arith/memories/${first.memoryId}`);
    expect(await page.locator("h1").textContent()).toContain(first.memoryId);
    expect((await page.locator('[data-field="usage"]').textContent())?.trim()).toBe("1 / 1 / 0");
    await page.screenshot({
      path: join(SCREENSHOTS, `inspector-memory-${TEST_DATABASE}.png`),
      fullPage: true,
    });

    await page.click(`tr[data-recalled-by="${runId}"] a`);
    await page.waitForURL(`**/runs/${runId}`);
    expect(await page.locator("h1").textContent()).toContain(runId);
    await page.close();
  });
});
