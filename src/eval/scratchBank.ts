import { and, asc, eq, gt, sql } from "drizzle-orm";
import { banks, memories } from "../db/schema.js";
import { type Bank, createBank } from "../memory/banks.js";
import { importProblems, type SourceRow } from "../memory/importProblems.js";
import type { CallContext, Services } from "../services.js";

const PAGE = 1000;

/** The bank's active memories (what recall can see), oldest first, as import rows. */
async function* activeMemoryRows(ctx: Services, bankId: string): AsyncGenerator<SourceRow> {
  let after = 0;
  for (;;) {
    const page = await ctx.db
      .select({
        id: memories.id,
        seq: memories.seq,
        problem: memories.problem,
        reasoning: memories.reasoning,
        answer: memories.answer,
        verification: memories.verification,
        metadata: memories.metadata,
      })
      .from(memories)
      .where(and(eq(memories.bankId, bankId), eq(memories.status, "active"), gt(memories.seq, after)))
      .orderBy(asc(memories.seq))
      .limit(PAGE);
    for (const m of page) {
      const metadata = { ...((m.metadata as Record<string, unknown> | null) ?? {}), copiedFrom: m.id };
      yield {
        line: m.seq,
        value: {
          problem: m.problem,
          reasoning: m.reasoning,
          answer: m.answer,
          verification: m.verification,
          metadata,
        },
      };
    }
    if (page.length < PAGE) return;
    after = (page.at(-1) as { seq: number }).seq;
  }
}

/**
 * A scratch copy of a bank for one arm of an evaluation: a new bank with the same domain and settings,
 * holding the source bank's active memories, written through the normal import path (records and index
 * both get them) with their verification and their usage counters (recalled, helped, hurt, support), so
 * recall ranks them as it would in the source. The source bank is only read.
 */
export async function copyBank({
  ctx,
  from,
  id,
}: {
  ctx: CallContext;
  from: Bank;
  id: string;
}): Promise<{ bank: Bank; copied: number }> {
  const bank = await createBank({
    ctx,
    input: {
      id,
      domain: from.domain,
      description: `evaluation copy of ${from.id}`,
      // an arm measures its own strategy: a recall that finds nothing shows nothing (no fallback), and no
      // shadow runs are made of the arm's solves
      settings: { ...from.settings, fallbackStrategy: "plain", shadowRate: 0, ablationRate: 0 },
    },
  });
  const result = await importProblems({
    ctx,
    input: { bankId: bank.id, rows: activeMemoryRows(ctx, from.id), source: "import" },
  });
  // the counters are not in the index, so updating the records is enough
  await ctx.db.execute(
    sql`update memories m set recalled_count = o.recalled_count, helped_count = o.helped_count,
          hurt_count = o.hurt_count, support_count = o.support_count
        from memories o
        where m.bank_id = ${bank.id} and o.bank_id = ${from.id} and o.problem_hash = m.problem_hash`,
  );
  return { bank, copied: result.inserted };
}

/** Deletes a scratch bank: its records (memories, runs and their recalls and samples) and its index table. */
export async function discardBank(ctx: Services, id: string): Promise<void> {
  await ctx.db.delete(banks).where(eq(banks.id, id));
  await ctx.index.drop(id);
}
