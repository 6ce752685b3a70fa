import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { hasActiveKeys, principalForToken } from "../auth/apiKeys.js";
import { type Access, assertAdmin, assertBankAccess, type Principal } from "../auth/scopes.js";
import { PrecedentError } from "../errors.js";
import type { Services } from "../services.js";

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}

export interface AuthOptions {
  /** a bearer token with every right, from PRECEDENT_ADMIN_TOKEN */
  adminToken?: string;
}

/** How long "are there any keys?" is remembered; keys created by another process count after this. */
const KEYS_PRESENT_TTL_MS = 2_000;

export interface Authentication {
  /** resolves `Authorization: Bearer <token>` into `c.get("principal")`, or answers 401 */
  middleware: MiddlewareHandler;
  identify(token: string | undefined): Promise<Principal>;
  /** forget whether keys exist, after creating or revoking one */
  keysChanged(): void;
}

/** The bearer token of the request; undefined without an Authorization header, unauthorized if malformed. */
export function bearerToken(c: HonoContext): string | undefined {
  const header = c.req.header("authorization");
  if (header === undefined) return undefined;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (!token) {
    throw new PrecedentError(
      "unauthorized",
      "the Authorization header must be Bearer <key>",
      "authorization",
    );
  }
  return token;
}

/**
 * Resolves the caller from `Authorization: Bearer <token>`. With no admin token and no key configured
 * the server is open (it then listens on 127.0.0.1 only); otherwise every request needs a valid token.
 */
export function createAuthentication(ctx: Pick<Services, "db">, options: AuthOptions): Authentication {
  let keysPresent: { value: boolean; at: number } | undefined;
  const authRequired = async () => {
    if (options.adminToken) return true;
    if (!keysPresent || Date.now() - keysPresent.at > KEYS_PRESENT_TTL_MS) {
      keysPresent = { value: await hasActiveKeys(ctx.db), at: Date.now() };
    }
    return keysPresent.value;
  };
  /** The principal for a bearer token (undefined: none was sent); throws unauthorized when it is not valid. */
  const identify = async (token: string | undefined): Promise<Principal> => {
    if (token === undefined) {
      if (await authRequired()) {
        throw new PrecedentError(
          "unauthorized",
          "send an API key as Authorization: Bearer <key>",
          "authorization",
        );
      }
      return { kind: "open" };
    }
    const principal = await principalForToken(ctx.db, token, options.adminToken);
    if (!principal) throw new PrecedentError("unauthorized", "unknown or revoked API key", "authorization");
    // a key just created here turns authentication on for everyone at once
    if (principal.kind === "key") keysPresent = { value: true, at: Date.now() };
    return principal;
  };
  const middleware: MiddlewareHandler = async (c, next) => {
    c.set("principal", await identify(bearerToken(c)));
    return next();
  };
  return {
    middleware,
    identify,
    keysChanged() {
      keysPresent = undefined;
    },
  };
}

/** The caller of this request, as resolved by the authentication middleware. */
export function principalOf(c: HonoContext): Principal {
  return c.get("principal") ?? { kind: "open" };
}

/**
 * Throws unless the caller may read (or write) the bank: 404 when it may not read it at all, 403 when
 * it may read but not write. Call it before touching the bank, so no answer reveals that it exists.
 */
export function requireBankAccess(c: HonoContext, bankId: string, need: Access): void {
  assertBankAccess(principalOf(c), bankId, need);
}

/** Throws 403 unless the caller is an administrator. */
export function requireAdmin(c: HonoContext): void {
  assertAdmin(principalOf(c));
}
