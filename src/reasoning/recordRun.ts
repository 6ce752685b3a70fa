import { atomically } from "../memory/atomically.js";
import { creditRecalls, type RunOutcome } from "../memory/credit.js";
import { type WriteBackInput, type WriteBackResult, writeBack } from "../memory/writeBack.js";
import { saveRun } from "./runs.js";
import type { RunBase, SolvePlan } from "./solvePlan.js";
import { resultOf, type SolveResult, type SolveRun } from "./solveResult.js";

/** How a solve ended, before it is stored: the run's own fields, what it credits, and what it remembers. */
export interface RunEnding {
  run: Omit<SolveRun, keyof RunBase | "timings" | "writtenMemoryId">;
  reason: string;
  /** the recalled memories credited with the run's outcome */
  credit: { memoryIds: string[]; outcome: RunOutcome };
  /** the verified solution to write back as a memory */
  remember?: Omit<WriteBackInput, "bank" | "runId" | "model">;
}

/**
 * Stores how a solve ended: the written-back memory, the recalled memories' credit and the run are
 * committed together, or (a crash, an error) none of them. Every way a solve ends goes through here.
 */
export async function recordRun(plan: SolvePlan, ending: RunEnding): Promise<SolveResult> {
  const { ctx, bank, model } = plan;
  const { written, run } = await atomically(ctx, async (tx) => {
    let written: WriteBackResult | undefined;
    if (ending.remember) {
      written = await writeBack({
        ctx: tx,
        input: { ...ending.remember, bank, runId: plan.base.id, model: model.name },
      });
      ctx.fault?.("after-memory-row");
    }
    await creditRecalls({ ctx: tx, ...ending.credit, recalled: true });
    if (ending.run.status === "completed") plan.lap("writeBackMs");
    const run: SolveRun = {
      ...plan.base,
      ...ending.run,
      writtenMemoryId: written?.memoryId,
      timings: { ...plan.timings, totalMs: plan.elapsed() },
    };
    await saveRun(tx.db, run);
    ctx.fault?.("after-run-row");
    return { written, run };
  });
  return resultOf(run, ending.reason, written);
}
