import { and, count, eq, gt, isNotNull } from "drizzle-orm";
import { runs } from "../db/schema.js";
import type { Bank } from "../memory/banks.js";
import type { RecalledMemory } from "../memory/recallResult.js";
import type { CallContext, Services } from "../services.js";
import { retireIfHarmful } from "./impact.js";
import type { ShadowKind } from "./runVocabulary.js";
import type { SolveOptions } from "./solveOptions.js";

/** What a completed run leaves for its shadows: its id, the options it ran with, its gold answer, its examples. */
export interface ShadowableRun {
  runId: string;
  params: SolveOptions & { samples: number };
  gold?: string;
  memories: RecalledMemory[];
}

/** A shadow solve's plan: the run it shadows and the examples it shows (none, or all but the withheld one). */
export interface ShadowPlan {
  of: string;
  kind: ShadowKind;
  memories: RecalledMemory[];
  withheld?: string;
  gold?: string;
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
  solveShadow,
}: {
  ctx: CallContext;
  bank: Bank;
  query: string;
  run: ShadowableRun;
  /** solves once along a plan (the pipeline's solveOnce, passed in so the two modules do not import each other) */
  solveShadow: (
    input: { ctx: CallContext; bank: Bank; query: string; options: SolveOptions },
    plan: ShadowPlan,
  ) => Promise<unknown>;
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
      await solveShadow(
        { ctx, bank, query, options: { ...options, writeBack: false, reuseMemory: false } },
        plan,
      );
      if (plan.withheld) await retireIfHarmful({ ctx, bankId: bank.id, memoryId: plan.withheld });
    });
  }
}

/** Whether the bank may make another shadow run: fewer than its shadowBudget in the last 24 hours. */
async function withinBudget(ctx: Services, bank: Bank): Promise<boolean> {
  const since = new Date(Date.now() - DAY_MS);
  const [row] = await ctx.db
    .select({ n: count() })
    .from(runs)
    .where(and(eq(runs.bankId, bank.id), isNotNull(runs.shadowOf), gt(runs.createdAt, since)));
  return (row?.n ?? 0) < bank.settings.shadowBudget;
}
