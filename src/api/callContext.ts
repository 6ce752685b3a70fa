import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { PrecedentError } from "../errors.js";
import type { CallContext, Services } from "../services.js";
import { type Authentication, bearerToken } from "./auth.js";

declare module "hono" {
  interface ContextVariableMap {
    /** the request's services and caller, set by the authentication middleware */
    ctx: CallContext;
  }
}

/** Where a request's services come from: the process's own, or (a Worker) ones opened for the request. */
export type ServicesSource = Services | ((c: HonoContext) => Services);

/** The request's services. */
export function servicesOf(source: ServicesSource, c: HonoContext): Services {
  return typeof source === "function" ? source(c) : source;
}

/** Identifies the caller by this token and sets the request's call context; throws unauthorized if it must. */
export async function authenticate(
  c: HonoContext,
  source: ServicesSource,
  auth: Authentication,
  token: string | undefined,
): Promise<CallContext> {
  const services = servicesOf(source, c);
  const ctx: CallContext = { ...services, principal: await auth.identify(services.db, token) };
  c.set("ctx", ctx);
  return ctx;
}

/**
 * Authenticates each request by its bearer token and gives it its call context: the services and the
 * principal. Answers 401 when a token is needed and missing or unknown.
 */
export function callContext(source: ServicesSource, auth: Authentication): MiddlewareHandler {
  return async (c, next) => {
    await authenticate(c, source, auth, bearerToken(c));
    return next();
  };
}

/**
 * The request's call context. A route reached without the authentication middleware has none and is
 * refused: no principal is never taken to mean every right.
 */
export function ctxOf(c: HonoContext): CallContext {
  const ctx = c.get("ctx");
  if (!ctx)
    throw new PrecedentError("unauthorized", "this route needs an authenticated caller", "authorization");
  return ctx;
}
