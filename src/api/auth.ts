import type { Context as HonoContext } from "hono";
import { hasActiveKeys, principalForToken } from "../auth/apiKeys.js";
import type { Principal } from "../auth/principal.js";
import type { Database } from "../db/database.js";
import { PrecedentError } from "../errors.js";

export interface AuthOptions {
  /** a bearer token with every right, from PRECEDENT_ADMIN_TOKEN */
  adminToken?: string;
}

/** How long "are there any keys?" is remembered; keys created by another process count after this. */
const KEYS_PRESENT_TTL_MS = 2_000;

export interface Authentication {
  /** the principal for a bearer token (undefined: none was sent); throws unauthorized when it is not valid */
  identify(db: Database, token: string | undefined): Promise<Principal>;
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
export function createAuthentication(options: AuthOptions): Authentication {
  let keysPresent: { value: boolean; at: number } | undefined;
  const authRequired = async (db: Database) => {
    if (options.adminToken) return true;
    if (!keysPresent || Date.now() - keysPresent.at > KEYS_PRESENT_TTL_MS) {
      keysPresent = { value: await hasActiveKeys(db), at: Date.now() };
    }
    return keysPresent.value;
  };
  const identify = async (db: Database, token: string | undefined): Promise<Principal> => {
    if (token === undefined) {
      if (await authRequired(db)) {
        throw new PrecedentError(
          "unauthorized",
          "send an API key as Authorization: Bearer <key>",
          "authorization",
        );
      }
      return { kind: "open" };
    }
    const principal = await principalForToken(db, token, options.adminToken);
    if (!principal) throw new PrecedentError("unauthorized", "unknown or revoked API key", "authorization");
    // a key just created here turns authentication on for everyone at once
    if (principal.kind === "key") keysPresent = { value: true, at: Date.now() };
    return principal;
  };
  return {
    identify,
    keysChanged() {
      keysPresent = undefined;
    },
  };
}
