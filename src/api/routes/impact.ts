import { createRoute, z } from "@hono/zod-openapi";
import { bankImpact } from "../../reasoning/impact.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, problemResponses } from "../schemas.js";

const proportionSchema = z.object({
  successes: z.number().int(),
  n: z.number().int(),
  rate: z.number(),
  low: z.number(),
  high: z.number(),
});
const effectSchema = z.object({
  judged: z.number().int(),
  difference: z.number().nullable(),
  low: z.number().nullable(),
  high: z.number().nullable(),
});

const impactSchema = z
  .object({
    control: z.object({
      pairs: z.number().int(),
      judged: z.number().int(),
      withMemory: proportionSchema,
      withoutMemory: proportionSchema,
      lift: effectSchema.openapi({
        description:
          "accuracy with memory − without over the pairs judged against ground truth, 95% interval",
      }),
      pValue: z.number().nullable().openapi({ description: "McNemar's exact p of the judged pairs" }),
      memoryOnly: z.number().int(),
      controlOnly: z.number().int(),
      agreement: z.number().nullable().openapi({ description: "share of all pairs whose answers agree" }),
      curve: z.array(z.object({ judged: z.number().int(), lift: z.number() })),
    }),
    memories: z.array(
      effectSchema.extend({ memoryId: z.string(), withheld: z.number().int() }).openapi({
        description:
          "a memory's causal estimate: accuracy of runs that showed it − their shadows that withheld it",
      }),
    ),
  })
  .openapi("BankImpact");

export const bankImpactRoute = createRoute({
  operationId: "bankImpact",
  tags: ["banks"],
  method: "get",
  path: "/v1/banks/{bank}/impact",
  summary:
    "Does memory help? The lift of shadow control runs (same query, no examples) and each memory's effect from ablations",
  request: { params: bankParamSchema },
  responses: {
    200: { description: "the bank's impact", content: { "application/json": { schema: impactSchema } } },
    ...problemResponses(400, 401, 404),
  },
});

/** What a bank's memory does on its traffic, measured by its shadow runs. */
export function impactRoutes() {
  const app = createRouter();
  app.openapi(bankImpactRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank } = c.req.valid("param");
    return c.json(await bankImpact({ ctx, input: { bankId: bank } }), 200);
  });
  return app;
}
