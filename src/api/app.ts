import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { inspectorRoutes } from "../inspector/routes.js";
import { MCP_PATH, mcpRoutes } from "../mcp/http.js";
import { createMetrics } from "../metrics/metrics.js";
import type { Services } from "../services.js";
import { VERSION } from "../version.js";
import { type AuthOptions, createAuthentication } from "./auth.js";
import { formatBytes, MAX_IMPORT_BODY_BYTES, MAX_JSON_BODY_BYTES } from "./limits.js";
import { openAIErrorResponse } from "./openai/errors.js";
import { isOpenAICompatiblePath } from "./openai/request.js";
import { PROBLEM_TYPES, problemForError, problemResponse, validationProblem } from "./problem.js";
import { createRateLimiter, DEFAULT_RATE_LIMIT, type RateLimiter, rateLimit } from "./rateLimit.js";
import { requestGuard } from "./requestGuard.js";
import { requestLog } from "./requestLog.js";
import { bankRoutes } from "./routes/banks.js";
import { chatCompletionRoutes } from "./routes/chatCompletions.js";
import { docsRoutes, OPENAPI_PATH } from "./routes/docs.js";
import { exportRoutes } from "./routes/export.js";
import { healthRoutes } from "./routes/health.js";
import { impactRoutes } from "./routes/impact.js";
import { keyRoutes } from "./routes/keys.js";
import { memoryRoutes } from "./routes/memories.js";
import { metricsRoutes, requestMetrics } from "./routes/metrics.js";
import { problemRoutes } from "./routes/problems.js";
import { recallRoutes } from "./routes/recall.js";
import { runRoutes } from "./routes/runs.js";
import { solutionRoutes } from "./routes/solutions.js";
import { solveRoutes } from "./routes/solve.js";

export interface AppOptions extends AuthOptions {
  /** a token that may read GET /metrics and nothing else */
  metricsToken?: string;
  /** holds each API key to its request allowance (default: DEFAULT_RATE_LIMIT, counted by this app) */
  rateLimiter?: RateLimiter;
}

/** The HTTP application: the same for the Node server, tests (app.request) and other runtimes. */
export function createApp(ctx: Services, options: AppOptions = {}) {
  const auth = createAuthentication(ctx, options);
  ctx.metrics ??= createMetrics({ db: ctx.db, gate: () => ctx.model?.gate });
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return problemResponse(c, validationProblem(result.error, result.target));
    },
  });
  app.use(requestMetrics(ctx.metrics));
  app.use(requestId());
  app.use(requestLog(ctx.log));
  const limit = rateLimit(options.rateLimiter ?? createRateLimiter(DEFAULT_RATE_LIMIT));
  app.use("/v1/*", auth.middleware);
  app.use("/v1/*", limit);
  app.use("/v1/*", requestGuard());
  // MCP answers with the same keys, scopes and allowance as /v1; its tools refuse bad input themselves
  app.use(MCP_PATH, auth.middleware);
  app.use(MCP_PATH, limit);
  app.route("/", healthRoutes(ctx));
  app.route("/", metricsRoutes(ctx.metrics, auth, options.metricsToken));
  app.route("/v1", bankRoutes(ctx));
  app.route("/v1", problemRoutes(ctx));
  app.route("/v1", recallRoutes(ctx));
  app.route("/v1", solveRoutes(ctx));
  app.route("/v1", solutionRoutes(ctx));
  app.route("/v1", runRoutes(ctx));
  app.route("/v1", impactRoutes(ctx));
  app.route("/v1", memoryRoutes(ctx));
  app.route("/v1", exportRoutes(ctx));
  app.route("/v1", keyRoutes(ctx, auth));
  app.route("/v1", chatCompletionRoutes(ctx));
  app.route("/", mcpRoutes(ctx));
  app.route("/", inspectorRoutes(ctx, auth));
  const documentConfig = {
    openapi: "3.1.0",
    info: {
      title: "precedent",
      version: VERSION,
      description:
        "Retrieval-augmented reasoning with memory. Request bodies are capped at " +
        `${formatBytes(MAX_JSON_BODY_BYTES)} (bulk problem import: ${formatBytes(MAX_IMPORT_BODY_BYTES)}); ` +
        "a larger one answers 413 `/problems/payload-too-large`.",
    },
  };
  app.doc31(OPENAPI_PATH, documentConfig);
  app.route(
    "/",
    docsRoutes(() => app.getOpenAPI31Document(documentConfig)),
  );
  app.notFound((c) =>
    problemResponse(c, {
      type: PROBLEM_TYPES.notFound,
      title: "Not found",
      status: 404,
      detail: `no route for ${c.req.method} ${c.req.path}`,
      field: "path",
    }),
  );
  // 5xx errors are logged by requestLog, with the error
  // the OpenAI-compatible routes answer in OpenAI's error shape, also for auth and body-limit failures
  app.onError((err, c) =>
    (isOpenAICompatiblePath(c.req.path) ? openAIErrorResponse : problemResponse)(
      c,
      problemForError(err, c.get("requestId")),
    ),
  );
  return app;
}
