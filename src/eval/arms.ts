import { domainOf } from "../domains/domain.js";
import { parsePuzzle } from "../domains/game24.js";
import type { Bank } from "../memory/banks.js";
import { solve } from "../reasoning/pipeline.js";
import type { SolveOptions } from "../reasoning/solveOptions.js";
import type { SolveResult } from "../reasoning/solveResult.js";
import type { CallContext } from "../services.js";
import { verifyGame24 } from "../verify/game24.js";
import type { EvalProblem } from "./sources.js";

/**
 * The arms an evaluation can run, on the same problems in the same order:
 * - memory: the full system, recall + write-back, in its own copy of the bank that grows over the stream;
 * - static: recall from the seeded memories only, no write-back, in a second copy that gains no memories;
 * - control: the same scaffold (system prompt, sampling, vote) with zero examples and no write-back;
 * - step-back: static's recall with the step-back strategy (the principle first, then the chains);
 * - analogical: no recall; each chain writes and solves its own relevant problems first.
 * The static arm still credits what it recalls (usage counters, retirement), as a deployed bank without
 * write-back would: it adapts which seeded memories it prefers, never what memories exist.
 */
export const ARMS = ["memory", "static", "control", "step-back", "analogical"] as const;
export type ArmName = (typeof ARMS)[number];
/** Something for each arm an evaluation ran (and for no other). */
export type PerArm<T> = Partial<Record<ArmName, T>>;

/** The arms a per-arm record holds, in ARMS order. */
export function armsIn(record: PerArm<unknown>): ArmName[] {
  return ARMS.filter((arm) => record[arm] !== undefined);
}

/** The arms an evaluation runs unless told otherwise. */
export const DEFAULT_ARMS: ArmName[] = ["memory", "static", "control"];

/** Which copy of the bank an arm runs in: only the memory arm writes back, into a copy of its own. */
export function armCopy(arm: ArmName): "memory" | "static" {
  return arm === "memory" ? "memory" : "static";
}

/** The settings every arm shares. */
export interface ArmSettings {
  k?: number;
  samples?: number;
  adaptive: boolean;
  temperature: number;
}

/** What one arm did on one problem. */
export interface ArmOutcome {
  correct: boolean;
  status: SolveResult["status"];
  answer?: string;
  runId: string;
  samples: number;
  promptTokens: number;
  completionTokens: number;
  /** wall time of the solve */
  ms: number;
  /** ids of the memories shown as worked examples */
  recalled: string[];
  /** the memory the solve wrote or supported (memory arm only) */
  wrote?: string;
}

/**
 * The solve options of an arm. Every arm gets the gold answer: it only feeds verification (so the memory
 * arm writes back gold-verified solutions: it learns from feedback, as a deployed system with graders
 * would) and the credit of recalled memories; it never reaches the prompt. `reuseMemory` is off so no arm
 * can answer from a stored copy of the problem; the harness scores the voted answer itself.
 */
export function armSolveOptions(arm: ArmName, settings: ArmSettings, gold: string | undefined): SolveOptions {
  const shared = {
    samples: settings.samples,
    adaptive: settings.adaptive,
    temperature: settings.temperature,
    gold,
    reuseMemory: false,
  };
  if (arm === "memory") return { ...shared, k: settings.k, writeBack: true, strategy: "exemplars" };
  if (arm === "static") return { ...shared, k: settings.k, writeBack: false, strategy: "exemplars" };
  if (arm === "step-back") return { ...shared, k: settings.k, writeBack: false, strategy: "step-back" };
  if (arm === "analogical") return { ...shared, k: 0, writeBack: false, strategy: "analogical" };
  return { ...shared, k: 0, writeBack: false, strategy: "plain" };
}

/**
 * Whether a solve's answer is right: the voted answer equals the gold answer under the domain's equality
 * (numbers compare numerically), or, for Game of 24, the expression passes the checker. A failed solve is
 * wrong. This is the harness's own scoring, independent of the run's verdict.
 */
export function scoreAnswer(domainName: Bank["domain"], problem: EvalProblem, result: SolveResult): boolean {
  if (result.status === "failed" || result.answer === undefined) return false;
  if (domainName === "game24") {
    const numbers = parsePuzzle(problem.problem);
    return verifyGame24({ numbers, expression: result.answer }).verdict === "correct";
  }
  if (problem.gold === undefined) return false;
  const domain = domainOf(domainName);
  const gold = domain.canonicalize(problem.gold);
  const answer = result.answerCanonical ?? domain.canonicalize(result.answer);
  return gold !== undefined && answer !== undefined && domain.equal(answer, gold);
}

/** Solves one problem as one arm, in that arm's bank, and scores the answer. */
export async function runArm({
  ctx,
  arm,
  bank,
  problem,
  settings,
}: {
  ctx: CallContext;
  arm: ArmName;
  bank: Bank;
  problem: EvalProblem;
  settings: ArmSettings;
}): Promise<ArmOutcome> {
  const started = performance.now();
  const result = await solve({
    ctx,
    bank,
    query: problem.problem,
    options: armSolveOptions(arm, settings, problem.gold),
  });
  const ms = performance.now() - started;
  // a write-back must be an analogue for the very next problem, not half a second later: the learning
  // curve then depends on the stream, not on how fast the model answered
  if (result.writtenMemory) await ctx.indexer?.flush();
  return {
    correct: scoreAnswer(bank.domain, problem, result),
    status: result.status,
    answer: result.answer,
    runId: result.runId,
    samples: result.samples,
    promptTokens: result.usage.promptTokens ?? 0,
    completionTokens: result.usage.completionTokens ?? 0,
    ms: Math.round(ms * 10) / 10,
    recalled: result.recalled.map((r) => r.memoryId),
    wrote: result.writtenMemory?.memoryId,
  };
}
