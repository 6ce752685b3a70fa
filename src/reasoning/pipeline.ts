import { assertBankAccess } from "../auth/scopes.js";
import type { RecalledMemory } from "../memory/recallResult.js";
import { trustOf } from "../memory/trust.js";
import { drawChains } from "./drawChains.js";
import { type RunEnding, recordRun } from "./recordRun.js";
import type { StrategyRecord } from "./runs.js";
import type { SamplingResult } from "./sample.js";
import { type ShadowableRun, type ShadowPlan, scheduleShadows } from "./shadow.js";
import { planSolve, type SolvePlan } from "./solvePlan.js";
import type { SolveInput, SolveResult } from "./solveResult.js";
import { splitAnalogies, stepBack, strategyPrompt } from "./strategy.js";
import { type Pick, selectUniversally } from "./universalSelection.js";
import { verifyAnswer } from "./verifyAnswer.js";
import { vote } from "./vote.js";

// Adaptive sampling stops a unanimous vote after its first batch of 4, so consensus must be able to speak
// on 4 samples; 70% agreement over at least 4 (i.e. 3 of 4) measured 0.885 precision on real GSM8K samples.
const CONSENSUS = { threshold: 0.7, minSamples: 4 };

/**
 * Solves a query with the bank's memory: recall analogues → worked-example prompt → sampled chains of
 * thought (adaptive) → vote → verify → write back → credit the recalled memories → persist the run.
 * Returns the answer with its verification, or an honest `unknown` verdict when nothing could verify it.
 * Needs write access to the bank.
 */
export async function solve(input: SolveInput): Promise<SolveResult> {
  assertBankAccess(input.ctx.principal, input.bank.id, "write");
  const { result, shadowable } = await solveOnce(input);
  input.ctx.metrics?.solved(result.status, result.timings);
  if (shadowable) scheduleShadows({ ...input, run: shadowable, solveShadow: solveOnce });
  return result;
}

/** Solves once; a shadow solve (`shadow`) shows the plan's examples, and writes back and credits nothing. */
export async function solveOnce(
  input: SolveInput,
  shadow?: ShadowPlan,
): Promise<{ result: SolveResult; shadowable?: ShadowableRun }> {
  const plan = await planSolve(input, shadow);
  const hit = memoryHitOf(plan);
  if (hit) return { result: await recordRun(plan, answeredFromMemory(hit)) };
  const strategyRecord: StrategyRecord = {
    name: plan.strategy,
    asked: plan.asked,
    fallback: plan.strategy !== plan.asked,
  };
  const drawn = await drawSamples(plan, strategyRecord);
  if ("error" in drawn) return { result: await recordRun(plan, modelFailed(plan, drawn, strategyRecord)) };
  const { ending, gold } = await decide(plan, drawn, strategyRecord);
  return {
    result: await recordRun(plan, ending),
    shadowable: shadow
      ? undefined
      : { runId: plan.base.id, params: plan.params, gold, memories: plan.recall.memories },
  };
}

/** The recalled memory that already answers this very problem with a trusted answer, when reuse is asked. */
function memoryHitOf({ recall, bank, opts, shadow }: SolvePlan): RecalledMemory | undefined {
  if (shadow || !opts.reuseMemory || opts.gold !== undefined) return undefined;
  return recall.memories.find((m) => m.exact && m.trust >= trustOf(bank.settings.writeBackTier));
}

function answeredFromMemory(hit: RecalledMemory): RunEnding {
  return {
    run: {
      prompt: [],
      answer: hit.answer,
      answerCanonical: hit.answerCanonical,
      confidence: 1,
      votes: { memoryHit: hit.id },
      verification: hit.verification,
      verificationDetail: { memoryHit: hit.id, reason: "this problem is in memory with a trusted answer" },
      verdict: "correct",
      status: "memory_hit",
      usage: {},
      samples: [],
    },
    reason: "answered from memory: the same problem with a trusted answer",
    credit: { memoryIds: [hit.id], outcome: "unknown" },
  };
}

type Drawn = Awaited<ReturnType<typeof drawChains>> & { prompt: ReturnType<typeof strategyPrompt> };
type DrawFailure = { error: Error; prompt: ReturnType<typeof strategyPrompt> };

/** Builds the prompt (stepping back first when the strategy says so) and samples the chains of thought. */
async function drawSamples(plan: SolvePlan, strategyRecord: StrategyRecord): Promise<Drawn | DrawFailure> {
  const { model, domain, strategy, query, recall, params, opts, onEvent } = plan;
  let prompt = strategyPrompt({ domain, strategy, examples: recall.memories, query });
  plan.lap("promptMs");
  try {
    if (strategy === "step-back") {
      const abstraction = await stepBack({
        client: await model.client(),
        model: model.name,
        gate: model.gate,
        query,
      });
      strategyRecord.abstraction = abstraction;
      prompt = strategyPrompt({ domain, strategy, examples: recall.memories, query, abstraction });
      plan.lap("stepBackMs");
    }
    const drawn = await drawChains({
      model,
      messages: prompt,
      domain,
      samples: params.samples,
      cotDecoding: plan.cot,
      batchSize: opts.batchSize,
      temperature: opts.temperature,
      adaptive: params.adaptive !== false,
      onSample: (sample) => onEvent?.({ type: "sample", sample }),
    });
    plan.lap("sampleMs");
    return { ...drawn, prompt };
  } catch (e) {
    return { error: e as Error, prompt };
  }
}

function modelFailed(plan: SolvePlan, failure: DrawFailure, strategyRecord: StrategyRecord): RunEnding {
  const error = `the model endpoint failed: ${failure.error.message}`;
  return {
    run: {
      prompt: failure.prompt,
      votes: {},
      verification: "none",
      verificationDetail: {},
      verdict: "unknown",
      status: "failed",
      error,
      usage: {},
      samples: [],
      strategy: strategyRecord,
    },
    reason: error,
    credit: { memoryIds: plan.credited, outcome: "unknown" },
  };
}

/** Votes (or lets the model select), verifies the winner, and says what the run stores and remembers. */
async function decide(
  plan: SolvePlan,
  drawn: Drawn,
  strategyRecord: StrategyRecord,
): Promise<{ ending: RunEnding; gold?: string }> {
  const { ctx, model, domain, query, recall, opts, shadow, onEvent } = plan;
  const { sampling } = drawn;
  strategyRecord.decoding = drawn.decoding;
  if (shadow) ctx.fault?.("during-shadow");
  if (plan.strategy === "analogical") {
    strategyRecord.analogies = sampling.samples.flatMap((sample) => {
      const { analogies } = splitAnalogies(sample.text);
      return analogies ? [{ sample: sample.index, text: analogies }] : [];
    });
  }
  ctx.metrics?.sampled({
    requests: sampling.requests,
    samples: sampling.samples.length,
    usage: sampling.usage,
  });

  const tally = vote(sampling.samples, domain);
  onEvent?.({ type: "vote", vote: tally });
  const selected =
    plan.selecting === "universal"
      ? await selectUniversally({ model, query, samples: sampling.samples, domain, tally })
      : undefined;
  strategyRecord.selection = selected?.record;
  if (selected) onEvent?.({ type: "selected", selection: selected.record });
  const pick: Pick | undefined = drawn.pick ?? selected?.pick;
  const gold = shadow
    ? shadow.gold
    : (opts.gold ?? recall.memories.find((m) => m.exact && m.verification === "gold")?.answer);
  const verified = verifyAnswer({
    domain,
    query,
    samples: sampling.samples,
    winner:
      pick ??
      (tally.winner
        ? { answerCanonical: tally.winner.answer, share: tally.confidence, voters: tally.voters }
        : undefined),
    gold,
    consensus: CONSENSUS,
  });
  onEvent?.({ type: "verified", verification: verified });
  plan.lap("verifyMs");

  const chosen = verified.chosen;
  const ending: RunEnding = {
    run: {
      prompt: drawn.prompt,
      answer: chosen?.answer ?? tally.winner?.display,
      answerCanonical: chosen?.answerCanonical ?? tally.winner?.answer,
      confidence: pick?.share ?? tally.confidence,
      votes: { ...tally, sampling: samplingFacts(sampling) },
      verification: verified.verification,
      verificationDetail: {
        reason: verified.reason,
        verdicts: verified.verdicts,
        chosenSample: chosen?.index,
      },
      verdict: verified.verdict,
      status: "completed",
      usage: usageWith(sampling.usage, [strategyRecord.abstraction, strategyRecord.selection]),
      samples: sampling.samples,
      strategy: strategyRecord,
    },
    reason: verified.reason,
    credit: {
      memoryIds: plan.credited,
      outcome:
        verified.verdict === "correct" ? "helped" : verified.verdict === "incorrect" ? "hurt" : "unknown",
    },
    remember:
      !shadow &&
      opts.writeBack &&
      chosen?.answer !== undefined &&
      chosen.answerCanonical !== undefined &&
      verified.verdict !== "incorrect"
        ? {
            problem: query,
            // the problems an analogical chain made up for itself are its scaffolding, not the solution
            reasoning: reasoningOf(splitAnalogies(chosen.text).solution),
            answer: chosen.answer,
            answerCanonical: chosen.answerCanonical,
            verification: verified.verification,
            verificationDetail: {
              verdict: verified.verdict,
              reason: verified.reason,
              verdicts: verified.verdicts,
            },
            // the recalled memories' cosines, when recall searched vectors; else write-back searches them itself
            neighbours: recall.memories.every((m) => m.scores.vector !== null)
              ? recall.memories.map((m) => ({ id: m.id, similarity: m.scores.vector as number }))
              : undefined,
          }
        : undefined,
  };
  return { ending, gold };
}

type Tokens = { promptTokens: number; completionTokens: number };

/** The run's token usage: the chains', with the step-back and selection calls' when there were any. */
function usageWith(usage: Tokens, calls: (Tokens | undefined)[]) {
  return calls.reduce<Tokens>(
    (sum, call) => ({
      promptTokens: sum.promptTokens + (call?.promptTokens ?? 0),
      completionTokens: sum.completionTokens + (call?.completionTokens ?? 0),
    }),
    usage,
  );
}

function samplingFacts(sampling: SamplingResult) {
  return {
    requests: sampling.requests,
    nSupported: sampling.nSupported,
    logprobsSupported: sampling.logprobsSupported,
    stoppedEarly: sampling.stoppedEarly,
    stopProbability: sampling.stopProbability,
  };
}

/** The chain of thought without its final answer line: the answer is stored apart. */
function reasoningOf(text: string): string {
  const lines = text.trimEnd().split("\n");
  const last = lines.at(-1) ?? "";
  if (/^\s*(####|A:|Answer:|The answer is)/i.test(last)) lines.pop();
  return lines.join("\n").trim();
}
