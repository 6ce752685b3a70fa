import { z } from "zod";
import { notFound, PrecedentError } from "../errors.js";
import { bankIdSchema } from "../memory/bankId.js";
import type { Principal } from "./principal.js";

/** `admin`, or read / write access to one bank (`bank:<id>:read`, `bank:<id>:write`; write implies read). */
export const scopeSchema = z.union([
  z.literal("admin"),
  z
    .string()
    .regex(/^bank:[a-z0-9][a-z0-9-]{0,62}:(read|write)$/, "must be admin, bank:<id>:read or bank:<id>:write"),
]);
export type Scope = z.infer<typeof scopeSchema>;

export type Access = "read" | "write";

/** Whether the principal may do everything, including managing banks and keys. */
export function isAdmin(principal: Principal): boolean {
  return principal.kind !== "key" || principal.scopes.includes("admin");
}

/** Whether the principal may read (or write) the bank. */
export function canAccessBank(principal: Principal, bankId: string, need: Access): boolean {
  if (isAdmin(principal) || principal.kind !== "key") return true;
  if (principal.scopes.includes(`bank:${bankId}:write`)) return true;
  return need === "read" && principal.scopes.includes(`bank:${bankId}:read`);
}

/**
 * Throws unless the principal may access the bank: not_found when it may not even read it (so a key
 * for bank A cannot learn that bank B exists), forbidden when it may read but not write.
 */
export function assertBankAccess(principal: Principal, bankId: string, need: Access): void {
  if (canAccessBank(principal, bankId, need)) return;
  if (need === "write" && canAccessBank(principal, bankId, "read")) {
    throw new PrecedentError("forbidden", `this key may read bank "${bankId}" but not write to it`, "bank");
  }
  throw notFound("bank", bankId);
}

/** Throws forbidden unless the principal is an administrator. */
export function assertAdmin(principal: Principal): void {
  if (!isAdmin(principal)) throw new PrecedentError("forbidden", "this needs an admin key", "authorization");
}

/** Parses a bank id out of a scope, for listing what a key can see. */
export function scopedBankIds(scopes: readonly string[]): string[] {
  return scopes.flatMap((s) => {
    const m = /^bank:([^:]+):(read|write)$/.exec(s);
    return m?.[1] && bankIdSchema.safeParse(m[1]).success ? [m[1]] : [];
  });
}
