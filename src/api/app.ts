import { requestId } from "hono/request-id";
import { inspectorRoutes } from "../inspector/routes.js";
import { MCP_PATH, mcpRoutes } from "../mcp/http.js";
import { createMetrics, type Metrics } from "../metrics/metrics.js";
import { VERSION } from "../version.js";
import { type AuthOptions, createAuthentication } from "./auth.js";
import { callContext, type ServicesSource, servicesOf } from "./callContext.js";
import { createRouter } from "./createRouter.js";
import { formatBytes, MAX_IMPORT_BODY_BYTES, MAX_JSON_BODY_BYTES } from "./limits.js";
import { openAIErrorResponse } from "./openai/errors.js";
import { isOpenAICompatiblePath } from "./openai/request.js";
import { PROBLEM_TYPES, problemForError, problemResponse } from "./problem.js";
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

/** The name of the bearer-token security scheme in the OpenAPI document. */
export const BEARER_AUTH = "bearerAuth";

export interface AppOptions extends AuthOptions {
  /** a token that may read GET /metrics and nothing else */
  metricsToken?: string;
  /** holds each API key to its request allowance (default: DEFAULT_RATE_LIMIT, counted by this app) */
  rateLimiter?: RateLimiter;
  /** the metrics to count into (default: the services' own, created when they have none) */
  metrics?: Metrics;
}

/** The services' own metrics (created on first use), or a registry of the app's own for a source per request. */
function metricsOf(source: ServicesSource): Metrics {
  if (typeof source === "function") return createMetrics({});
  source.metrics ??= createMetrics({ gate: () => source.model?.gate });
  return source.metrics;
}

/**
 * The HTTP application, built once per process: the same for the Node server, tests (app.request) and a
 * Worker isolate (which opens each request's services itself). Every request gets its own call context
 * (services and caller) in `c.var.ctx` from the authentication middleware; routes read it from there.
 */
export function createApp(source: ServicesSource, options: AppOptions = {}) {
  const auth = createAuthentication(options);
  const metrics = options.metrics ?? metricsOf(source);
  const authenticate = callContext(source, auth);
  const app = createRouter();
  app.openAPIRegistry.registerComponent("securitySchemes", BEARER_AUTH, {
    type: "http",
    scheme: "bearer",
    description: "an API key (`precedent keys create`); any token when the server runs without keys",
  });
  app.use(requestMetrics(metrics));
  app.use(requestId());
  app.use(requestLog((c) => servicesOf(source, c).log));
  const limit = rateLimit(options.rateLimiter ?? createRateLimiter(DEFAULT_RATE_LIMIT));
  app.use("/v1/*", authenticate);
  app.use("/v1/*", limit);
  app.use("/v1/*", requestGuard());
  // MCP answers with the same keys, scopes and allowance as /v1; its tools refuse bad input themselves
  app.use(MCP_PATH, authenticate);
  app.use(MCP_PATH, limit);
  app.route("/", healthRoutes(source));
  app.route("/", metricsRoutes(source, metrics, auth, options.metricsToken));
  app.route("/", bankRoutes());
  app.route("/", problemRoutes());
  app.route("/", recallRoutes());
  app.route("/", solveRoutes());
  app.route("/", solutionRoutes());
  app.route("/", runRoutes());
  app.route("/", impactRoutes());
  app.route("/", memoryRoutes());
  app.route("/", exportRoutes());
  app.route("/", keyRoutes(auth));
  app.route("/", chatCompletionRoutes());
  app.route("/", mcpRoutes());
  app.route("/", inspectorRoutes(source, auth));
  const documentConfig = {
    openapi: "3.1.0",
    // every operation needs a key unless it says otherwise (the health probes)
    security: [{ [BEARER_AUTH]: [] }],
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
