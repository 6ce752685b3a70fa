import type { Database } from "../db/database.js";
import { auditLog } from "../db/schema.js";
import type { CallContext } from "../services.js";
import { keyIdOf } from "./principal.js";

/** The writes the audit log records, named `<what>.<verb>`. */
export const AUDITED_ACTIONS = [
  "bank.create",
  "bank.update",
  "problems.import",
  "memory.retire",
  "memory.restore",
  "solution.remember",
  "key.create",
  "key.revoke",
] as const;
export type AuditedAction = (typeof AUDITED_ACTIONS)[number];

/** What a write was done to. */
export interface AuditTarget {
  bankId?: string;
  /** the memory, run or key it changed */
  subject?: string;
  detail?: Record<string, unknown>;
}

/**
 * Records who made a write, from the call context's principal. Give it the transaction's database when
 * the write runs in one, so the record and its attribution commit together.
 */
export async function recordAction(
  ctx: Pick<CallContext, "principal"> & { db: Pick<Database, "insert"> },
  action: AuditedAction,
  target: AuditTarget = {},
): Promise<void> {
  await ctx.db.insert(auditLog).values({
    action,
    principal: ctx.principal.kind,
    keyId: keyIdOf(ctx.principal) ?? null,
    bankId: target.bankId ?? null,
    subject: target.subject ?? null,
    detail: target.detail ?? {},
  });
}
