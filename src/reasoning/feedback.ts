import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { writableRunBank } from "../auth/access.js";
import { keyIdOf } from "../auth/principal.js";
import { feedback, memories, runRecalls, runs } from "../db/schema.js";
import { notFound } from "../errors.js";
import { atomically } from "../memory/atomically.js";
import { creditRecalls } from "../memory/credit.js";
import { feedbackDecisionOf } from "../memory/feedbackDecision.js";
import { INDEXABLE_FIELDS, indexAfterWrite } from "../memory/reconcile.js";
import { trustOf } from "../memory/trust.js";
import type { CallContext } from "../services.js";
import { judgeShadows, retireIfHarmful } from "./impact.js";

export const feedbackInputSchema = z
  .object({
    /** whether the run's answer was right */
    correct: z.boolean(),
    /** the right answer, when the run's was wrong (kept with the feedback) */
    answer: z.string().trim().min(1).max(5_000).optional(),
  })
  .strict();
export type FeedbackInput = z.infer<typeof feedbackInputSchema>;

/** A verdict on a run; the call context says who gave it. */
export interface FeedbackRequest {
  ctx: CallContext;
  input: FeedbackInput & { runId: string };
}

export interface FeedbackResult {
  runId: string;
  verdict: "correct" | "incorrect";
  /** what happened to the memory the run wrote, if any, and why it was left as it was */
  memory?: { id: string; status: string; changed: boolean; reason?: string };
  /** whether the recalled memories were credited now (false when the run's verdict already had) */
  credited: boolean;
}

/**
 * A person's verdict on a run. Confirmed: the run's quarantined memory becomes active (verified by
 * feedback) and the recalled memories count as having helped. Refuted: the run's memory is retired and the
 * recalled memories count as having hurt. Recalled memories are credited once per run: a run a verifier
 * already judged is not counted twice. Needs write access to the run's bank (not found without read access).
 *
 * What feedback may not do to a memory (the rule against a burst of contradicting feedback):
 * - a memory verified by gold or a checker outranks feedback and is left as it is;
 * - feedback decides a memory once: after it was confirmed or refuted, feedback saying the opposite is
 *   recorded (as a dispute on the memory and in the feedback table) but flips nothing. Only a verifier
 *   above feedback changes it again: a gold or checker-verified solve of the same problem reinstates a
 *   refuted memory whose answer it agrees with (writeBack); a person can retire it by hand, and restoring it
 *   by hand reopens it to feedback (restoreMemory);
 * - feedback on a run whose answer differs from the memory it points at (the bank already held another
 *   answer for the problem) says nothing about that memory and leaves it alone.
 */
export async function applyFeedback(args: FeedbackRequest): Promise<FeedbackResult> {
  await writableRunBank(args.ctx, args.input.runId, "runId");
  // one transaction, the run row locked first: feedback sent at once on one run is decided one at a time,
  // so a burst cannot credit the recalled memories twice or decide the memory twice
  return atomically(args.ctx, (tx) => decideFeedback({ ...args, ctx: tx }));
}

async function decideFeedback({ ctx, input }: FeedbackRequest): Promise<FeedbackResult> {
  const { runId } = input;
  const [run] = await ctx.db.select().from(runs).where(eq(runs.id, runId)).for("update");
  if (!run) throw notFound("run", runId, "runId");
  const verdict = input.correct ? "correct" : "incorrect";

  await ctx.db
    .insert(feedback)
    .values({ runId, verdict, answer: input.answer ?? null, keyId: keyIdOf(ctx.principal) ?? null });
  const credited = run.verdict === "unknown" && run.status !== "failed" && !run.shadowOf;
  await ctx.db.update(runs).set({ verdict }).where(eq(runs.id, runId));
  const withheld = await judgeShadows({ ctx, run, correct: input.correct, answer: input.answer });
  for (const memoryId of withheld) await retireIfHarmful({ ctx, bankId: run.bankId, memoryId });

  if (credited) {
    const recalled = await ctx.db
      .select({ id: runRecalls.memoryId })
      .from(runRecalls)
      .where(eq(runRecalls.runId, runId));
    await creditRecalls({
      ctx,
      memoryIds: recalled.map((r) => r.id),
      outcome: input.correct ? "helped" : "hurt",
      recalled: false,
    });
  }

  let memory: FeedbackResult["memory"];
  if (run.writtenMemoryId) {
    // locked too: feedback on another run that wrote or supported the same memory waits its turn
    const [m] = await ctx.db
      .select()
      .from(memories)
      .where(eq(memories.id, run.writtenMemoryId))
      .for("update");
    if (m) {
      const decided = feedbackDecisionOf(m.verificationDetail);
      const next = input.correct ? (m.status === "quarantined" ? "active" : m.status) : "retired";
      const untouched = (reason?: string) => ({
        id: m.id,
        status: m.status,
        changed: false,
        ...(reason ? { reason } : {}),
      });
      if (m.answerCanonical !== run.answerCanonical) {
        memory = untouched("the memory holds another answer than the run's");
      } else if (m.trust > trustOf("feedback")) {
        memory = untouched(`verified by ${m.verification}, which outranks feedback`);
      } else if (decided && decided.verdict !== verdict) {
        const disputes = (decided.disputes ?? 0) + 1;
        await ctx.db
          .update(memories)
          .set({
            verificationDetail: {
              ...(m.verificationDetail as Record<string, unknown>),
              feedbackDecision: { ...decided, disputes },
            },
            updatedAt: new Date(),
          })
          .where(eq(memories.id, m.id));
        memory = untouched(
          `feedback already ${decided.verdict === "correct" ? "confirmed" : "refuted"} it (run ${decided.runId}); ` +
            `${disputes} contradicting feedback since: only a verifier or an explicit retire/restore changes it`,
        );
      } else if (next === m.status) {
        memory = untouched();
      } else {
        const [row] = await ctx.db
          .update(memories)
          .set({
            status: next,
            version: sql`${memories.version} + 1`,
            updatedAt: new Date(),
            ...(input.correct
              ? {
                  verification: "feedback",
                  trust: trustOf("feedback"),
                  verificationDetail: { feedback: verdict, runId, feedbackDecision: { verdict, runId } },
                }
              : {
                  verificationDetail: {
                    ...(m.verificationDetail as Record<string, unknown>),
                    feedbackDecision: { verdict, runId },
                  },
                }),
          })
          .where(eq(memories.id, m.id))
          .returning(INDEXABLE_FIELDS);
        if (row) await indexAfterWrite(ctx, [row]);
        memory = { id: m.id, status: next, changed: true };
      }
    }
  }
  return { runId, verdict, memory, credited };
}
