import { randomBytes } from "node:crypto";
import { z } from "@hono/zod-openapi";
import type { ChatSolve } from "../../reasoning/chatCompletion.js";
import { SOLVE_STATUSES } from "../../reasoning/runVocabulary.js";
import { recallScoresSchema } from "../schemas.js";
import { RECALLED_HEADER, RUN_ID_HEADER } from "./request.js";

const recalledSchema = z.object({ memoryId: z.string(), rank: z.number().int(), scores: recallScoresSchema });

export const precedentExtensionSchema = z
  .object({
    runId: z.string(),
    bank: z.string(),
    status: z.enum(SOLVE_STATUSES),
    answer: z.string().optional(),
    answerCanonical: z.string().optional(),
    confidence: z.number().optional(),
    verdict: z.enum(["correct", "incorrect", "unknown"]),
    verification: z.string(),
    reason: z.string(),
    samples: z.number().int(),
    recalled: z.array(recalledSchema),
    writtenMemory: z.object({ action: z.string(), memoryId: z.string() }).passthrough().optional(),
  })
  .openapi("PrecedentExtension", {
    description: "what precedent did: the run (read it back at GET /v1/runs/{runId}), verdict and recalls",
  });

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export const chatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
        logprobs: z.null(),
        finish_reason: z.literal("stop"),
      }),
    ),
    usage: usageSchema,
    precedent: precedentExtensionSchema,
  })
  .openapi("ChatCompletion");

export const openAIErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .openapi("OpenAIError");

export const modelListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        id: z.string(),
        object: z.literal("model"),
        created: z.number().int(),
        owned_by: z.string(),
      }),
    ),
  })
  .openapi("ModelList");

/** A chat completion id, shared by all chunks of a stream. */
export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(12).toString("hex")}`;
}

const tokens = (x: number | undefined) => Math.round(x ?? 0);

/** Tokens the run spent on the model, over all its samples (0 for an answer from memory). */
export function usageOf(solved: ChatSolve) {
  const prompt = tokens(solved.result.usage.promptTokens);
  const completion = tokens(solved.result.usage.completionTokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function extensionOf(bank: string, { result }: ChatSolve): z.infer<typeof precedentExtensionSchema> {
  return {
    runId: result.runId,
    bank,
    status: result.status,
    answer: result.answer,
    answerCanonical: result.answerCanonical,
    confidence: result.confidence,
    verdict: result.verdict,
    verification: result.verification,
    reason: result.reason,
    samples: result.samples,
    recalled: result.recalled,
    writtenMemory: result.writtenMemory,
  };
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
  bank: string;
}

export function completionBody(
  meta: CompletionMeta,
  solved: ChatSolve,
): z.infer<typeof chatCompletionSchema> {
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: solved.content, refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: usageOf(solved),
    precedent: extensionOf(meta.bank, solved),
  };
}

/** The response headers naming the run and the memories it recalled. */
export function precedentHeaders(solved: ChatSolve): Record<string, string> {
  return {
    [RUN_ID_HEADER]: solved.result.runId,
    [RECALLED_HEADER]: solved.result.recalled.map((r) => r.memoryId).join(","),
  };
}
