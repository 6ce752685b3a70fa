import { createRoute, z } from "@hono/zod-openapi";
import { PrecedentError } from "../../errors.js";
import { importProblems, jsonLineRow, type SourceRow } from "../../memory/importProblems.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { formatBytes, MAX_IMPORT_BATCH, MAX_IMPORT_BODY_BYTES } from "../limits.js";
import { bankParamSchema, problemResponses } from "../schemas.js";

const importResultSchema = z
  .object({
    inserted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  })
  .openapi("ImportResult");

/** The rows of a JSON array body (line = position from 1) or an NDJSON body (line = line number). */
function rowsOf(body: string, ndjson: boolean): SourceRow[] {
  if (!ndjson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new PrecedentError("invalid_input", `body is not JSON (${(e as Error).message})`, "body");
    }
    if (!Array.isArray(parsed))
      throw new PrecedentError("invalid_input", "body must be a JSON array of problems", "body");
    return parsed.map((value, i) => ({ line: i + 1, value }));
  }
  const rows: SourceRow[] = [];
  body.split("\n").forEach((text, i) => {
    if (text.trim() !== "") rows.push(jsonLineRow(i + 1, text));
  });
  return rows;
}

export const importProblemsRoute = createRoute({
  operationId: "importProblems",
  tags: ["memories"],
  method: "post",
  path: "/v1/banks/{bank}/problems",
  summary: `Import solved problems (JSON array or NDJSON, up to ${MAX_IMPORT_BATCH}); idempotent`,
  description: `The body may take up to ${formatBytes(MAX_IMPORT_BODY_BYTES)} and ${MAX_IMPORT_BATCH} problems; more answers 413.`,
  request: {
    params: bankParamSchema,
    body: {
      content: {
        // rows are validated one by one (a bad row is reported, the rest kept), not as a whole body
        "application/json": {
          schema: z.array(z.unknown()).openapi({
            description: "problems: {problem, answer, reasoning?, verification?, metadata?}",
            example: [
              {
                problem: "Sam has 4 boxes of 6 pens. How many pens?",
                answer: "24",
                reasoning: "4 * 6 = 24",
              },
            ],
          }),
        },
        "application/x-ndjson": { schema: z.string() },
      },
      // not `required`: the JSON validator then checks JSON bodies only and lets NDJSON through
      required: false,
    },
  },
  responses: {
    200: {
      description: "counts, and each rejected row with its line and reason",
      content: { "application/json": { schema: importResultSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

/** Bulk import of solved problems into a bank. */
export function problemRoutes() {
  const app = createRouter();
  app.openapi(importProblemsRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank } = c.req.valid("param");
    const ndjson = (c.req.header("content-type") ?? "").includes("ndjson");
    const rows = rowsOf(await c.req.text(), ndjson);
    if (rows.length > MAX_IMPORT_BATCH) {
      throw new PrecedentError(
        "too_large",
        `at most ${MAX_IMPORT_BATCH} problems per request, got ${rows.length}`,
        "body",
      );
    }
    const result = await importProblems({ ctx, input: { bankId: bank, rows, source: "import" } });
    return c.json(result, 200);
  });
  return app;
}
