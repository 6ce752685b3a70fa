import type { RouteConfig, z } from "@hono/zod-openapi";

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
