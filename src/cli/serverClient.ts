import type { Config } from "../config.js";
import { lockHolder } from "../db/homeLock.js";
import { type ErrorCode, PrecedentError } from "../errors.js";

/**
 * The URL of the server holding the embedded database, when one does. PGlite allows one process per data
 * directory, so while `precedent serve` runs, other commands go through its REST API instead.
 */
export function runningServerUrl(config: Config): string | undefined {
  return config.database.kind === "pglite" ? lockHolder(config.home)?.url : undefined;
}

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: "invalid_input",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "too_large",
  423: "locked",
  429: "rate_limited",
  507: "insufficient_storage",
};

export interface ServerRequest {
  method?: "GET" | "POST";
  /** sent as JSON */
  body?: unknown;
  /** abort after this long; unset for streamed answers, whose length depends on the data */
  timeoutMs?: number;
}

/**
 * Calls the running server with the CLI's token (PRECEDENT_API_KEY, else the admin token) and returns
 * its successful response. A refusal becomes a PrecedentError of the matching kind carrying the server's
 * problem detail, so the command fails as it would have without the server.
 */
export async function serverRequest(
  config: Config,
  url: string,
  path: string,
  request: ServerRequest = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (config.clientToken) headers.authorization = `Bearer ${config.clientToken}`;
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method: request.method ?? "GET",
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: request.timeoutMs === undefined ? undefined : AbortSignal.timeout(request.timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new PrecedentError("unavailable", `could not reach the server at ${url} (${cause})`);
  }
  if (response.ok) return response;
  const text = await response.text().catch(() => "");
  let detail = text.slice(0, 500);
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
  } catch {
    // not problem+json (e.g. a proxy's page): its text is the best detail there is
  }
  throw new PrecedentError(
    CODE_OF_STATUS[response.status] ?? "unavailable",
    `the server at ${url} answered ${response.status}: ${detail}`,
  );
}

/** Calls the running server (see serverRequest) and returns its JSON answer. */
export async function serverJson<T>(
  config: Config,
  url: string,
  path: string,
  request: ServerRequest = {},
): Promise<T> {
  const response = await serverRequest(config, url, path, { timeoutMs: 30_000, ...request });
  return (await response.json()) as T;
}
