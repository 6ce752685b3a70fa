import { createRoute, z } from "@hono/zod-openapi";
import { rememberSolution, solutionInputSchema } from "../../reasoning/remember.js";
import { RUN_VERDICTS } from "../../reasoning/runVocabulary.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, problemResponses } from "../schemas.js";

export const rememberResultSchema = z
  .object({
    runId: z.string().openapi({ description: "the run recording the attempt; give feedback on it" }),
    verdict: z.enum(RUN_VERDICTS),
    verification: z.string(),
    reason: z.string(),
    writtenMemory: z
      .object({
        action: z.enum(["created", "supported", "conflict"]),
        memoryId: z.string(),
        status: z.string().optional(),
        promoted: z.boolean().optional(),
        detail: z.string().optional(),
      })
      .optional()
      .openapi({ description: "absent when a verifier refuted the answer: nothing was stored" }),
  })
  .openapi("RememberResult");

export const rememberSolutionRoute = createRoute({
  operationId: "rememberSolution",
  tags: ["memories"],
  method: "post",
  path: "/v1/banks/{bank}/solutions",
  summary: "Remember a solution found elsewhere: gold or checker agreement → active, else quarantined",
  description:
    "The bank's verifiers decide, as for a solve's write-back: an answer that agrees with the gold answer " +
    "(the evidence's or the bank's) or that the domain checker accepts becomes an active memory with that " +
    "trust; one nothing vouches for is quarantined until feedback on the returned run; one a verifier " +
    "refutes is not stored (the run records the attempt). The same problem already in the bank gains support.",
  request: {
    params: bankParamSchema,
    body: { content: { "application/json": { schema: solutionInputSchema } }, required: true },
  },
  responses: {
    200: {
      description: "the verdict and what was stored",
      content: { "application/json": { schema: rememberResultSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

/** Storing a solution an agent found itself, verified by the bank's verifiers. */
export function solutionRoutes() {
  const app = createRouter();
  app.openapi(rememberSolutionRoute, async (c) => {
    const input = { bankId: c.req.valid("param").bank, solution: c.req.valid("json") };
    return c.json(await rememberSolution({ ctx: ctxOf(c), input }), 200);
  });
  return app;
}
