import type { RouteConfig, z } from "@hono/zod-openapi";
import type { createBankRoute, getBankRoute, listBanksRoute, updateBankRoute } from "./routes/banks.js";
import type { createKeyRoute, listKeysRoute } from "./routes/keys.js";
import type { getMemoryRoute, listMemoriesRoute, retireMemoryRoute } from "./routes/memories.js";
import type { importProblemsRoute } from "./routes/problems.js";
import type { recallRoute } from "./routes/recall.js";
import type { feedbackRoute, getRunRoute, listRunsRoute } from "./routes/runs.js";
import type { rememberSolutionRoute } from "./routes/solutions.js";
import type { solveRoute } from "./routes/solve.js";

type Responses<R extends RouteConfig> = R["responses"];

/** The status a route answers with when it succeeds (the first 2xx it declares). */
export type SuccessStatus<R extends RouteConfig> = Extract<keyof Responses<R>, 200 | 201 | 202>;

/** The JSON body `route` answers with status `S` (by default, its success). */
export type ResponseBody<
  R extends RouteConfig,
  S extends keyof Responses<R> = SuccessStatus<R>,
> = Responses<R>[S] extends { content: { "application/json": { schema: infer Schema extends z.ZodType } } }
  ? z.output<Schema>
  : never;

/** What a route's path parameters, query string and JSON body accept. */
export type RequestParts<R extends RouteConfig> = {
  params: R["request"] extends { params: infer P extends z.ZodType } ? z.input<P> : never;
  query: R["request"] extends { query: infer Q extends z.ZodType } ? z.input<Q> : never;
  json: R["request"] extends {
    body: { content: { "application/json": { schema: infer B extends z.ZodType } } };
  }
    ? z.input<B>
    : never;
};

export type BankResponse = ResponseBody<typeof createBankRoute>;
export type UpdatedBankResponse = ResponseBody<typeof updateBankRoute>;
export type BankListResponse = ResponseBody<typeof listBanksRoute>;
export type BankWithStatsResponse = ResponseBody<typeof getBankRoute>;
export type ImportResponse = ResponseBody<typeof importProblemsRoute>;
export type RecallResponse = ResponseBody<typeof recallRoute>;
export type SolveResponse = ResponseBody<typeof solveRoute>;
export type RememberResponse = ResponseBody<typeof rememberSolutionRoute>;
export type RunResponse = ResponseBody<typeof getRunRoute>;
export type RunListResponse = ResponseBody<typeof listRunsRoute>;
export type FeedbackResponse = ResponseBody<typeof feedbackRoute>;
export type MemoryResponse = ResponseBody<typeof getMemoryRoute>;
export type MemoryListResponse = ResponseBody<typeof listMemoriesRoute>;
export type RetireResponse = ResponseBody<typeof retireMemoryRoute>;
export type NewKeyResponse = ResponseBody<typeof createKeyRoute>;
export type KeyListResponse = ResponseBody<typeof listKeysRoute>;
