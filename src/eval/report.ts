import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderHtmlReport } from "./htmlReport.js";
import type { EvalResult } from "./runEvaluation.js";

/** Writes `result.json` (everything measured, every run id) and `report.html` into `dir`; returns their paths. */
export async function writeEvalReport(
  result: EvalResult,
  dir: string,
): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, "result.json");
  const html = join(dir, "report.html");
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(html, renderHtmlReport(result));
  return { json, html };
}
