/**
 * Who is calling:
 * - `open`: a server with no key and no admin token configured; it listens on 127.0.0.1 only and everyone
 *   who can reach it may do anything;
 * - `operator`: the local command line, run by whoever owns the home folder or the database URL;
 * - `admin-token`: the bearer of PRECEDENT_ADMIN_TOKEN;
 * - `key`: an API key with its scopes.
 */
export type Principal =
  | { kind: "open" }
  | { kind: "operator" }
  | { kind: "admin-token" }
  | { kind: "key"; keyId: string; scopes: readonly string[] };

/** The principal of the local command line. */
export const OPERATOR: Principal = { kind: "operator" };

/** The key id a caller acts with, for provenance; none for an open server, the operator or the admin token. */
export function keyIdOf(principal: Principal): string | undefined {
  return principal.kind === "key" ? principal.keyId : undefined;
}
