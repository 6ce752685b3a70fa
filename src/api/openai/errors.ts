import type { z } from "@hono/zod-openapi";
import type { Context as HonoContext } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ChatSolve } from "../../reasoning/chatCompletion.js";
import type { Problem } from "../problem.js";
import type { openAIErrorSchema } from "./response.js";

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
