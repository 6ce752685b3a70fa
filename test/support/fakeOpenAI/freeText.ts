import { FakeRequestError } from "./errors.js";
import type { ChatRequest, Sample, Sampler } from "./sampler.js";

/** The marker of a universal self-consistency request (src/reasoning/universalSelection.ts). */
export const SELECTION_MARKER = "most consistent with the others";

/**
 * A model whose chains end in free-text answers: sample after sample (across requests) it answers the
 * next of `answers(question)`, cycling, so paraphrases of one meaning split an exact-string vote. Asked to
 * select the most consistent response, it reads the numbered responses, groups their answers by
 * `meaningOf`, and names one of the largest group, unless `selection` scripts a botched reply.
 */
export interface FreeTextBehavior {
  kind: "freeText";
  answers(question: string): string[];
  meaningOf(answer: string): string;
  /**
   * what the selection reply does: answer well (default), name a response that is not there, not be JSON,
   * or fail with a 500
   */
  selection?: "consistent" | "out-of-range" | "unparsable" | "error";
}

const RESPONSE = /Response (\d+):\n([\s\S]*?)(?=\n\nResponse \d+:\n|$)/g;

function finalAnswer(text: string): string {
  const marked = [...text.matchAll(/Answer:\s*(.+)/g)].at(-1)?.[1];
  return (marked ?? text.trim().split("\n").at(-1) ?? "").trim();
}

function select(behavior: FreeTextBehavior, prompt: string): string {
  if (behavior.selection === "error") throw new FakeRequestError(500, "scripted selection failure");
  if (behavior.selection === "unparsable") return "They all look about the same to me.";
  const responses = [...prompt.matchAll(RESPONSE)].map((m) => ({
    number: Number(m[1]),
    meaning: behavior.meaningOf(finalAnswer(m[2] ?? "")),
  }));
  const groups = new Map<string, number[]>();
  for (const r of responses) groups.set(r.meaning, [...(groups.get(r.meaning) ?? []), r.number]);
  const largest = [...groups.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  const [meaning, agreeing] = largest ?? ["", []];
  const pick = behavior.selection === "out-of-range" ? 99 : (agreeing[0] ?? 0);
  const reason = `Responses ${agreeing.join(", ")} all say ${meaning}.`;
  return `\`\`\`json\n${JSON.stringify({ response: pick, agreeing, reason })}\n\`\`\``;
}

/** The sampler of a freeText behaviour; `userText` reads the question, `systemText` the instructions. */
export function freeText(
  behavior: FreeTextBehavior,
  text: { user(request: ChatRequest): string; system(request: ChatRequest): string },
): Sampler {
  const served = new Map<string, number>();
  return (request): Sample => {
    if (text.system(request).includes(SELECTION_MARKER)) {
      return { content: select(behavior, text.user(request)), confidence: 0.9 };
    }
    const question = text.user(request);
    const answers = behavior.answers(question);
    const turn = served.get(question) ?? 0;
    served.set(question, turn + 1);
    const answer = answers[turn % Math.max(answers.length, 1)] ?? "no answer";
    return { content: `Thinking it over, step by step.\nAnswer: ${answer}`, confidence: 0.8 };
  };
}
