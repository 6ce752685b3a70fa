import { createRoute, z } from "@hono/zod-openapi";
import { stream } from "hono/streaming";
import { EXPORT_FORMATS, exportMemories, ndjsonChunks } from "../../memory/exportMemories.js";
import { VERIFICATIONS } from "../../memory/trust.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, problemResponses } from "../schemas.js";

const exportQuerySchema = z
  .object({
    format: z.enum(EXPORT_FORMATS).default("jsonl").openapi({
      description: "jsonl: one memory per line, re-importable with `seed`; openai: fine-tuning chat examples",
    }),
    minVerification: z.enum(VERIFICATIONS).optional().openapi({
      description: "the weakest verification exported (default: the bank's trust floor)",
    }),
  })
  .strict();

export const exportMemoriesRoute = createRoute({
  operationId: "exportMemories",
  tags: ["memories"],
  method: "get",
  path: "/v1/banks/{bank}/export",
  summary: "Export the bank's active, verified memories as NDJSON (for re-import or fine-tuning)",
  request: { params: bankParamSchema, query: exportQuerySchema },
  responses: {
    200: {
      description: "one JSON object per line, in the order the memories were written",
      content: { "application/x-ndjson": { schema: z.string() } },
    },
    ...problemResponses(400, 401, 404),
  },
});

/** Streaming export of a bank's verified memories. */
export function exportRoutes() {
  const app = createRouter();
  app.openapi(exportMemoriesRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank: bankId } = c.req.valid("param");
    // awaited before the first byte: an unknown bank is still a 404 problem, not an empty stream
    const lines = await exportMemories({ ctx, input: { bankId, options: c.req.valid("query") } });
    c.header("Content-Type", "application/x-ndjson; charset=utf-8");
    // `as never`: @hono/zod-openapi types any application/…json media type other than JSON itself as
    // never, so a streamed NDJSON body cannot be typed; the OpenAPI entry above still documents it
    const body = stream(
      c,
      async (out) => {
        for await (const chunk of ndjsonChunks(lines)) {
          // the client went away: stop reading the bank for nobody
          if (out.aborted) return;
          await out.write(chunk);
        }
      },
      async (err, out) => {
        ctx.log.error({ err, bank: bankId, requestId: c.get("requestId") }, "export failed mid-stream");
        // the status is sent already; fail the body so the client sees a broken transfer rather than a
        // clean end of a silently truncated export (hono would otherwise just close the stream)
        await (out as unknown as { writer?: WritableStreamDefaultWriter }).writer?.abort(err);
      },
    );
    return body as never;
  });
  return app;
}
