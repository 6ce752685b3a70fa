import { createRoute, z } from "@hono/zod-openapi";
import { accessibleBank } from "../../auth/access.js";
import { kSchema, querySchema } from "../../limits.js";
import { recallAnalogues } from "../../memory/recall.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, problemResponses, recalledMemorySchema } from "../schemas.js";

export const recallRequestSchema = z
  .object({
    query: querySchema,
    k: kSchema.optional(),
    matchFloor: z.number().min(0).max(1).optional(),
  })
  .strict()
  .openapi("RecallRequest");

export const recallResponseSchema = z
  .object({
    bank: z.string(),
    memories: z.array(recalledMemorySchema),
    abstained: z.boolean(),
    considered: z.number().int(),
    matchFloor: z.number(),
    timings: z.object({ embedMs: z.number(), searchMs: z.number(), rerankMs: z.number() }),
  })
  .openapi("RecallResponse");

export const recallRoute = createRoute({
  operationId: "recall",
  tags: ["reasoning"],
  method: "post",
  path: "/v1/banks/{bank}/recall",
  summary: "Recall the memories most analogous to a query",
  request: {
    params: bankParamSchema,
    body: { content: { "application/json": { schema: recallRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "recalled memories with their scores",
      content: { "application/json": { schema: recallResponseSchema } },
    },
    ...problemResponses(400, 401, 404, 413),
  },
});

/** Recall without a model call: which memories a solve would be shown, and why. */
export function recallRoutes() {
  const app = createRouter();
  app.openapi(recallRoute, async (c) => {
    const ctx = ctxOf(c);
    const bank = await accessibleBank(ctx, c.req.valid("param").bank, "read");
    const { query, ...options } = c.req.valid("json");
    const result = await recallAnalogues({ ctx, bank, query, options });
    return c.json({ bank: bank.id, ...result }, 200);
  });
  return app;
}
