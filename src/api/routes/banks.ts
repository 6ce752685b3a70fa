import { createRoute, z } from "@hono/zod-openapi";
import { visibleBanks } from "../../auth/access.js";
import { bankWithStats } from "../../memory/bankStats.js";
import { bankChangeSchema, createBank, newBankSchema, updateBank } from "../../memory/banks.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import {
  bankParamSchema,
  bankSchema,
  problemResponses,
  serializeBank,
  serializeBankWithStats,
} from "../schemas.js";

const counts = z.record(z.string(), z.number().int());

export const bankStatsSchema = z
  .object({
    memories: z.object({ total: z.number().int(), byStatus: counts, byVerification: counts }),
    runs: z.object({
      total: z.number().int(),
      byVerdict: counts,
      byStatus: counts,
      accuracy: z.number().nullable().openapi({
        description:
          "correct / judged over the runs judged against ground truth (gold, a checker, feedback); null before any was. Agreement among samples alone does not count",
      }),
      groundTruth: z
        .object({
          successes: z.number().int(),
          n: z.number().int(),
          rate: z.number(),
          low: z.number(),
          high: z.number(),
        })
        .openapi({ description: "the runs behind accuracy: right of judged, with the 95% Wilson interval" }),
      consensusRate: z.number().nullable().openapi({
        description:
          "share of completed runs whose answer was accepted on agreement among its samples alone (no ground truth)",
      }),
    }),
  })
  .openapi("BankStats");

export const bankWithStatsSchema = bankSchema.extend({ stats: bankStatsSchema }).openapi("BankWithStats");

export const createBankRoute = createRoute({
  operationId: "createBank",
  tags: ["banks"],
  method: "post",
  path: "/v1/banks",
  summary: "Create a bank",
  request: { body: { content: { "application/json": { schema: newBankSchema } }, required: true } },
  responses: {
    201: { description: "created", content: { "application/json": { schema: bankSchema } } },
    ...problemResponses(400, 401, 403, 409),
  },
});

export const updateBankRoute = createRoute({
  operationId: "updateBank",
  tags: ["banks"],
  method: "patch",
  path: "/v1/banks/{bank}",
  summary:
    "Change a bank's description or settings (k, samples, tiers, matchFloor, shadowRate, ablationRate, shadowBudget)",
  request: {
    params: bankParamSchema,
    body: { content: { "application/json": { schema: bankChangeSchema } }, required: true },
  },
  responses: {
    200: { description: "the bank as changed", content: { "application/json": { schema: bankSchema } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const listBanksRoute = createRoute({
  operationId: "listBanks",
  tags: ["banks"],
  method: "get",
  path: "/v1/banks",
  summary: "List banks",
  responses: {
    200: {
      description: "banks",
      content: { "application/json": { schema: z.object({ banks: z.array(bankSchema) }) } },
    },
  },
});

export const getBankRoute = createRoute({
  operationId: "getBank",
  tags: ["banks"],
  method: "get",
  path: "/v1/banks/{bank}",
  summary: "Get a bank with its figures: memories by status and verification, runs by verdict, accuracy",
  request: { params: bankParamSchema },
  responses: {
    200: {
      description: "the bank and its stats",
      content: { "application/json": { schema: bankWithStatsSchema } },
    },
    ...problemResponses(400, 401, 404),
  },
});

/** Creating, listing and reading banks (one with its figures). */
export function bankRoutes() {
  const app = createRouter();
  app.openapi(createBankRoute, async (c) => {
    return c.json(serializeBank(await createBank({ ctx: ctxOf(c), input: c.req.valid("json") })), 201);
  });
  app.openapi(updateBankRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank } = c.req.valid("param");
    return c.json(
      serializeBank(await updateBank({ ctx, input: { bankId: bank, change: c.req.valid("json") } })),
      200,
    );
  });
  app.openapi(listBanksRoute, async (c) => {
    const ctx = ctxOf(c);
    const visible = await visibleBanks(ctx);
    return c.json({ banks: visible.map(serializeBank) }, 200);
  });
  app.openapi(getBankRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank } = c.req.valid("param");
    return c.json(serializeBankWithStats(await bankWithStats({ ctx, input: { bankId: bank } })), 200);
  });
  return app;
}
