import type { Context as HonoContext, MiddlewareHandler } from "hono";
import type { Logger } from "../log.js";

/**
 * Logs one structured line per request once its response is ready: method, path (without the query
 * string, which may carry data), status, duration, request id and who called. 5xx answers are logged at
 * error level with the error that caused them. For a streamed response the duration is the time to its
 * first byte; the stream itself logs what fails later.
 */
export function requestLog(logOf: (c: HonoContext) => Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const principal = c.get("ctx")?.principal;
    const log = logOf(c);
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      requestId: c.get("requestId"),
      ...(principal ? { principal: principal.kind } : {}),
      ...(principal?.kind === "key" ? { keyId: principal.keyId } : {}),
    };
    if (c.res.status >= 500) log.error({ ...fields, err: c.error }, "request failed");
    else log.info(fields, "request");
  };
}
