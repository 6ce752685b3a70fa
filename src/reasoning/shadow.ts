import { and, count, eq, gt, isNotNull } from "drizzle-orm";
import type { Context } from "../context.js";
import { runs } from "../db/schema.js";
import type { Bank } from "../memory/banks.js";
import type { RecalledMemory } from "../memory/recall.js";
import { retireIfHarmful } from "./impact.js";
import { type ShadowPlan, type SolveOptions, solveOnce } from "./pipeline.js";

/** What a completed run leaves for its shadows: its id, the options it ran with, its gold answer, its examples. */
export interface ShadowableRun {
  runId: string;
  params: SolveOptions & { samples: number };
  gold?: string;
  memories: RecalledMemory[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Draws which shadows a completed run gets (a control with probability shadowRate, an ablation withholding
 * one example at random with probability ablationRate) and queues them on the context's shadow runner,
 * which starts them after the response. Each answers the same query with the same options and sample
 * budget, and never writes back or credits; the bank's shadowBudget caps them per 24 hours.
 */
export function scheduleShadows({
  ctx,
  bank,
  query,
  run,
}: {
  ctx: Context;
  bank: Bank;
  query: string;
  run: ShadowableRun;
}): void {
  const runner = ctx.shadows;
  if (!runner) return;
  const { shadowRate, ablationRate } = bank.settings;
  const plans: ShadowPlan[] = [];
  if (shadowRate > 0 && runner.random() < shadowRate) {
    plans.push({ of: run.runId, kind: "control", memories: [], gold: run.gold });
  }
  if (ablationRate > 0 && run.memories.length > 0 && runner.random() < ablationRate) {
    const left = Math.floor(runner.random() * run.memories.length);
    const withheld = run.memories[left] as RecalledMemory;
    plans.push({
      of: run.runId,
      kind: "ablation",
      memories: run.memories.filter((m) => m.id !== withheld.id),
      withheld: withheld.id,
      gold: run.gold,
    });
  }
  for (const plan of plans) {
    runner.start(bank.id, async () => {
      if (!(await withinBudget(ctx, bank))) return;
      const { gold: _gold, ...options } = run.params;
      await solveOnce(
        { ctx, bank, query, options: { ...options, writeBack: false, reuseMemory: false } },
        plan,
      );
      if (plan.withheld) await retireIfHarmful({ ctx, bankId: bank.id, memoryId: plan.withheld });
    });
  }
}

/** Whether the bank may make another shadow run: fewer than its shadowBudget in the last 24 hours. */
async function withinBudget(ctx: Context, bank: Bank): Promise<boolean> {
  const since = new Date(Date.now() - DAY_MS);
  const [row] = await ctx.db
    .select({ n: count() })
    .from(runs)
    .where(and(eq(runs.bankId, bank.id), isNotNull(runs.shadowOf), gt(runs.createdAt, since)));
  return (row?.n ?? 0) < bank.settings.shadowBudget;
}
