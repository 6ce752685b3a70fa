import { randomBytes } from "node:crypto";
import { z } from "@hono/zod-openapi";
import type { Context as HonoContext } from "hono";
import { streamSSE } from "hono/streaming";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Database } from "../db/database.js";
import { PrecedentError } from "../errors.js";
import type { Logger } from "../log.js";
import { type Bank, bankIdSchema, getBank } from "../memory/banks.js";
import type { ChatSolve } from "../reasoning/chatCompletion.js";
import { type SolveEvent, solveOptionsSchema } from "../reasoning/pipeline.js";
import { requireBankAccess } from "./auth.js";
import { type Problem, problemForError } from "./problem.js";
import { querySchema, recallScoresSchema } from "./schemas.js";

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

// ---------------------------------------------------------------------------------------------- request

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
      description: "solve options: k, samples, adaptive, batchSize, gold, reuseMemory, writeBack",
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
  c: HonoContext,
  db: Database,
  model: string,
  header: string | undefined,
): Promise<Bank> {
  const id = bankOfRequest(model, header);
  try {
    requireBankAccess(c, id, "write");
    return await getBank(db, id);
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

// --------------------------------------------------------------------------------------------- response

const recalledSchema = z.object({ memoryId: z.string(), rank: z.number().int(), scores: recallScoresSchema });

export const precedentExtensionSchema = z
  .object({
    runId: z.string(),
    bank: z.string(),
    status: z.enum(["completed", "failed", "memory_hit"]),
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
function usageOf(solved: ChatSolve) {
  const prompt = tokens(solved.result.usage.promptTokens);
  const completion = tokens(solved.result.usage.completionTokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function extensionOf(bank: string, { result }: ChatSolve): z.infer<typeof precedentExtensionSchema> {
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

interface CompletionMeta {
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

// ----------------------------------------------------------------------------------------------- errors

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
};

/** OpenAI's error body for a problem: the same status, detail as message, the field as param. */
export function openAIErrorOf(problem: Problem): z.infer<typeof openAIErrorSchema> {
  const slug = problem.type.split("/").pop() ?? "error";
  const code =
    problem.status === 404 && problem.field === "model" ? "model_not_found" : slug.replaceAll("-", "_");
  return {
    error: {
      message: problem.detail,
      type:
        OPENAI_TYPES[problem.status] ?? (problem.status >= 500 ? "server_error" : "invalid_request_error"),
      param: problem.field ?? null,
      code,
    },
  };
}

/**
 * Answers a problem as `{error: {message, type, param, code}}` with the problem's status. A 503 (no model
 * configured) also says `x-should-retry: false`, which the openai SDK honours instead of retrying.
 */
export function openAIErrorResponse(
  c: HonoContext,
  problem: Problem,
  extraHeaders: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(openAIErrorOf(problem)), problem.status as ContentfulStatusCode, {
    "Content-Type": "application/json",
    ...(problem.status === 503 ? { "x-should-retry": "false" } : {}),
    ...extraHeaders,
  });
}

/** A run that was stored but whose model endpoint failed: 502, with the run id to inspect it. */
export function modelFailedProblem(solved: ChatSolve): Problem {
  return {
    type: "/problems/model-error",
    title: "Model error",
    status: 502,
    detail: `${solved.result.reason} (run ${solved.result.runId})`,
  };
}

// -------------------------------------------------------------------------------------------- streaming

/**
 * Streams a chat completion as OpenAI's `chat.completion.chunk` server-sent events.
 *
 * The chosen chain is known only once the solve has voted and verified, so the stream opens when the
 * solve produces its first event (recall done): a failure before that (no model, …) answers as an
 * ordinary error with its own status. It then sends the role chunk at once, an SSE comment per pipeline
 * event while sampling (keeps proxies from timing out; clients ignore comments), the content line by line,
 * a final chunk with `finish_reason: "stop"` and the `precedent` extension (run id included), a usage
 * chunk when `stream_options.include_usage` asks for one, then `data: [DONE]`. `X-Precedent-Recalled` is
 * a response header (recall is done when the stream opens); the run id exists only at the end, so it is
 * in the final chunk's `precedent.runId` only. A failure after the stream opened (the model endpoint
 * failing) sends `data: {"error": …}`, which the openai SDK raises as an APIError, and closes the stream.
 */
export async function streamChatCompletion(
  c: HonoContext,
  log: Logger,
  meta: CompletionMeta & { includeUsage: boolean },
  run: (onEvent: (event: SolveEvent) => void) => Promise<ChatSolve>,
): Promise<Response> {
  const queue: SolveEvent[] = [];
  let outcome: { ok: true; solved: ChatSolve } | { ok: false; error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const progress = () =>
    new Promise<void>((resolve) => {
      if (queue.length > 0 || outcome) resolve();
      else wake = resolve;
    });

  run((event) => {
    queue.push(event);
    notify();
  }).then(
    (solved) => {
      outcome = { ok: true, solved };
      notify();
    },
    (error: unknown) => {
      outcome = { ok: false, error };
      notify();
    },
  );

  await progress();
  if (queue.length === 0 && outcome && !outcome.ok) throw outcome.error;
  const first = queue[0];
  if (first?.type === "recalled") {
    c.header(RECALLED_HEADER, first.recall.memories.map((m) => m.id).join(","));
  } else if (outcome?.ok) {
    c.header(RECALLED_HEADER, outcome.solved.result.recalled.map((r) => r.memoryId).join(","));
  }

  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: meta.id,
      object: "chat.completion.chunk",
      created: meta.created,
      model: meta.model,
      choices,
      ...extra,
    });
  const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
    index: 0,
    delta: d,
    logprobs: null,
    finish_reason: finish,
  });

  return streamSSE(c, async (stream) => {
    await stream.writeSSE({ data: chunk([delta({ role: "assistant", content: "" })]) });
    for (;;) {
      const next = queue.shift();
      if (next) {
        await stream.write(`: ${next.type}\n\n`);
        continue;
      }
      if (outcome) break;
      await progress();
    }
    const ended = outcome as NonNullable<typeof outcome>;
    if (!ended.ok) {
      const problem = problemForError(ended.error, c.get("requestId"));
      if (problem.status >= 500) {
        log.error(
          { err: ended.error, requestId: c.get("requestId"), path: c.req.path },
          "chat completion failed after its stream started",
        );
      }
      await stream.writeSSE({ data: JSON.stringify(openAIErrorOf(problem)) });
      return;
    }
    if (ended.solved.result.status === "failed") {
      await stream.writeSSE({ data: JSON.stringify(openAIErrorOf(modelFailedProblem(ended.solved))) });
      return;
    }
    const { solved } = ended;
    for (const line of solved.content.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
      await stream.writeSSE({ data: chunk([delta({ content: line })]) });
    }
    await stream.writeSSE({
      data: chunk([delta({}, "stop")], { precedent: extensionOf(meta.bank, solved) }),
    });
    if (meta.includeUsage) await stream.writeSSE({ data: chunk([], { usage: usageOf(solved) }) });
    await stream.writeSSE({ data: "[DONE]" });
  });
}
