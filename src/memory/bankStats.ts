import { count, eq } from "drizzle-orm";
import type { Context } from "../context.js";
import { memories, runs } from "../db/schema.js";
import { RUN_STATUSES, RUN_VERDICTS } from "../reasoning/runs.js";
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
    /** correct / (correct + incorrect) over solves (not remembered solutions): unknown verdicts count neither way; null before any verdict */
    accuracy: number | null;
  };
}

/** Every known key at 0, so clients see a stable shape; values the records hold beyond them are kept. */
function tally(keys: readonly string[], rows: { key: string; n: number }[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const { key, n } of rows) out[key] = (out[key] ?? 0) + n;
  return out;
}

/** Counts a bank's memories (by status and verification) and runs (by verdict and status) in SQL. */
export async function bankStats({ ctx, bankId }: { ctx: Context; bankId: string }): Promise<BankStats> {
  const [memoryGroups, runGroups] = await Promise.all([
    ctx.db
      .select({ status: memories.status, verification: memories.verification, n: count() })
      .from(memories)
      .where(eq(memories.bankId, bankId))
      .groupBy(memories.status, memories.verification),
    ctx.db
      .select({ verdict: runs.verdict, status: runs.status, n: count() })
      .from(runs)
      .where(eq(runs.bankId, bankId))
      .groupBy(runs.verdict, runs.status),
  ]);
  const byVerdict = tally(
    RUN_VERDICTS,
    runGroups.map((g) => ({ key: g.verdict, n: g.n })),
  );
  // accuracy is the solver's: a solution an agent remembered was not solved here
  const solved = runGroups.filter((g) => g.status !== "remembered");
  const correct = solved.reduce((sum, g) => sum + (g.verdict === "correct" ? g.n : 0), 0);
  const judged = correct + solved.reduce((sum, g) => sum + (g.verdict === "incorrect" ? g.n : 0), 0);
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
    },
  };
}
