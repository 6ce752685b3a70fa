import { createRoute, z } from "@hono/zod-openapi";
import { readableRun } from "../../auth/access.js";
import { applyFeedback, feedbackInputSchema } from "../../reasoning/feedback.js";
import { listRuns, type RunSummary } from "../../reasoning/listRuns.js";
import { RUN_STATUSES, RUN_VERDICTS, SHADOW_KINDS } from "../../reasoning/runVocabulary.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, pageQuerySchema, problemResponses, recallScoresSchema } from "../schemas.js";

export const runSchema = z
  .object({
    id: z.string(),
    bankId: z.string(),
    query: z.string(),
    params: z.record(z.string(), z.unknown()),
    prompt: z.array(z.unknown()),
    answer: z.string().optional(),
    answerCanonical: z.string().optional(),
    confidence: z.number().optional(),
    votes: z.unknown(),
    verification: z.string(),
    verificationDetail: z.record(z.string(), z.unknown()),
    verdict: z.enum(RUN_VERDICTS),
    status: z.enum(RUN_STATUSES),
    error: z.string().optional(),
    writtenMemoryId: z.string().optional(),
    timings: z.record(z.string(), z.number()),
    usage: z.record(z.string(), z.number()),
    model: z.string().optional(),
    recalls: z.array(z.object({ memoryId: z.string(), rank: z.number().int(), scores: recallScoresSchema })),
    samples: z.array(
      z.object({
        index: z.number().int(),
        text: z.string(),
        answer: z.string().optional(),
        answerCanonical: z.string().optional(),
        confidence: z.number().optional(),
        tokens: z.number().int(),
      }),
    ),
    shadow: z
      .object({ of: z.string(), kind: z.enum(SHADOW_KINDS) })
      .optional()
      .openapi({
        description:
          "on a shadow run: the run it answered again off the request path, without its examples (control) or with one withheld (ablation, params.withheld)",
      }),
    shadows: z
      .array(z.object({ id: z.string(), kind: z.enum(SHADOW_KINDS) }))
      .optional()
      .openapi({ description: "the shadow runs made of this run (the bank's shadowRate and ablationRate)" }),
  })
  .passthrough()
  .openapi("Run");

/** A run id as solve and remember return it. */
export const runIdSchema = z.string().regex(/^run_[0-9a-z]+$/, "must be a run id (run_…)");

const runIdParamSchema = z.object({ id: runIdSchema });

export const feedbackResultSchema = z
  .object({
    runId: z.string(),
    verdict: z.enum(["correct", "incorrect"]),
    memory: z
      .object({ id: z.string(), status: z.string(), changed: z.boolean(), reason: z.string().optional() })
      .optional(),
    credited: z.boolean(),
  })
  .openapi("FeedbackResult");

const runSummarySchema = z
  .object({
    id: z.string(),
    query: z.string(),
    answer: z.string().optional(),
    confidence: z.number().optional(),
    verdict: z.enum(RUN_VERDICTS),
    verification: z.string(),
    status: z.enum(RUN_STATUSES),
    latencyMs: z.number().optional().openapi({ description: "the solve's total time" }),
    createdAt: z.string(),
    writtenMemoryId: z.string().optional(),
  })
  .openapi("RunSummary");

const runPageSchema = z
  .object({ runs: z.array(runSummarySchema), nextCursor: z.string().optional() })
  .openapi("RunPage");

const runListQuerySchema = pageQuerySchema.extend({ verdict: z.enum(RUN_VERDICTS).optional() });

function serializeSummary(run: RunSummary) {
  return { ...run, createdAt: run.createdAt.toISOString() };
}

export const listRunsRoute = createRoute({
  operationId: "listRuns",
  tags: ["runs"],
  method: "get",
  path: "/v1/banks/{bank}/runs",
  summary: "A bank's runs, newest first, optionally only those with one verdict",
  request: { params: bankParamSchema, query: runListQuerySchema },
  responses: {
    200: {
      description: "a page of run summaries",
      content: { "application/json": { schema: runPageSchema } },
    },
    ...problemResponses(400, 401, 404),
  },
});

export const getRunRoute = createRoute({
  operationId: "getRun",
  tags: ["runs"],
  method: "get",
  path: "/v1/runs/{id}",
  summary: "A run with its recalls and scores, exact prompt, samples, vote and verdict",
  request: { params: runIdParamSchema },
  responses: {
    200: { description: "the run", content: { "application/json": { schema: runSchema } } },
    ...problemResponses(400, 401, 404),
  },
});

export const feedbackRoute = createRoute({
  operationId: "giveFeedback",
  tags: ["runs"],
  method: "post",
  path: "/v1/runs/{id}/feedback",
  summary: "Say whether a run's answer was right: promotes or retires its memory, credits the recalled ones",
  request: {
    params: runIdParamSchema,
    body: { content: { "application/json": { schema: feedbackInputSchema } }, required: true },
  },
  responses: {
    200: {
      description: "what the feedback changed",
      content: { "application/json": { schema: feedbackResultSchema } },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

/** Listing a bank's runs, inspecting a run (everything a solve did) and giving feedback on it. */
export function runRoutes() {
  const app = createRouter();
  app.openapi(listRunsRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank } = c.req.valid("param");
    const page = await listRuns({ ctx, input: { bankId: bank, ...c.req.valid("query") } });
    return c.json({ ...page, runs: page.runs.map(serializeSummary) }, 200);
  });
  app.openapi(getRunRoute, async (c) => {
    const ctx = ctxOf(c);
    const { id } = c.req.valid("param");
    const run = await readableRun(ctx, id);
    return c.json(run, 200);
  });
  app.openapi(feedbackRoute, async (c) => {
    const ctx = ctxOf(c);
    const { id } = c.req.valid("param");
    const result = await applyFeedback({ ctx, input: { ...c.req.valid("json"), runId: id } });
    return c.json(result, 200);
  });
  return app;
}
