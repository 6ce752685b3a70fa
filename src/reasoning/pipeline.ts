import { domainOf } from "../domains/domain.js";
import { PrecedentError } from "../errors.js";
import { newId } from "../ids.js";
import { atomically } from "../memory/atomically.js";
import type { Bank } from "../memory/banks.js";
import { creditRecalls, type RunOutcome } from "../memory/credit.js";
import { problemHash } from "../memory/problemHash.js";
import { type RecallResult, recallAnalogues } from "../memory/recall.js";
import { trustOf } from "../memory/trust.js";
import { type WriteBackResult, writeBack } from "../memory/writeBack.js";
import type { Services } from "../services.js";
import { checkDecodingOptions, DEFAULT_BRANCHES } from "./cotDecoding.js";
import { drawChains } from "./drawChains.js";
import { readyForCotDecoding } from "./endpointCapabilities.js";
import { type RunRecord, type StrategyRecord, saveRun } from "./runs.js";
import type { SolveStatus } from "./runVocabulary.js";
import type { ChainSample, SamplingResult } from "./sample.js";
import { type ShadowableRun, type ShadowPlan, scheduleShadows } from "./shadow.js";
import { type SolveOptions, solveOptionsSchema } from "./solveOptions.js";
import {
  type Strategy,
  showsExamples,
  splitAnalogies,
  stepBack,
  strategyFor,
  strategyPrompt,
} from "./strategy.js";
import { type Pick, type SelectionRecord, selectionFor, selectUniversally } from "./universalSelection.js";
import { type VerificationOutcome, verifyAnswer } from "./verifyAnswer.js";
import { vote } from "./vote.js";

/** Progress of a solve, for streaming. */
export type SolveEvent =
  | { type: "recalled"; recall: RecallResult }
  | { type: "sample"; sample: ChainSample }
  | { type: "vote"; vote: ReturnType<typeof vote> }
  | { type: "selected"; selection: SelectionRecord }
  | { type: "verified"; verification: VerificationOutcome };

/** A run a solve stores. */
type SolveRun = RunRecord & { status: SolveStatus };

export interface SolveResult {
  runId: string;
  status: SolveRun["status"];
  answer?: string;
  answerCanonical?: string;
  confidence?: number;
  verification: RunRecord["verification"];
  verdict: RunRecord["verdict"];
  reason: string;
  recalled: RunRecord["recalls"];
  writtenMemory?: WriteBackResult;
  samples: number;
  usage: Record<string, number>;
  timings: Record<string, number>;
}

const round = (x: number) => Math.round(x * 100) / 100;
const NO_TIMINGS = { embedMs: 0, searchMs: 0, rerankMs: 0 };
// what a strategy without worked examples recalls: nothing, and nothing is credited
const NOTHING_RECALLED: RecallResult = {
  memories: [],
  abstained: false,
  considered: 0,
  matchFloor: 0,
  timings: NO_TIMINGS,
};

// Adaptive sampling stops a unanimous vote after its first batch of 4, so consensus must be able to speak
// on 4 samples; 70% agreement over at least 4 (i.e. 3 of 4) measured 0.885 precision on real GSM8K samples.
const CONSENSUS = { threshold: 0.7, minSamples: 4 };

/** What a solve is asked: the query, the bank, options, and who wants its progress events. */
export interface SolveInput {
  ctx: Services;
  bank: Bank;
  query: string;
  options?: SolveOptions;
  onEvent?: (event: SolveEvent) => void;
}

/**
 * Solves a query with the bank's memory: recall analogues → worked-example prompt → sampled chains of
 * thought (adaptive) → vote → verify → write back → credit the recalled memories → persist the run.
 * Returns the answer with its verification, or an honest `unknown` verdict when nothing could verify it.
 */
export async function solve(input: SolveInput): Promise<SolveResult> {
  const { result, shadowable } = await solveOnce(input);
  input.ctx.metrics?.solved(result.status, result.timings);
  if (shadowable) scheduleShadows({ ...input, run: shadowable, solveShadow: solveOnce });
  return result;
}

/** Solves once; a shadow solve (`shadow`) shows the plan's examples, and writes back and credits nothing. */
export async function solveOnce(
  { ctx, bank, query, options = {}, onEvent }: SolveInput,
  shadow?: ShadowPlan,
): Promise<{ result: SolveResult; shadowable?: ShadowableRun }> {
  const opts = solveOptionsSchema.parse(options);
  if (!shadow) checkDecodingOptions(opts);
  const model = ctx.model;
  if (!model) {
    throw new PrecedentError(
      "unavailable",
      "no model is configured: set PRECEDENT_MODEL (and OPENAI_BASE_URL, OPENAI_API_KEY for your endpoint) to solve",
    );
  }
  // an endpoint that cannot CoT-decode is refused before anything is recalled or stored
  const cot = opts.decoding === "cot-decoding" && {
    probed: await readyForCotDecoding(model, opts.branches ?? DEFAULT_BRANCHES),
  };
  const domain = domainOf(bank.domain);
  const runId = newId("run");
  const started = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => {
    timings[name] = round(performance.now() - since);
    return performance.now();
  };

  let t = performance.now();
  // a control shadow is the query alone; an ablation shows what is left of the run's examples
  const asked: Strategy = shadow
    ? shadow.memories.length > 0
      ? "exemplars"
      : "plain"
    : (opts.strategy ?? bank.settings.strategy);
  const recall: RecallResult = shadow
    ? { memories: shadow.memories, abstained: false, considered: 0, matchFloor: 0, timings: NO_TIMINGS }
    : showsExamples(asked)
      ? await recallAnalogues({ ctx, bank, query, options: { k: opts.k } })
      : NOTHING_RECALLED;
  t = lap("recallMs", t);
  onEvent?.({ type: "recalled", recall });
  // a shadow's examples are in its prompt; only a run's own recall is recorded (and credited)
  const recalls = shadow
    ? []
    : recall.memories.map((m) => ({ memoryId: m.id, rank: m.rank, scores: m.scores }));
  const strategy = shadow
    ? asked
    : strategyFor(asked, bank.settings.fallbackStrategy, recall.memories.length, opts.k ?? bank.settings.k);
  const selecting = cot ? "vote" : selectionFor(domain.name, opts.selection, bank.settings.selection);
  const params = {
    ...opts,
    strategy,
    k: opts.k ?? bank.settings.k,
    samples: cot ? (opts.branches ?? DEFAULT_BRANCHES) : (opts.samples ?? bank.settings.samples),
    ...(cot ? {} : { adaptive: opts.adaptive ?? true, selection: selecting }),
    ...(shadow?.withheld ? { withheld: shadow.withheld } : {}),
  };
  const base = {
    id: runId,
    bankId: bank.id,
    query,
    queryHash: problemHash(query),
    params,
    model: model.name,
    recalls,
    ...(shadow ? { shadow: { of: shadow.of, kind: shadow.kind } } : {}),
  };
  const credited = shadow ? [] : recall.memories.map((m) => m.id);

  const hit = recall.memories.find((m) => m.exact && m.trust >= trustOf(bank.settings.writeBackTier));
  if (hit && !shadow && opts.reuseMemory && opts.gold === undefined) {
    const run: SolveRun = {
      ...base,
      prompt: [],
      answer: hit.answer,
      answerCanonical: hit.answerCanonical,
      confidence: 1,
      votes: { memoryHit: hit.id },
      verification: hit.verification,
      verificationDetail: { memoryHit: hit.id, reason: "this problem is in memory with a trusted answer" },
      verdict: "correct",
      status: "memory_hit",
      writtenMemoryId: undefined,
      timings: { ...timings, totalMs: round(performance.now() - started) },
      usage: {},
      samples: [],
    };
    await atomically(ctx, async (tx) => {
      await creditRecalls({ ctx: tx, memoryIds: [hit.id], outcome: "unknown", recalled: true });
      await saveRun(tx.db, run);
    });
    return {
      result: resultOf(run, "answered from memory: the same problem with a trusted answer", undefined),
    };
  }

  const strategyRecord: StrategyRecord = { name: strategy, asked, fallback: strategy !== asked };
  let prompt = strategyPrompt({ domain, strategy, examples: recall.memories, query });
  t = lap("promptMs", t);

  let drawn: Awaited<ReturnType<typeof drawChains>>;
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
      t = lap("stepBackMs", t);
    }
    drawn = await drawChains({
      model,
      messages: prompt,
      domain,
      samples: params.samples,
      cotDecoding: cot,
      batchSize: opts.batchSize,
      temperature: opts.temperature,
      adaptive: params.adaptive !== false,
      onSample: (sample) => onEvent?.({ type: "sample", sample }),
    });
  } catch (e) {
    const run: SolveRun = {
      ...base,
      prompt,
      votes: {},
      verification: "none",
      verificationDetail: {},
      verdict: "unknown",
      status: "failed",
      error: `the model endpoint failed: ${(e as Error).message}`,
      timings: { ...timings, totalMs: round(performance.now() - started) },
      usage: {},
      samples: [],
      strategy: strategyRecord,
    };
    await atomically(ctx, async (tx) => {
      await creditRecalls({ ctx: tx, memoryIds: credited, outcome: "unknown", recalled: true });
      await saveRun(tx.db, run);
    });
    return { result: resultOf(run, run.error as string, undefined) };
  }
  t = lap("sampleMs", t);
  const { sampling } = drawn;
  strategyRecord.decoding = drawn.decoding;
  if (shadow) ctx.fault?.("during-shadow");
  if (strategy === "analogical") {
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
    selecting === "universal"
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
  t = lap("verifyMs", t);

  const chosen = verified.chosen;
  const outcome: RunOutcome =
    verified.verdict === "correct" ? "helped" : verified.verdict === "incorrect" ? "hurt" : "unknown";
  // the memory, the credit and the run are committed together, or (a crash, an error) none of them
  const { written, run } = await atomically(ctx, async (tx) => {
    let written: WriteBackResult | undefined;
    if (
      !shadow &&
      opts.writeBack &&
      chosen?.answer !== undefined &&
      chosen.answerCanonical !== undefined &&
      verified.verdict !== "incorrect"
    ) {
      written = await writeBack({
        ctx: tx,
        bank,
        input: {
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
          runId,
          model: model.name,
          // the recalled memories' cosines, when recall searched vectors; else write-back searches them itself
          neighbours: recall.memories.every((m) => m.scores.vector !== null)
            ? recall.memories.map((m) => ({ id: m.id, similarity: m.scores.vector as number }))
            : undefined,
        },
      });
      ctx.fault?.("after-memory-row");
    }
    await creditRecalls({ ctx: tx, memoryIds: credited, outcome, recalled: true });
    t = lap("writeBackMs", t);
    const run: SolveRun = {
      ...base,
      prompt,
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
      writtenMemoryId: written?.memoryId,
      timings: { ...timings, totalMs: round(performance.now() - started) },
      usage: usageWith(sampling.usage, [strategyRecord.abstraction, strategyRecord.selection]),
      samples: sampling.samples.map((s) => ({ ...s, tokens: s.tokens })),
      strategy: strategyRecord,
    };
    await saveRun(tx.db, run);
    ctx.fault?.("after-run-row");
    return { written, run };
  });
  return {
    result: resultOf(run, verified.reason, written),
    shadowable: shadow ? undefined : { runId, params, gold, memories: recall.memories },
  };
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

function resultOf(run: SolveRun, reason: string, written: WriteBackResult | undefined): SolveResult {
  return {
    runId: run.id,
    status: run.status,
    answer: run.answer,
    answerCanonical: run.answerCanonical,
    confidence: run.confidence,
    verification: run.verification,
    verdict: run.verdict,
    reason,
    recalled: run.recalls,
    writtenMemory: written,
    samples: run.samples.length,
    usage: run.usage,
    timings: run.timings,
  };
}
