import type { RouteConfig } from "@hono/zod-openapi";
import { expect } from "vitest";
import type { Problem } from "../../src/api/problem.js";
import type { RequestParts, ResponseBody, SuccessStatus } from "../../src/api/responseTypes.js";

/** Where requests go: an app in process (its `request`) or a server's base URL. */
export type Target = { request(path: string, init?: RequestInit): Response | Promise<Response> } | string;

/** One call of a route: its path parameters, query, JSON body, and the caller's key. */
export type Call<R extends RouteConfig> = Partial<RequestParts<R>> & {
  /** a JSON body sent as it is, unchecked by the route's types: for bad input */
  unchecked?: unknown;
  token?: string;
  headers?: Record<string, string>;
};

/** The URL path of a route with its parameters filled in, and its query string. */
function pathOf(route: RouteConfig, params: unknown, query: unknown): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String((params as Record<string, unknown> | undefined)?.[name])),
  );
  const search = new URLSearchParams(
    Object.entries((query ?? {}) as Record<string, unknown>).map(([key, value]): [string, string] => [
      key,
      String(value),
    ]),
  ).toString();
  return search ? `${path}?${search}` : path;
}

/**
 * The API test client: calls a route by its definition (method, path and types come from the route
 * itself), so a test names the operation, not a URL it restates.
 */
export function apiClient(target: Target, defaults: { token?: string } = {}) {
  async function send<R extends RouteConfig>(route: R, call: Call<R> = {}): Promise<Response> {
    const token = call.token ?? defaults.token;
    const json = call.unchecked ?? call.json;
    const init: RequestInit = {
      method: route.method.toUpperCase(),
      headers: {
        ...(json === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...call.headers,
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    };
    const path = pathOf(route, call.params, call.query);
    return typeof target === "string" ? fetch(`${target}${path}`, init) : target.request(path, init);
  }

  return {
    /** The raw response. */
    send,
    /** The body of a call expected to succeed with the route's success status. */
    async ok<R extends RouteConfig>(route: R, call: Call<R> = {}): Promise<ResponseBody<R>> {
      const response = await send(route, call);
      const success = Object.keys(route.responses).find((status) => status.startsWith("2")) as
        | `${SuccessStatus<R> & number}`
        | undefined;
      expect(String(response.status), await response.clone().text()).toBe(success);
      return (await response.json()) as ResponseBody<R>;
    },
    /** The problem+json of a call expected to fail with `status`. */
    async fails<R extends RouteConfig>(route: R, call: Call<R>, status: number): Promise<Problem> {
      const response = await send(route, call);
      expect(response.status, await response.clone().text()).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      return (await response.json()) as Problem;
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
