import { createRoute, z } from "@hono/zod-openapi";
import { visibleBanks } from "../../auth/access.js";
import { solveChat } from "../../reasoning/chatCompletion.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { modelFailedProblem, openAIErrorResponse } from "../openai/errors.js";
import {
  bankForChat,
  chatCompletionRequestSchema,
  chatHeadersSchema,
  MODEL_PREFIX,
  queryOfMessages,
  RECALLED_HEADER,
  RUN_ID_HEADER,
} from "../openai/request.js";
import {
  chatCompletionSchema,
  completionBody,
  modelListSchema,
  newCompletionId,
  openAIErrorSchema,
  precedentHeaders,
} from "../openai/response.js";
import { streamChatCompletion } from "../openai/stream.js";
import { problemForError } from "../problem.js";

function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: "error, in OpenAI's shape",
        content: { "application/json": { schema: openAIErrorSchema } },
      },
    ]),
  );
}

const runHeaders = {
  [RUN_ID_HEADER]: { description: "the run's id (JSON answers only)", schema: { type: "string" as const } },
  [RECALLED_HEADER]: {
    description: "the recalled memories' ids, comma-separated",
    schema: { type: "string" as const },
  },
};

export const chatCompletionRoute = createRoute({
  operationId: "createChatCompletion",
  tags: ["openai"],
  method: "post",
  path: "/v1/chat/completions",
  summary:
    "OpenAI-compatible chat completion: the last user message is solved in the bank `precedent/<bank>`",
  description:
    "The model `precedent/<bank>` (or the `X-Precedent-Bank` header) picks the bank; the last user " +
    "message is the query; precedent recalls, samples, votes and verifies, and answers with a " +
    "`chat.completion` whose content is the chosen chain of thought and final answer line, plus a " +
    "`precedent` field (run id, verdict, recalled memories). Unknown OpenAI parameters are ignored; " +
    "`n` must be 1; `max_tokens` is ignored. Errors are OpenAI-shaped `{error: {message, type, param, " +
    "code}}`, not problem+json, so OpenAI clients show them.",
  request: {
    headers: chatHeadersSchema,
    body: { content: { "application/json": { schema: chatCompletionRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "the completion; or, with `stream: true`, chat.completion.chunk events",
      headers: runHeaders,
      content: {
        "application/json": { schema: chatCompletionSchema },
        "text/event-stream": {
          schema: z.string().openapi({
            description:
              "`data: <chat.completion.chunk>` lines: the role, SSE comments while solving, the content " +
              "line by line, a chunk with finish_reason `stop` and the `precedent` field, a usage chunk " +
              'if `stream_options.include_usage`, then `data: [DONE]`. A later failure sends `data: {"error": …}`.',
          }),
        },
      },
    },
    ...errorResponses(400, 401, 403, 404, 413, 502, 503),
  },
});

export const listModelsRoute = createRoute({
  operationId: "listModels",
  tags: ["openai"],
  method: "get",
  path: "/v1/models",
  summary: "OpenAI-compatible model list: `precedent/<bank>` for each bank the key may read",
  responses: {
    200: { description: "the models", content: { "application/json": { schema: modelListSchema } } },
    ...errorResponses(401),
  },
});

/** The OpenAI-compatible routes: chat completions answered by a solve, and the banks as models. */
export function chatCompletionRoutes() {
  const app = createRouter(openAIErrorResponse);
  // errors raised in these handlers; those of the middleware before them (auth, body limits) are turned
  // into the same shape by the app's error handler (isOpenAICompatiblePath)
  app.onError((err, c) => openAIErrorResponse(c, problemForError(err, c.get("requestId"))));

  app.openapi(chatCompletionRoute, async (c) => {
    const ctx = ctxOf(c);
    const request = c.req.valid("json");
    const bank = await bankForChat(ctx, request.model, c.req.valid("header")["x-precedent-bank"]);
    const query = queryOfMessages(request.messages);
    const options = {
      ...request.precedent,
      ...(request.temperature != null ? { temperature: request.temperature } : {}),
    };
    const meta = {
      id: newCompletionId(),
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      bank: bank.id,
    };
    if (request.stream) {
      return streamChatCompletion(
        c,
        ctx.log,
        { ...meta, includeUsage: request.stream_options?.include_usage === true },
        (onEvent) => solveChat({ ctx, bank, query, options, onEvent }),
      );
    }
    const solved = await solveChat({ ctx, bank, query, options });
    if (solved.result.status === "failed") {
      return openAIErrorResponse(c, modelFailedProblem(solved), precedentHeaders(solved));
    }
    return c.json(completionBody(meta, solved), 200, precedentHeaders(solved));
  });

  app.openapi(listModelsRoute, async (c) => {
    const ctx = ctxOf(c);
    const banks = await visibleBanks(ctx);
    return c.json(
      {
        object: "list" as const,
        data: banks.map((b) => ({
          id: `${MODEL_PREFIX}${b.id}`,
          object: "model" as const,
          created: Math.floor(b.createdAt.getTime() / 1000),
          owned_by: "precedent",
        })),
      },
      200,
    );
  });
  return app;
}
