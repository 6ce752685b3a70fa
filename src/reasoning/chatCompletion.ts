import { domainOf } from "../domains/domain.js";
import type { Bank } from "../memory/banks.js";
import type { RecalledMemory } from "../memory/recallResult.js";
import { solve } from "./pipeline.js";
import { workedAnswer } from "./prompt.js";
import type { ChainSample } from "./sample.js";
import type { SolveInput, SolveResult } from "./solveResult.js";
import type { VerifiableSample } from "./verifyAnswer.js";

/** A solve as a chat answer: the run's result and the text an assistant message says. */
export interface ChatSolve {
  result: SolveResult;
  /**
   * The chain of thought that stands for the answer, ending in its final answer line: the chosen sample
   * as the model wrote it; for an answer from memory, the memory's reasoning and answer line; for a run
   * where no chain gave an answer, the first chain; empty when the run failed.
   */
  content: string;
}

/**
 * Solves a query and keeps the text of the chain the verifiers chose, which the run stores (as
 * `verificationDetail.chosenSample` and its samples) but the solve result does not carry: it is read off
 * the solve's own progress events, so no second database read is needed.
 */
export async function solveChat({ ctx, bank, query, options, onEvent }: SolveInput): Promise<ChatSolve> {
  let recalled: RecalledMemory[] = [];
  const samples: ChainSample[] = [];
  let chosen: VerifiableSample | undefined;
  const result = await solve({
    ctx,
    bank,
    query,
    options,
    onEvent: (event) => {
      if (event.type === "recalled") recalled = event.recall.memories;
      else if (event.type === "sample") samples.push(event.sample);
      else if (event.type === "verified") chosen = event.verification.chosen;
      onEvent?.(event);
    },
  });
  return { result, content: chatContent(bank, result, { recalled, samples, chosen }) };
}

function chatContent(
  bank: Bank,
  result: SolveResult,
  seen: { recalled: RecalledMemory[]; samples: ChainSample[]; chosen?: VerifiableSample },
): string {
  if (result.status === "failed") return "";
  if (result.status === "memory_hit") {
    // the memory hit is an exact recalled memory with a trusted answer; any exact one with that answer says it
    const memory = seen.recalled.find((m) => m.exact && m.answerCanonical === result.answerCanonical);
    return workedAnswer(domainOf(bank.domain), {
      reasoning: memory?.reasoning ?? "",
      answer: memory?.answer ?? result.answer ?? "",
    });
  }
  const first = [...seen.samples].sort((a, b) => a.index - b.index)[0];
  return (seen.chosen ?? first)?.text.trim() ?? "";
}
