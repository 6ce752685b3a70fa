import { and, count, eq, isNull, sql } from "drizzle-orm";
import { accessibleBank } from "../auth/access.js";
import type { Database } from "../db/database.js";
import { memories, runs } from "../db/schema.js";
import type { Proportion } from "../eval/statistics.js";
import { accuracyOf, knowsTheAnswer } from "../reasoning/accuracy.js";
import { RUN_STATUSES, RUN_VERDICTS } from "../reasoning/runVocabulary.js";
import type { CallContext } from "../services.js";
import type { Bank } from "./banks.js";
import { MEMORY_STATUSES, VERIFICATIONS } from "./trust.js";

/** A bank's memories and runs in figures. */
export interface BankStats {
  memories: {
    total: number;
    byStatus: Record<string, number>;
    byVerification: Record<string, number>;
  };
  runs: {
    total: number;
    byVerdict: Record<string, number>;
    byStatus: Record<string, number>;
    /**
     * correct / judged over the runs judged against ground truth (gold, a checker, feedback); null before
     * any was. Verdicts reached by agreement among samples alone do not count: see `consensusRate`. Remembered solutions (an agent's own) are not the solver's and count neither way
     */
    accuracy: number | null;
    /** the runs behind `accuracy`: how many were right of how many judged, with the 95% Wilson interval */
    groundTruth: Proportion;
    /**
     * the share of completed runs whose answer was accepted on agreement among its samples alone (no
     * ground truth); null before any completed run
     */
    consensusRate: number | null;
  };
}

/** Every known key at 0, so clients see a stable shape; values the records hold beyond them are kept. */
function tally(keys: readonly string[], rows: { key: string; n: number }[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const { key, n } of rows) out[key] = (out[key] ?? 0) + n;
  return out;
}

// spelled out: drizzle writes a bare "id" in a select list, which inside the subquery is feedback's own
const hadFeedback = sql<boolean>`exists (select 1 from feedback where feedback.run_id = runs.id)`;

/** A bank with its figures, the bank read once; needs read access. */
export async function bankWithStats({
  ctx,
  input: { bankId },
}: {
  ctx: CallContext;
  input: { bankId: string };
}): Promise<{ bank: Bank; stats: BankStats }> {
  const bank = await accessibleBank(ctx, bankId, "read");
  return { bank, stats: await countBank(ctx.db, bankId) };
}

/** Counts a bank's memories (by status and verification) and runs (by verdict and status) in SQL. */
async function countBank(db: Database, bankId: string): Promise<BankStats> {
  const [memoryGroups, runGroups] = await Promise.all([
    db
      .select({ status: memories.status, verification: memories.verification, n: count() })
      .from(memories)
      .where(eq(memories.bankId, bankId))
      .groupBy(memories.status, memories.verification),
    db
      .select({
        verdict: runs.verdict,
        status: runs.status,
        verification: runs.verification,
        hadFeedback: hadFeedback.mapWith(Boolean),
        n: count(),
      })
      .from(runs)
      // a shadow run is a measurement (GET /v1/banks/{bank}/impact), not the bank's traffic
      .where(and(eq(runs.bankId, bankId), isNull(runs.shadowOf)))
      .groupBy(runs.verdict, runs.status, runs.verification, hadFeedback),
  ]);
  const byVerdict = tally(
    RUN_VERDICTS,
    runGroups.map((g) => ({ key: g.verdict, n: g.n })),
  );
  let correct = 0;
  let judged = 0;
  let consensus = 0;
  let completed = 0;
  for (const g of runGroups) {
    // accuracy is the solver's: a solution an agent remembered was not solved here
    if (g.status === "remembered") continue;
    if (g.status === "completed") completed += g.n;
    if (g.verdict === "unknown") continue;
    if (knowsTheAnswer(g.verification, g.hadFeedback)) {
      judged += g.n;
      if (g.verdict === "correct") correct += g.n;
    } else if (g.verification === "consensus" && g.status === "completed") consensus += g.n;
  }
  return {
    memories: {
      total: memoryGroups.reduce((sum, g) => sum + g.n, 0),
      byStatus: tally(
        MEMORY_STATUSES,
        memoryGroups.map((g) => ({ key: g.status, n: g.n })),
      ),
      byVerification: tally(
        VERIFICATIONS,
        memoryGroups.map((g) => ({ key: g.verification, n: g.n })),
      ),
    },
    runs: {
      total: runGroups.reduce((sum, g) => sum + g.n, 0),
      byVerdict,
      byStatus: tally(
        RUN_STATUSES,
        runGroups.map((g) => ({ key: g.status, n: g.n })),
      ),
      accuracy: judged === 0 ? null : correct / judged,
      groundTruth: accuracyOf(correct, judged),
      consensusRate: completed === 0 ? null : consensus / completed,
    },
  };
}
