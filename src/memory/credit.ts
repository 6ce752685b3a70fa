import { sql } from "drizzle-orm";
import { queryRows } from "../db/database.js";
import type { Services } from "../services.js";
import { indexAfterWrite } from "./reconcile.js";
import { INDEXABLE_COLUMNS, lockedInIdOrder, type RawIndexableRow, toIndexable } from "./store.js";

/** How a run that recalled memories turned out, as far as its verification can tell. */
export type RunOutcome = "helped" | "hurt" | "unknown";

/**
 * A memory is retired once at least this many verified runs recalled it and its verified utility
 * (helped + 1) / (helped + hurt + 2) fell below RETIRE_UTILITY: it keeps steering answers wrong.
 * Unverified runs count neither way, and gold memories are never retired automatically (their answer is
 * known right; a retire of one is an operator's decision).
 */
export const RETIRE_MIN_VERIFIED_USES = 6;
export const RETIRE_UTILITY = 0.25;

/** The utility prior recall ranks by: (helped + 1) / (recalled + 2), 0.5 for a memory never recalled. */
export function utilityPrior(m: { helpedCount: number; recalledCount: number }): number {
  return (m.helpedCount + 1) / (m.recalledCount + 2);
}

/** The verified utility retirement judges by (the SQL below computes the same): (helped + 1) / (helped + hurt + 2). */
export function verifiedUtility(m: { helpedCount: number; hurtCount: number }): number {
  return (m.helpedCount + 1) / (m.helpedCount + m.hurtCount + 2);
}

/**
 * Credits the memories a run recalled: each gets recalled + 1 at solve time (`recalled: true`), and helped
 * + 1 or hurt + 1 once the run's answer is known right or wrong (at solve time or later, on feedback).
 * Increments happen in the database, so concurrent runs never lose an update. Returns the ids retired.
 */
export async function creditRecalls({
  ctx,
  memoryIds,
  outcome,
  recalled,
}: {
  ctx: Services;
  memoryIds: string[];
  outcome: RunOutcome;
  recalled: boolean;
}): Promise<string[]> {
  if (memoryIds.length === 0) return [];
  const ids = JSON.stringify(memoryIds);
  const locked = lockedInIdOrder(ids);
  const helped = outcome === "helped" ? 1 : 0;
  const hurt = outcome === "hurt" ? 1 : 0;
  await ctx.db.execute(
    sql`update memories set
          recalled_count = recalled_count + ${recalled ? 1 : 0},
          helped_count = helped_count + ${helped},
          hurt_count = hurt_count + ${hurt},
          updated_at = now()
        where id in ${locked}`,
  );
  if (outcome !== "hurt") return [];
  // a second statement: Postgres applies only one update per row within a single statement
  const retired = await queryRows<RawIndexableRow>(
    ctx.db,
    sql`update memories set status = 'retired', version = version + 1, updated_at = now()
        where id in ${locked}
          and status = 'active' and verification <> 'gold'
          and helped_count + hurt_count >= ${RETIRE_MIN_VERIFIED_USES}
          and (helped_count + 1)::real / (helped_count + hurt_count + 2) < ${RETIRE_UTILITY}
        returning ${INDEXABLE_COLUMNS}`,
  );
  if (retired.length > 0) {
    await indexAfterWrite(ctx, retired.map(toIndexable));
    ctx.log.info({ retired: retired.map((r) => r.id) }, "retired memories that kept hurting");
  }
  return retired.map((r) => r.id);
}
