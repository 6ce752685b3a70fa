import { and, eq, ne, type SQL, sql } from "drizzle-orm";
import { accessibleBank } from "../auth/access.js";
import { recordAction } from "../auth/audit.js";
import { memories } from "../db/schema.js";
import { PrecedentError } from "../errors.js";
import type { CallContext, Services } from "../services.js";
import { findBankMemory, type MemoryView, toMemoryView } from "./browseMemories.js";
import { indexAfterWrite } from "./reconcile.js";
import { type MemoryStatus, trustOf } from "./trust.js";

/**
 * Sets the status of one memory of the bank when `when` holds, in one conditional statement (two
 * concurrent calls cannot both apply). Bumping `version` is what makes the index reconciler remove the
 * memory from the index (or upsert it again) with its new status. Undefined when nothing matched.
 */
async function setStatus(
  ctx: Services,
  bankId: string,
  id: string,
  status: SQL | MemoryStatus,
  when: SQL,
  extra: Partial<Record<"verificationDetail", SQL>> = {},
): Promise<MemoryView | undefined> {
  const [row] = await ctx.db
    .update(memories)
    .set({ status, version: sql`${memories.version} + 1`, updatedAt: new Date(), ...extra })
    .where(and(eq(memories.id, id), eq(memories.bankId, bankId), when))
    .returning();
  if (!row) return undefined;
  await indexAfterWrite(ctx, [row]);
  // read again: indexing (when done at once) has acknowledged the new version since the update
  return toMemoryView(await findBankMemory(ctx, bankId, id));
}

/**
 * Retires a memory by hand: it stays in the records (with its provenance and the runs that recalled it)
 * but is never recalled again. Retiring a retired memory changes nothing. No memory is ever deleted.
 * Needs write access to the bank.
 */
export async function retireMemory({
  ctx,
  input: { bankId, id },
}: {
  ctx: CallContext;
  input: { bankId: string; id: string };
}): Promise<MemoryView> {
  await accessibleBank(ctx, bankId, "write");
  const retired = await setStatus(ctx, bankId, id, "retired", ne(memories.status, "retired"));
  if (!retired) return toMemoryView(await findBankMemory(ctx, bankId, id));
  await recordAction(ctx, "memory.retire", { bankId, subject: id });
  return retired;
}

/**
 * Undoes a retirement. The memory becomes active only when its verification reaches the bank's write-back
 * tier, the same bar a new solution must clear to be recalled; below it, it returns to quarantine (a
 * consensus- or unverified memory a person refuted must not become recallable by a click). Only a retired
 * memory can be restored: a quarantined one is a conflict, since it leaves quarantine through feedback or a
 * checker, never through restore. Restoring an active memory changes nothing. A person restoring a memory
 * reopens the question: a feedback decision recorded on it is cleared, so feedback may decide it again.
 * Needs write access to the bank.
 */
export async function restoreMemory({
  ctx,
  input: { bankId, id },
}: {
  ctx: CallContext;
  input: { bankId: string; id: string };
}): Promise<MemoryView> {
  const bank = await accessibleBank(ctx, bankId, "write");
  const tier = trustOf(bank.settings.writeBackTier);
  const restored = await setStatus(
    ctx,
    bank.id,
    id,
    sql`case when ${memories.trust} >= ${tier} then 'active' else 'quarantined' end`,
    eq(memories.status, "retired"),
    { verificationDetail: sql`${memories.verificationDetail} - 'feedbackDecision'` },
  );
  if (restored) {
    await recordAction(ctx, "memory.restore", {
      bankId: bank.id,
      subject: id,
      detail: { status: restored.status },
    });
    return restored;
  }
  const current = await findBankMemory(ctx, bank.id, id);
  if (current.status === "quarantined") {
    throw new PrecedentError(
      "conflict",
      `memory "${id}" is quarantined, not retired: feedback or a checker can promote it, restore cannot`,
      "id",
    );
  }
  return toMemoryView(current);
}
