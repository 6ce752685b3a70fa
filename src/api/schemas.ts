import { z } from "@hono/zod-openapi";
import { DOMAINS } from "../domains/domain.js";
import { bankIdSchema } from "../memory/bankId.js";
import type { BankStats } from "../memory/bankStats.js";
import type { Bank } from "../memory/banks.js";
import { bankSettingsSchema } from "../memory/banks.js";
import { VERIFICATIONS } from "../memory/trust.js";

export const bankParamSchema = z.object({
  bank: bankIdSchema,
});

/** `limit` and `cursor` of a newest-first listing; extend it with the listing's filters. */
export const pageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: "items per page, 1-100", example: 20 }),
  cursor: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "the `nextCursor` of the previous page (opaque)" }),
});

export const bankSchema = z
  .object({
    id: z.string(),
    domain: z.enum(DOMAINS),
    description: z.string(),
    settings: bankSettingsSchema,
    createdAt: z.string(),
  })
  .openapi("Bank");

// null: not measured (the vector search did not rank it, or a run recalled before the signal existed)
export const recallScoresSchema = z.object({
  literal: z.number().nullable(),
  structure: z.number().nullable(),
  values: z.number().nullable(),
  vector: z.number().nullable(),
  reworded: z.number().nullable(),
  relevance: z.number(),
  match: z.number().nullable(),
  utility: z.number(),
  final: z.number(),
});

export const recalledMemorySchema = z
  .object({
    id: z.string(),
    rank: z.number().int(),
    problem: z.string(),
    reasoning: z.string(),
    answer: z.string(),
    answerCanonical: z.string(),
    verification: z.enum(VERIFICATIONS),
    trust: z.number().int(),
    exact: z.boolean(),
    scores: recallScoresSchema,
  })
  .openapi("RecalledMemory");

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/** The problem+json responses a route may give, for its OpenAPI entry. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: "problem", content: { "application/problem+json": { schema: problemSchema } } },
    ]),
  );
}

export function serializeBank(bank: { createdAt: Date } & Omit<z.infer<typeof bankSchema>, "createdAt">) {
  return { ...bank, createdAt: bank.createdAt.toISOString() };
}

/** A bank with its figures, as REST and MCP show it. */
export function serializeBankWithStats({ bank, stats }: { bank: Bank; stats: BankStats }) {
  return { ...serializeBank(bank), stats };
}
