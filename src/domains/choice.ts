import { findMarkedAnswer, lastNonEmptyLine, stripDecoration } from "./extract.js";

/** Canonical form of a multiple-choice answer: the option letter A–E, from `C`, `(c)`, `C) 42`, `C. 42`. */
export function canonicalChoice(answer: string): string | undefined {
  return stripDecoration(answer)
    .match(/^(?:option|choice)?\s*[([]?([A-Ea-e])[)\]]?(?:[.):\s]|$)/i)?.[1]
    ?.toUpperCase();
}

/**
 * The option letter a chain of thought ends on: the marked answer (`The answer is (C)`, `Answer: C`, `#### C`),
 * else a last line that is just a letter such as `(C)`.
 */
export function extractChoice(chainOfThought: string): string | undefined {
  const marked = findMarkedAnswer(chainOfThought);
  const fromMarker = marked === undefined ? undefined : canonicalChoice(marked);
  if (fromMarker) return fromMarker;
  // a bare letter line only: a sentence starting with "A" or "I" is not an answer
  const last = lastNonEmptyLine(chainOfThought);
  const bare = last && stripDecoration(last).match(/^[([]?([A-E])[)\].]?$/)?.[1];
  return bare || undefined;
}
