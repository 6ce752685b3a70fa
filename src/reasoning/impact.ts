import { sql } from "drizzle-orm";
import { accessibleBank } from "../auth/access.js";
import { queryRows } from "../db/database.js";
import { domainOf } from "../domains/domain.js";
import { mcnemarExact, type Proportion, pairedDifference } from "../eval/statistics.js";
import { getBank } from "../memory/banks.js";
import { indexAfterWrite } from "../memory/reconcile.js";
import { INDEXABLE_COLUMNS, type RawIndexableRow, toIndexable } from "../memory/store.js";
import type { CallContext, Services } from "../services.js";
import { accuracyOf, knowsTheAnswer } from "./accuracy.js";

/**
 * A memory is retired for what it does once it was withheld from at least CAUSAL_MIN_PAIRS ablation
 * shadows judged against ground truth (the run that showed it and the shadow that did not, both judged)
 * and the 95% interval of its effect (accuracy shown − withheld) lies wholly below 0: with it in the
 * prompt, answers are worse. Gold memories are never retired automatically.
 */
export const CAUSAL_MIN_PAIRS = 5;

/** A difference of accuracy with its 95% interval, over `judged` pairs. */
export interface Effect {
  judged: number;
  difference: number | null;
  low: number | null;
  high: number | null;
}

/** What a bank's memory does on its own traffic, from its shadow runs. */
export interface BankImpact {
  control: {
    /** completed runs with a completed control shadow */
    pairs: number;
    /** of them, pairs whose run and shadow were both judged against ground truth */
    judged: number;
    withMemory: Proportion;
    withoutMemory: Proportion;
    /** accuracy with memory − without, over the judged pairs, with its 95% interval */
    lift: Effect;
    /** McNemar's exact p of the judged pairs; null before any */
    pValue: number | null;
    /** judged pairs right only with memory / only without */
    memoryOnly: number;
    controlOnly: number;
    /** the share of all pairs whose two answers agree (what can be said without ground truth); null before any */
    agreement: number | null;
    /** the lift after each judged pair, in the order the runs were made */
    curve: { judged: number; lift: number }[];
  };
  /** memories withheld by ablation shadows, the most harmful first */
  memories: MemoryEffect[];
}

/** One memory's causal estimate: accuracy of the runs that showed it − their shadows that withheld it. */
export interface MemoryEffect extends Effect {
  memoryId: string;
  /** ablation shadows that withheld it */
  withheld: number;
}

interface PairRow {
  run_id: string;
  run_verdict: string;
  run_verification: string;
  run_feedback: boolean;
  run_answer: string | null;
  shadow_kind: string;
  shadow_verdict: string;
  shadow_verification: string;
  shadow_answer: string | null;
  withheld: string | null;
}

/** Every completed run of the bank paired with each of its completed shadows, oldest run first. */
async function shadowPairs(ctx: Services, bankId: string, memoryId?: string): Promise<PairRow[]> {
  return queryRows<PairRow>(
    ctx.db,
    sql`select r.id as run_id, r.verdict as run_verdict, r.verification as run_verification,
          exists (select 1 from feedback f where f.run_id = r.id) as run_feedback,
          r.answer_canonical as run_answer, s.shadow_kind, s.verdict as shadow_verdict,
          s.verification as shadow_verification, s.answer_canonical as shadow_answer,
          s.params->>'withheld' as withheld
        from runs s join runs r on r.id = s.shadow_of
        where s.bank_id = ${bankId} and s.status = 'completed' and r.status = 'completed'
          ${memoryId ? sql`and s.shadow_kind = 'ablation' and s.params->>'withheld' = ${memoryId}` : sql``}
        order by r.seq, s.seq`,
  );
}

/** Whether both answers of a pair were judged against ground truth: the pair then says what memory did. */
function judged(p: PairRow): boolean {
  return (
    p.run_verdict !== "unknown" &&
    p.shadow_verdict !== "unknown" &&
    knowsTheAnswer(p.run_verification, p.run_feedback) &&
    knowsTheAnswer(p.shadow_verification, false)
  );
}

function effectOf(pairs: PairRow[]): Effect & { memoryOnly: number; controlOnly: number } {
  let memoryOnly = 0;
  let controlOnly = 0;
  for (const p of pairs) {
    const withIt = p.run_verdict === "correct";
    const without = p.shadow_verdict === "correct";
    if (withIt && !without) memoryOnly++;
    if (without && !withIt) controlOnly++;
  }
  if (pairs.length === 0)
    return { judged: 0, difference: null, low: null, high: null, memoryOnly, controlOnly };
  const d = pairedDifference(memoryOnly, controlOnly, pairs.length);
  return {
    judged: pairs.length,
    difference: d.difference,
    low: d.low,
    high: d.high,
    memoryOnly,
    controlOnly,
  };
}

/**
 * The bank's lift from memory (control shadows) and each withheld memory's effect (ablation shadows);
 * needs read access to the bank.
 */
export async function bankImpact({
  ctx,
  input: { bankId },
}: {
  ctx: CallContext;
  input: { bankId: string };
}): Promise<BankImpact> {
  await accessibleBank(ctx, bankId, "read");
  const rows = await shadowPairs(ctx, bankId);
  const control = rows.filter((p) => p.shadow_kind === "control");
  const judgedControl = control.filter(judged);
  const lift = effectOf(judgedControl);
  const curve: { judged: number; lift: number }[] = [];
  let difference = 0;
  judgedControl.forEach((p, i) => {
    difference += (p.run_verdict === "correct" ? 1 : 0) - (p.shadow_verdict === "correct" ? 1 : 0);
    curve.push({ judged: i + 1, lift: difference / (i + 1) });
  });
  const answered = control.filter((p) => p.run_answer !== null && p.shadow_answer !== null);

  const byMemory = new Map<string, PairRow[]>();
  for (const p of rows) {
    if (p.shadow_kind !== "ablation" || !p.withheld) continue;
    byMemory.set(p.withheld, [...(byMemory.get(p.withheld) ?? []), p]);
  }
  const memories = [...byMemory].map(([memoryId, pairs]) => {
    const { memoryOnly: _m, controlOnly: _c, ...effect } = effectOf(pairs.filter(judged));
    return { memoryId, withheld: pairs.length, ...effect };
  });
  memories.sort((a, b) => (a.difference ?? 0) - (b.difference ?? 0) || b.judged - a.judged);

  return {
    control: {
      pairs: control.length,
      judged: judgedControl.length,
      withMemory: accuracyOf(
        judgedControl.filter((p) => p.run_verdict === "correct").length,
        judgedControl.length,
      ),
      withoutMemory: accuracyOf(
        judgedControl.filter((p) => p.shadow_verdict === "correct").length,
        judgedControl.length,
      ),
      lift: { judged: lift.judged, difference: lift.difference, low: lift.low, high: lift.high },
      pValue: judgedControl.length === 0 ? null : mcnemarExact(lift.memoryOnly, lift.controlOnly),
      memoryOnly: lift.memoryOnly,
      controlOnly: lift.controlOnly,
      agreement:
        answered.length === 0
          ? null
          : answered.filter((p) => p.run_answer === p.shadow_answer).length / answered.length,
      curve,
    },
    memories,
  };
}

/** One memory's causal estimate from the ablation shadows that withheld it; needs read access to the bank. */
export async function memoryEffect({
  ctx,
  input: { bankId, memoryId },
}: {
  ctx: CallContext;
  input: { bankId: string; memoryId: string };
}): Promise<MemoryEffect> {
  await accessibleBank(ctx, bankId, "read");
  return effectOfMemory(ctx, bankId, memoryId);
}

async function effectOfMemory(ctx: Services, bankId: string, memoryId: string): Promise<MemoryEffect> {
  const pairs = await shadowPairs(ctx, bankId, memoryId);
  const { memoryOnly: _m, controlOnly: _c, ...effect } = effectOf(pairs.filter(judged));
  return { memoryId, withheld: pairs.length, ...effect };
}

/** Retires the memory when its causal estimate shows it harms answers (the CAUSAL_MIN_PAIRS rule). */
export async function retireIfHarmful({
  ctx,
  bankId,
  memoryId,
}: {
  ctx: Services;
  bankId: string;
  memoryId: string;
}): Promise<boolean> {
  const effect = await effectOfMemory(ctx, bankId, memoryId);
  if (effect.judged < CAUSAL_MIN_PAIRS || effect.high === null || effect.high >= 0) return false;
  const retired = await queryRows<RawIndexableRow>(
    ctx.db,
    sql`update memories set status = 'retired', version = version + 1, updated_at = now(),
          verification_detail = verification_detail || ${JSON.stringify({ retiredForEffect: effect })}::jsonb
        where id = ${memoryId} and bank_id = ${bankId} and status = 'active' and verification <> 'gold'
        returning ${INDEXABLE_COLUMNS}`,
  );
  if (retired.length === 0) return false;
  await indexAfterWrite(ctx, retired.map(toIndexable));
  ctx.log.info({ memory: memoryId, effect }, "retired a memory that made answers worse when shown");
  return true;
}

/**
 * Carries a person's verdict on a run to its shadows: feedback names the right answer (given, or the
 * run's own when confirmed), and a shadow is right exactly when its answer is that one. A refuted run
 * without the right answer tells only that a shadow with the same answer is wrong too.
 */
export async function judgeShadows({
  ctx,
  run,
  correct,
  answer,
}: {
  ctx: Services;
  run: { id: string; bankId: string; answerCanonical: string | null };
  correct: boolean;
  answer?: string;
}): Promise<string[]> {
  const shadows = await queryRows<{ id: string; answer_canonical: string | null; withheld: string | null }>(
    ctx.db,
    // a shadow judged by gold or a checker knows its answer already
    sql`select id, answer_canonical, params->>'withheld' as withheld from runs
        where shadow_of = ${run.id} and verification not in ('gold', 'checker')`,
  );
  if (shadows.length === 0) return [];
  const domain = domainOf((await getBank(ctx.db, run.bankId)).domain);
  const right = correct
    ? run.answerCanonical
    : answer !== undefined
      ? domain.canonicalize(answer)
      : undefined;
  for (const s of shadows) {
    let verdict: "correct" | "incorrect" | undefined;
    if (right !== undefined && right !== null) {
      verdict =
        s.answer_canonical !== null && domain.equal(s.answer_canonical, right) ? "correct" : "incorrect";
    } else if (!correct && s.answer_canonical !== null && s.answer_canonical === run.answerCanonical) {
      verdict = "incorrect";
    }
    if (!verdict) continue;
    await ctx.db.execute(
      sql`update runs set verdict = ${verdict}, verification = 'feedback',
            verification_detail = verification_detail || ${JSON.stringify({ feedbackOn: run.id })}::jsonb
          where id = ${s.id}`,
    );
  }
  return shadows.flatMap((s) => (s.withheld ? [s.withheld] : []));
}
