import { notFound } from "../errors.js";
import { type Bank, getBank, listBanks } from "../memory/banks.js";
import { findRunBank, getRun, type RunRecord } from "../reasoning/runs.js";
import type { CallContext } from "../services.js";
import { type Access, assertAdmin, assertBankAccess, canAccessBank } from "./scopes.js";

// Every check reads the caller from the call context: REST, MCP, the inspector and the CLI (as the
// operator) go through these, so none of them decides access on its own.

/** The banks the caller may read. */
export async function visibleBanks(ctx: CallContext): Promise<Bank[]> {
  return (await listBanks(ctx.db)).filter((b) => canAccessBank(ctx.principal, b.id, "read"));
}

/** Throws unless the caller may access the bank as needed: not found when it may not read it at all. */
export function requireBankAccess(ctx: CallContext, bankId: string, need: Access): void {
  assertBankAccess(ctx.principal, bankId, need);
}

/** Throws forbidden unless the caller is an administrator. */
export function requireAdmin(ctx: CallContext): void {
  assertAdmin(ctx.principal);
}

/** The bank, once the caller may access it as needed (a bank it may not read does not exist for it). */
export async function accessibleBank(ctx: CallContext, bankId: string, need: Access): Promise<Bank> {
  requireBankAccess(ctx, bankId, need);
  return getBank(ctx.db, bankId);
}

/** The run, when it exists and the caller may read its bank; not found otherwise, whichever it was. */
export async function readableRun(ctx: CallContext, runId: string, field = "id"): Promise<RunRecord> {
  const run = await getRun(ctx.db, runId);
  if (!run || !canAccessBank(ctx.principal, run.bankId, "read")) throw notFound("run", runId, field);
  return run;
}

/**
 * The bank of a run the caller may write to (to give feedback): not found when there is no such run or
 * the caller may not read its bank; forbidden when it may read the bank but not write to it.
 */
export async function writableRunBank(ctx: CallContext, runId: string, field = "id"): Promise<string> {
  const bankId = await findRunBank(ctx.db, runId);
  if (!bankId || !canAccessBank(ctx.principal, bankId, "read")) throw notFound("run", runId, field);
  assertBankAccess(ctx.principal, bankId, "write");
  return bankId;
}
