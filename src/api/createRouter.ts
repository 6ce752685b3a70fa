import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context as HonoContext } from "hono";
import { type Problem, problemResponse, validationProblem } from "./problem.js";

/** How a router answers with a problem: problem+json by default, OpenAI's error shape on its own routes. */
export type ProblemShaper = (c: HonoContext, problem: Problem) => Response;

/**
 * A router whose request validation is answered by `shape`. Each router states its hook rather than
 * relying on the one it may inherit when mounted: a router served on its own (a Worker, a test) has none.
 */
export function createRouter(shape: ProblemShaper = problemResponse) {
  return new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return shape(c, validationProblem(result.error, result.target));
    },
  });
}
