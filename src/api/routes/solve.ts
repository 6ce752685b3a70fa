import { createRoute, z } from "@hono/zod-openapi";
import { accessibleBank } from "../../auth/access.js";
import { querySchema } from "../../limits.js";
import { solve } from "../../reasoning/pipeline.js";
import { SOLVE_STATUSES } from "../../reasoning/runVocabulary.js";
import { solveOptionsSchema } from "../../reasoning/solveOptions.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, problemResponses, recallScoresSchema } from "../schemas.js";
import { solveEventStreamDoc, streamSolve, wantsEventStream } from "../solveStream.js";

export const solveRequestSchema = solveOptionsSchema
  .extend({ query: querySchema })
  .strict()
  .openapi("SolveRequest");

const numbers = z.record(z.string(), z.number());

export const solveResponseSchema = z
  .object({
    runId: z.string(),
    status: z.enum(SOLVE_STATUSES),
    answer: z.string().optional(),
    answerCanonical: z.string().optional(),
    confidence: z.number().optional(),
    verification: z.string(),
    verdict: z.enum(["correct", "incorrect", "unknown"]),
    reason: z.string(),
    recalled: z.array(z.object({ memoryId: z.string(), rank: z.number().int(), scores: recallScoresSchema })),
    writtenMemory: z
      .object({ action: z.enum(["created", "supported", "conflict"]), memoryId: z.string() })
      .passthrough()
      .optional(),
    samples: z.number().int(),
    usage: numbers,
    timings: numbers,
  })
  .openapi("SolveResponse");

export const solveRoute = createRoute({
  operationId: "solve",
  tags: ["reasoning"],
  method: "post",
  path: "/v1/banks/{bank}/solve",
  summary: "Solve a query: recall, sample, vote, verify, write back",
  description:
    "Answers one JSON body, or, with `Accept: text/event-stream`, streams the progress as server-sent events.",
  request: {
    params: bankParamSchema,
    body: { content: { "application/json": { schema: solveRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "the answer with its verification and run id; or its progress as events",
      content: {
        "application/json": { schema: solveResponseSchema },
        "text/event-stream": solveEventStreamDoc,
      },
    },
    ...problemResponses(400, 401, 403, 404, 413, 503),
  },
});

/** Solving a query with the bank's memory. */
export function solveRoutes() {
  const app = createRouter();
  app.openapi(solveRoute, async (c) => {
    const ctx = ctxOf(c);
    const bank = await accessibleBank(ctx, c.req.valid("param").bank, "write");
    const { query, ...options } = c.req.valid("json");
    if (wantsEventStream(c)) {
      return streamSolve(c, ctx.log, (onEvent) => solve({ ctx, bank, query, options, onEvent }));
    }
    return c.json(await solve({ ctx, bank, query, options }), 200);
  });
  return app;
}
