import type { Database } from "../db/database.js";
import { type Bank, getBank, listBanks } from "../memory/banks.js";
import { findRunBank, getRun, type RunRecord } from "../reasoning/runs.js";
import { type Access, assertBankAccess, canAccessBank, type Principal } from "./scopes.js";

/** The banks the principal may read, by id. */
export async function visibleBanks(db: Database, principal: Principal): Promise<Bank[]> {
  return (await listBanks(db)).filter((b) => canAccessBank(principal, b.id, "read"));
}

/** The bank, once the principal may access it as needed (a bank it may not read does not exist for it). */
export async function accessibleBank(
  db: Database,
  principal: Principal,
  bankId: string,
  need: Access,
): Promise<Bank> {
  assertBankAccess(principal, bankId, need);
  return getBank(db, bankId);
}

/** The run, when it exists and the principal may read its bank; otherwise undefined, whichever it was. */
export async function readableRun(
  db: Database,
  principal: Principal,
  runId: string,
): Promise<RunRecord | undefined> {
  const run = await getRun(db, runId);
  return run && canAccessBank(principal, run.bankId, "read") ? run : undefined;
}

/**
 * The bank of a run the principal may write to (to give feedback): undefined when there is no such run or
 * the principal may not read its bank; forbidden when it may read the bank but not write to it.
 */
export async function writableRunBank(
  db: Database,
  principal: Principal,
  runId: string,
): Promise<string | undefined> {
  const bankId = await findRunBank(db, runId);
  if (!bankId || !canAccessBank(principal, bankId, "read")) return undefined;
  assertBankAccess(principal, bankId, "write");
  return bankId;
}

/** The key id a principal acts with, for provenance; none for an open server or the admin token. */
export function keyIdOf(principal: Principal): string | undefined {
  return principal.kind === "key" ? principal.keyId : undefined;
}
