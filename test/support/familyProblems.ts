import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChatBehavior } from "./fakeOpenAI.js";

// Synthetic word problems in families: one template per family, so the local embedder puts a family's
// problems close together, and the fake model can tell a question's family by its keyword.

export const NAMES = ["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ian", "Jo"];
export interface Family {
  keyword: string;
  text(name: string, a: number, b: number, c: number): string;
  answer(a: number, b: number, c: number): number;
}
export const FAMILIES: Family[] = [
  {
    keyword: "apples",
    text: (n, a, b) =>
      `${n} picks ${a} apples every day for ${b} days. How many apples does ${n} pick in total?`,
    answer: (a, b) => a * b,
  },
  {
    keyword: "train",
    text: (_n, a, b) =>
      `A train travels ${a} miles each hour for ${b} hours. How many miles does the train travel?`,
    answer: (a, b) => a * b,
  },
  {
    keyword: "pencils",
    text: (n, a, b) =>
      `${n} has ${a + 10} pencils and gives ${b} pencils to friends. How many pencils are left?`,
    answer: (a, b) => a + 10 - b,
  },
  {
    keyword: "cookies",
    text: (_n, a, b, c) =>
      `A baker bakes ${a} trays of cookies with ${b} cookies on each tray and sells ${c} cookies. How many cookies remain?`,
    answer: (a, b, c) => a * b - c,
  },
  {
    keyword: "saves",
    text: (n, a, b, c) =>
      `${n} saves ${a} dollars each week for ${b} weeks, then spends ${c} dollars on a book. How many dollars does ${n} have now?`,
    answer: (a, b, c) => a * b - c,
  },
  {
    keyword: "tulips",
    text: (_n, a, b, c) =>
      `A garden has ${a} rows of tulips with ${b} tulips in each row, and ${c} more tulips are planted. How many tulips are in the garden?`,
    answer: (a, b, c) => a * b + c,
  },
];

export interface Problem {
  problem: string;
  answer: string;
  reasoning: string;
}
export function problemOf(family: number, i: number): Problem {
  const f = FAMILIES[family] as Family;
  const a = 3 + ((i * 7 + family * 3) % 17);
  const b = 2 + ((i * 5 + family) % 9);
  const c = 1 + ((i * 3 + family * 2) % 5);
  return {
    problem: f.text(NAMES[(i + family) % NAMES.length] as string, a, b, c),
    answer: String(f.answer(a, b, c)),
    reasoning: `Work it out from the numbers given: ${a}, ${b} and ${c}.`,
  };
}
export const familyOf = (q: string) => FAMILIES.findIndex((f) => q.includes(f.keyword)).toString();

/** Problems of these families, round robin, instances `from` to `from + perFamily - 1` of each. */
export function familyStream(families: number[], perFamily: number, from = 0): Problem[] {
  const out: Problem[] = [];
  for (let i = from; i < from + perFamily; i++) for (const f of families) out.push(problemOf(f, i));
  return out;
}

// the seeded bank knows three of the six families; the evaluated split is all six
export const SEEDED = familyStream([0, 1, 2], 2, 100);
export const SPLIT = familyStream([0, 1, 2, 3, 4, 5], 6);
const answers = new Map([...SEEDED, ...SPLIT].map((p) => [p.problem, p.answer]));
export const answerFor = (q: string) => answers.get(q) ?? "0";
/** Wrong samples agree on one wrong answer (right + 1), so a model without help is wrong most of the time. */
const wrongAnswer = (q: string) => String(Number(answerFor(q)) + 1);

export const EXAMPLE_AWARE: ChatBehavior = {
  kind: "exampleAware",
  answerFor,
  family: familyOf,
  accuracyWithExample: 0.9,
  accuracyWithout: 0.25,
  wrongAnswer,
};
export const PROMPT_INDEPENDENT: ChatBehavior = { kind: "answers", answerFor, accuracy: 0.4, wrongAnswer };

/** Writes problems as an evaluation split (JSONL, fields `question` and `final`: see SPLIT_FIELDS). */
export function splitFile(dir: string, problems: Problem[]): string {
  const file = join(dir, "split.jsonl");
  writeFileSync(
    file,
    problems.map((p) => JSON.stringify({ question: p.problem, final: p.answer })).join("\n"),
  );
  return file;
}
export const SPLIT_FIELDS = { problem: "question", answer: "final" };
