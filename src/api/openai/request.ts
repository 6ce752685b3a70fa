import { z } from "@hono/zod-openapi";
import { accessibleBank } from "../../auth/access.js";
import { PrecedentError } from "../../errors.js";
import { querySchema } from "../../limits.js";
import { bankIdSchema } from "../../memory/bankId.js";
import type { Bank } from "../../memory/banks.js";
import { solveOptionsSchema } from "../../reasoning/solveOptions.js";
import type { CallContext } from "../../services.js";

/**
 * The OpenAI-compatible surface: `POST /v1/chat/completions` and `GET /v1/models`. A model name
 * `precedent/<bank>` (or the `X-Precedent-Bank` header) picks the bank; the last user message is the
 * query; the answer is an ordinary chat completion plus a `precedent` extension field.
 */

/** Model names are `precedent/<bank>`. */
export const MODEL_PREFIX = "precedent/";
/** A header that picks the bank whatever the model name says (for clients with a fixed model list). */
export const BANK_HEADER = "x-precedent-bank";
export const RUN_ID_HEADER = "X-Precedent-Run-Id";
export const RECALLED_HEADER = "X-Precedent-Recalled";

/** The paths that answer errors in OpenAI's shape rather than problem+json. */
export function isOpenAICompatiblePath(path: string): boolean {
  return /^\/v1\/(chat\/completions|models)\/?$/.test(path);
}

const contentPartSchema = z.object({ type: z.string(), text: z.string().optional() }).loose();

const chatMessageSchema = z
  .object({
    role: z.string().min(1),
    content: z.union([z.string(), z.array(contentPartSchema)]).nullish(),
  })
  .loose();

/**
 * A chat completion request. Lenient, unlike the rest of the API: OpenAI clients send many parameters
 * (top_p, seed, user, stop, tools, …) that precedent has no use for, and refusing them would break those
 * clients, so unknown fields are ignored. What is read: model, messages, temperature, n (must be 1),
 * stream, stream_options.include_usage, and the `precedent` extension (solve options).
 */
export const chatCompletionRequestSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .max(200)
      .openapi({ description: "`precedent/<bank>`; any name when `X-Precedent-Bank` is sent" }),
    messages: z
      .array(chatMessageSchema)
      .min(1)
      .max(1_000)
      .openapi({ description: "the last `user` message is the query; the others are ignored" }),
    temperature: z
      .number()
      .min(0)
      .max(2)
      .nullish()
      .openapi({ description: "the sampling temperature of the chains (default 0.7)" }),
    n: z
      .literal(1, { error: "only n = 1 is supported: precedent answers with one voted, verified completion" })
      .nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish() }).loose().nullish(),
    max_tokens: z.number().nullish().openapi({
      description: "ignored: a chain of thought is never cut short (so is max_completion_tokens)",
    }),
    precedent: solveOptionsSchema.omit({ temperature: true }).optional().openapi({
      description:
        "solve options: k, samples, adaptive, batchSize, gold, reuseMemory, writeBack, strategy, selection, decoding, branches",
    }),
  })
  .loose()
  .openapi("ChatCompletionRequest");
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const chatHeadersSchema = z.object({
  [BANK_HEADER]: z
    .string()
    .optional()
    .openapi({ description: "the bank to solve in, instead of the model name" }),
});

const notFoundModel = (model: string, bank?: string) =>
  new PrecedentError(
    "not_found",
    bank === undefined
      ? `the model "${model}" does not exist: name a bank as "${MODEL_PREFIX}<bank>" or send ${BANK_HEADER}`
      : `the model "${MODEL_PREFIX}${bank}" does not exist (no bank "${bank}")`,
    "model",
  );

/**
 * The bank a request names: the `X-Precedent-Bank` header, else the model `precedent/<bank>`. Both
 * naming different banks is a 400; a name that is not a bank id is a 404 like an unknown bank.
 */
export function bankOfRequest(model: string, header: string | undefined): string {
  const fromModel = model.startsWith(MODEL_PREFIX) ? model.slice(MODEL_PREFIX.length) : undefined;
  const named = header?.trim() || undefined;
  if (named !== undefined && fromModel !== undefined && named !== fromModel) {
    throw new PrecedentError(
      "invalid_input",
      `the model names bank "${fromModel}" but ${BANK_HEADER} names "${named}"`,
      "model",
    );
  }
  const bank = named ?? fromModel;
  if (bank === undefined) throw notFoundModel(model);
  if (!bankIdSchema.safeParse(bank).success) throw notFoundModel(model, bank);
  return bank;
}

/**
 * The bank a chat request may solve in: named as above, the caller allowed to write to it (404 when it may
 * not even read it, as for a bank that does not exist; 403 when it may only read), and existing. A bank
 * that is not there answers as OpenAI does for an unknown model: 404 `model_not_found` on `model`.
 */
export async function bankForChat(
  ctx: CallContext,
  model: string,
  header: string | undefined,
): Promise<Bank> {
  const id = bankOfRequest(model, header);
  try {
    return await accessibleBank(ctx, id, "write");
  } catch (e) {
    if (e instanceof PrecedentError && e.code === "not_found") throw notFoundModel(model, id);
    throw e;
  }
}

/** The text of the last user message: a string, or its text parts joined by newlines. */
export function queryOfMessages(messages: ChatCompletionRequest["messages"]): string {
  const index = messages.findLastIndex((m) => m.role === "user");
  const message = messages[index];
  if (!message) throw new PrecedentError("invalid_input", "there is no user message to answer", "messages");
  const text =
    typeof message.content === "string"
      ? message.content
      : (message.content ?? [])
          .filter((p) => p.type === "text" && typeof p.text === "string")
          .map((p) => p.text)
          .join("\n");
  const parsed = querySchema.safeParse(text);
  if (!parsed.success) {
    const reason = parsed.error.issues[0]?.message ?? "invalid";
    throw new PrecedentError(
      "invalid_input",
      `messages.${index}.content: the text of the last user message ${reason}`,
      `messages.${index}.content`,
    );
  }
  return parsed.data;
}
