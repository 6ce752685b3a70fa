import { findMarkedAnswer, lastNonEmptyLine, stripDecoration } from "./extract.js";

/** Canonical form of a free-text answer: NFKC, lower case, single spaces, no quotes or closing period. */
export function canonicalText(answer: string): string | undefined {
  const canonical = stripDecoration(answer.normalize("NFKC")).toLowerCase().replace(/\s+/g, " ").trim();
  return canonical === "" ? undefined : canonical;
}

/** The final answer of a free-text chain of thought: the marked answer, else its last non-empty line. */
export function extractText(chainOfThought: string): string | undefined {
  const answer = findMarkedAnswer(chainOfThought) ?? lastNonEmptyLine(chainOfThought);
  return answer === undefined ? undefined : stripDecoration(answer) || undefined;
}
