import { z } from "zod";
import { canonicalChoice, extractChoice } from "./choice.js";
import { canonicalGame24, extractGame24Expression } from "./game24.js";
import { canonicalNumber, extractNumber, numbersEqual } from "./number.js";
import { canonicalText, extractText } from "./text.js";

export const DOMAINS = ["number", "game24", "choice", "text"] as const;
export const domainSchema = z.enum(DOMAINS);
export type DomainName = z.infer<typeof domainSchema>;

/** What a domain knows about its answers. */
export interface Domain {
  name: DomainName;
  /** The system-prompt sentence telling the model how to end its answer so that extractAnswer finds it. */
  formatInstruction: string;
  /** The comparable form of an answer, or undefined when the text is not an answer of this domain. */
  canonicalize(answer: string): string | undefined;
  /** The raw final answer text found in a chain of thought, or undefined when it gives none. */
  extractAnswer(chainOfThought: string): string | undefined;
  /** Whether two canonical answers are the same answer. */
  equal(a: string, b: string): boolean;
  /**
   * What the domain's checker can say of an answer on its own: decide it right or wrong (Game of 24), only
   * refute a chain (the arithmetic annotations of number problems), or nothing.
   */
  checker: "decides" | "refutes" | "none";
}

const sameText = (a: string, b: string) => a === b;

const domains: Record<DomainName, Domain> = {
  number: {
    name: "number",
    formatInstruction:
      "End your answer with a final line of the form `#### <number>`, giving the number alone, without units.",
    canonicalize: canonicalNumber,
    extractAnswer: extractNumber,
    equal: numbersEqual,
    checker: "refutes",
  },
  game24: {
    name: "game24",
    formatInstruction:
      "End your answer with a final line of the form `Answer: <expression>`, an expression that uses each of " +
      "the four numbers exactly once with + - * / and parentheses and equals 24, e.g. `Answer: (10 - 4) * (13 - 9)`.",
    canonicalize: (a) => canonicalGame24(a) || undefined,
    extractAnswer: extractGame24Expression,
    // different expressions can both be right, but as answers to vote on they are different answers
    equal: sameText,
    checker: "decides",
  },
  choice: {
    name: "choice",
    formatInstruction:
      "End your answer with a final line of the form `Answer: <letter>`, the letter (A-E) of the chosen option.",
    canonicalize: canonicalChoice,
    extractAnswer: extractChoice,
    equal: sameText,
    checker: "none",
  },
  text: {
    name: "text",
    formatInstruction: "End your answer with a final line of the form `Answer: <answer>`, the answer alone.",
    canonicalize: canonicalText,
    extractAnswer: extractText,
    equal: sameText,
    checker: "none",
  },
};

/** The domain by name. */
export function domainOf(name: DomainName): Domain {
  return domains[name];
}

/** The canonical answer a chain of thought ends on in a domain, or undefined when it gives none. */
export function canonicalAnswerOf(domain: Domain, chainOfThought: string): string | undefined {
  const raw = domain.extractAnswer(chainOfThought);
  return raw === undefined ? undefined : domain.canonicalize(raw);
}
