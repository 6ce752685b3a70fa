import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Context } from "../context.js";
import { PrecedentError } from "../errors.js";
import { type AuthOptions, createAuthentication } from "./auth.js";
import { PROBLEM_TYPES, problemFromCode, problemResponse, validationProblem } from "./problem.js";
import { bankRoutes } from "./routes/banks.js";
import { healthRoutes } from "./routes/health.js";
import { keyRoutes } from "./routes/keys.js";
import { problemRoutes } from "./routes/problems.js";
import { recallRoutes } from "./routes/recall.js";
import { runRoutes } from "./routes/runs.js";
import { solveRoutes } from "./routes/solve.js";

export interface AppOptions extends AuthOptions {}

/** The HTTP application: the same for the Node server, tests (app.request) and other runtimes. */
export function createApp(ctx: Context, options: AppOptions = {}) {
  const auth = createAuthentication(ctx, options);
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return problemResponse(c, validationProblem(result.error, result.target));
    },
  });
  app.use(requestId());
  app.use("/v1/*", auth.middleware);
  app.route("/", healthRoutes(ctx));
  app.route("/v1", bankRoutes(ctx));
  app.route("/v1", problemRoutes(ctx));
  app.route("/v1", recallRoutes(ctx));
  app.route("/v1", solveRoutes(ctx));
  app.route("/v1", runRoutes(ctx));
  app.route("/v1", keyRoutes(ctx, auth));
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "precedent", version: "0.1.0", description: "Retrieval-augmented reasoning with memory" },
  });
  app.notFound((c) =>
    problemResponse(c, {
      type: PROBLEM_TYPES.notFound,
      title: "Not found",
      status: 404,
      detail: `no route for ${c.req.method} ${c.req.path}`,
    }),
  );
  app.onError((err, c) => {
    if (err instanceof PrecedentError)
      return problemResponse(c, problemFromCode(err.code, err.message, err.field));
    if (err instanceof HTTPException && err.status < 500) {
      // hono's own 4xx, e.g. a body that is not JSON
      return problemResponse(c, {
        type: PROBLEM_TYPES.validation,
        title: "Invalid input",
        status: err.status,
        detail: err.message || "the request could not be read",
        field: "body",
      });
    }
    ctx.log.error({ err, requestId: c.get("requestId"), path: c.req.path }, "unhandled error");
    return problemResponse(c, {
      type: PROBLEM_TYPES.internal,
      title: "Internal error",
      status: 500,
      detail: `the request failed; quote request id ${c.get("requestId")} when reporting it`,
    });
  });
  return app;
}
