import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ARMS } from "../src/eval/arms.js";
import { writeEvalReport } from "../src/eval/report.js";
import { type EvalResult, runEvaluation } from "../src/eval/runEvaluation.js";
import { createModelClient } from "../src/reasoning/model.js";
import { haveChromium, launchChromium, SCREENSHOTS } from "./support/chromium.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { DATA_DIR } from "./support/data.js";
import { TEST_DATABASE } from "./support/database.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";
import { EXAMPLE_AWARE, SEEDED, SPLIT, SPLIT_FIELDS, splitFile } from "./support/familyProblems.js";

const chromium = haveChromium("evaluation report browser test");
const t = useTestContext({ shared: true });
const work = mkdtempSync(join(tmpdir(), "precedent-eval-report-"));
let fake: FakeOpenAI;
let browser: Browser;
let result: EvalResult;
let html = "";

beforeAll(async () => {
  if (!chromium) return;
  fake = await startFakeOpenAI({ seed: 5, behavior: EXAMPLE_AWARE });
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, SEEDED);
  result = await runEvaluation({
    ctx,
    options: {
      bank: "arith",
      from: splitFile(work, SPLIT),
      fields: SPLIT_FIELDS,
      dataDir: DATA_DIR,
      samples: 4,
    },
  });
  html = (await writeEvalReport(result, join(work, "report"))).html;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await fake?.close();
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(chromium)(`the evaluation report in Chromium (${TEST_DATABASE})`, () => {
  it("opens, and draws each arm's learning curves with one point per evaluated problem", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(pathToFileURL(html).toString());
    expect(await page.locator("h1").textContent()).toContain("arith");

    const evaluated = result.stream.evaluated;
    expect(evaluated).toBe(SPLIT.length);
    for (const curve of ["curve-cumulative", "curve-rolling"]) {
      const svg = page.locator(`svg#${curve}`);
      const box = await svg.boundingBox();
      expect(box?.width, curve).toBeGreaterThan(100);
      expect(box?.height, curve).toBeGreaterThan(100);
      for (const arm of DEFAULT_ARMS) {
        // the browser's own parse of the polyline: how many points it draws
        const points = await svg
          .locator(`polyline[data-arm="${arm}"]`)
          .evaluate(
            (line) => (line as unknown as { points: { numberOfItems: number } }).points.numberOfItems,
          );
        expect(points, `${curve} ${arm}`).toBe(evaluated);
      }
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `eval-report-${TEST_DATABASE}.png`), fullPage: true });
    await page.close();
  });
});
