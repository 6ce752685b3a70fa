import type { Bank } from "../memory/banks.js";
import type { RecallResult } from "../memory/recallResult.js";
import type { WriteBackResult } from "../memory/writeBack.js";
import type { CallContext } from "../services.js";
import type { RunRecord } from "./runs.js";
import type { SolveStatus } from "./runVocabulary.js";
import type { ChainSample } from "./sample.js";
import type { SolveOptions } from "./solveOptions.js";
import type { SelectionRecord } from "./universalSelection.js";
import type { VerificationOutcome } from "./verifyAnswer.js";
import type { vote } from "./vote.js";

/** Progress of a solve, for streaming. */
export type SolveEvent =
  | { type: "recalled"; recall: RecallResult }
  | { type: "sample"; sample: ChainSample }
  | { type: "vote"; vote: ReturnType<typeof vote> }
  | { type: "selected"; selection: SelectionRecord }
  | { type: "verified"; verification: VerificationOutcome };

/** What a solve is asked: the query, the bank, options, and who wants its progress events. */
export interface SolveInput {
  ctx: CallContext;
  bank: Bank;
  query: string;
  options?: SolveOptions;
  onEvent?: (event: SolveEvent) => void;
}

/** A run a solve stores. */
export type SolveRun = RunRecord & { status: SolveStatus };

/** What a solve answers: the run's answer and verdict, what was recalled and written, and its costs. */
export interface SolveResult {
  runId: string;
  status: SolveStatus;
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

/** A stored run as its solve answers it. */
export function resultOf(run: SolveRun, reason: string, written: WriteBackResult | undefined): SolveResult {
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
