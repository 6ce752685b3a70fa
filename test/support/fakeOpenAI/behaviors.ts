import { readFileSync } from "node:fs";
import { join } from "node:path";
import type OpenAI from "openai";
import { DATA_DIR } from "../data.js";
import { type BranchingBehavior, branching } from "./branching.js";
import { FakeRequestError } from "./errors.js";
import { type FreeTextBehavior, freeText } from "./freeText.js";
import type { Rng } from "./random.js";
import type { ChatRequest, Sample, Sampler } from "./sampler.js";

/** Real GSM8K test questions, each with four model solutions graded is_correct (OpenAI's release). */
export const GSM8K_MODEL_SOLUTIONS = join(DATA_DIR, "gsm8k", "example_model_solutions.jsonl");

/** What the fake model says, scripted by a test. Every behaviour is deterministic given its rng. */
export type ChatBehavior =
  | { kind: "fixed"; content: string; confidence?: number }
  | {
      kind: "answers";
      answerFor(question: string): string;
      /** probability that one sample ends in the right answer */
      accuracy: number;
      wrongAnswer?(question: string, rng: Rng): string;
    }
  | {
      kind: "exampleAware";
      answerFor(question: string): string;
      family(question: string): string;
      /** accuracy when an earlier user message (a worked example) is of the question's family */
      accuracyWithExample: number;
      accuracyWithout: number;
      wrongAnswer?(question: string, rng: Rng): string;
    }
  | {
      /**
       * A model each prompting strategy helps on its own families: asked to step back, it states
       * `principleFor(question)`; a chain given that principle, one asked to write its own analogous
       * problems first, or one shown a worked example of the question's family, is right with that help's
       * accuracy when the family is among those the help works for, else with `plain`.
       */
      kind: "strategyAware";
      answerFor(question: string): string;
      family(question: string): string;
      principleFor(question: string): string;
      accuracy: { plain: number; withExample: number; withPrinciple: number; withAnalogies: number };
      helpedBy: { example: string[]; principle: string[]; analogies: string[] };
      wrongAnswer?(question: string, rng: Rng): string;
    }
  | FreeTextBehavior
  | BranchingBehavior
  | { kind: "replay"; file?: string }
  | { kind: "script"; respond(request: ChatRequest, sampleIndex: number, rng: Rng): string | Sample };

/** The text of a message, whether its content is a string or an array of parts. */
export function messageText(message: OpenAI.ChatCompletionMessageParam): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => ("text" in part ? part.text : "")).join("");
}

const userTexts = (request: ChatRequest) =>
  request.messages.filter((m) => m.role === "user").map(messageText);

const lastUserText = (request: ChatRequest) => userTexts(request).at(-1) ?? "";

/** Right samples are sure of their answer and wrong ones hesitate, as CoT-decoding observed. */
function confidenceFor(correct: boolean, rng: Rng): number {
  return correct ? 0.75 + 0.2 * rng() : 0.25 + 0.3 * rng();
}

/** The right answer moved by a small nonzero offset, so wrong samples scatter instead of agreeing. */
function defaultWrongAnswer(right: string, rng: Rng): string {
  const value = Number(right.replace(/[,$\s]/g, ""));
  const offset = (1 + Math.floor(rng() * 3)) * (rng() < 0.5 ? -1 : 1);
  return Number.isFinite(value) && right.trim() !== "" ? String(value + offset) : `not ${right}`;
}

/** A GSM8K-style chain of thought that ends in the `#### <answer>` line the dataset uses. */
function gsm8kChain(question: string, answer: string): string {
  const gist = (question.split(/(?<=[.?!])\s/)[0] ?? question).slice(0, 100);
  return [
    `We start from what is given: ${gist}`,
    "Working through the quantities one step at a time,",
    `the result comes to ${answer}.`,
    `#### ${answer}`,
  ].join("\n");
}

function answering(
  answerFor: (question: string) => string,
  wrongAnswer: ((question: string, rng: Rng) => string) | undefined,
  accuracyOf: (request: ChatRequest, question: string) => number,
): Sampler {
  return (request, _sampleIndex, rng) => {
    const question = lastUserText(request);
    const correct = rng() < accuracyOf(request, question);
    const right = answerFor(question);
    const answer = correct ? right : (wrongAnswer?.(question, rng) ?? defaultWrongAnswer(right, rng));
    return { content: gsm8kChain(question, answer), confidence: confidenceFor(correct, rng) };
  };
}

interface ReplayEntry {
  question: string;
  solutions: { solution: string; is_correct: boolean }[];
}

const normalize = (text: string) => text.replace(/\s+/g, " ").trim();
const replayFiles = new Map<string, Map<string, ReplayEntry>>();

/** The file's entries by normalized question, read once per process (it is ~1.3k lines). */
function loadReplayFile(file: string): Map<string, ReplayEntry> {
  let entries = replayFiles.get(file);
  if (!entries) {
    entries = new Map();
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as Record<string, unknown>;
      // the solution columns are named after the model that wrote them (6b_finetuning, ...)
      const solutions = Object.values(row).filter(
        (v): v is ReplayEntry["solutions"][number] =>
          typeof v === "object" && v !== null && "solution" in v && "is_correct" in v,
      );
      entries.set(normalize(row.question as string), { question: row.question as string, solutions });
    }
    replayFiles.set(file, entries);
  }
  return entries;
}

function replaying(file: string): Sampler {
  const entries = loadReplayFile(file);
  const served = new Map<string, number>();
  return (request, _sampleIndex, rng) => {
    const asked = normalize(lastUserText(request));
    // a prompt may wrap the question ("Question: ..."), so fall back to finding it inside the message
    const entry =
      entries.get(asked) ?? [...entries.values()].find((e) => asked.includes(normalize(e.question)));
    if (!entry || entry.solutions.length === 0) {
      throw new FakeRequestError(400, `replay: no model solutions in ${file} for "${asked.slice(0, 80)}"`);
    }
    const turn = served.get(entry.question) ?? 0;
    served.set(entry.question, turn + 1);
    const pick = entry.solutions[turn % entry.solutions.length] as ReplayEntry["solutions"][number];
    return { content: pick.solution, confidence: confidenceFor(pick.is_correct, rng) };
  };
}

const systemText = (request: ChatRequest) =>
  request.messages
    .filter((m) => m.role === "system")
    .map(messageText)
    .join("\n");

function strategyAware(behavior: Extract<ChatBehavior, { kind: "strategyAware" }>): Sampler {
  return (request, _sampleIndex, rng) => {
    const system = systemText(request);
    const [question = "", principle] = lastUserText(request).split("\n\nPrinciple: ");
    if (system.includes("step back from it")) {
      return { content: behavior.principleFor(question), confidence: 0.9 };
    }
    const family = behavior.family(question);
    const { accuracy, helpedBy } = behavior;
    const examples = userTexts(request).slice(0, -1);
    const analogical = system.includes("# Relevant problems:");
    let p = accuracy.plain;
    if (principle && helpedBy.principle.includes(family)) p = accuracy.withPrinciple;
    else if (analogical && helpedBy.analogies.includes(family)) p = accuracy.withAnalogies;
    else if (helpedBy.example.includes(family) && examples.some((e) => behavior.family(e) === family)) {
      p = accuracy.withExample;
    }
    const correct = rng() < p;
    const right = behavior.answerFor(question);
    const answer = correct
      ? right
      : (behavior.wrongAnswer?.(question, rng) ?? defaultWrongAnswer(right, rng));
    const chain = gsm8kChain(question, answer);
    return {
      content: analogical
        ? `# Relevant problems:\n1. A problem like this one, solved: ${family}.\n# Solution:\n${chain}`
        : chain,
      confidence: confidenceFor(correct, rng),
    };
  };
}

/** A fresh sampler for a behaviour (a replay starts its cycle over). */
export function createSampler(behavior: ChatBehavior): Sampler {
  switch (behavior.kind) {
    case "fixed":
      return () => ({ content: behavior.content, confidence: behavior.confidence ?? 0.9 });
    case "answers":
      return answering(behavior.answerFor, behavior.wrongAnswer, () => behavior.accuracy);
    case "exampleAware":
      return answering(behavior.answerFor, behavior.wrongAnswer, (request, question) => {
        const family = behavior.family(question);
        const examples = userTexts(request).slice(0, -1);
        return examples.some((e) => behavior.family(e) === family)
          ? behavior.accuracyWithExample
          : behavior.accuracyWithout;
      });
    case "strategyAware":
      return strategyAware(behavior);
    case "freeText":
      return freeText(behavior, { user: lastUserText, system: systemText });
    case "branching":
      return branching(behavior, lastUserText);
    case "replay":
      return replaying(behavior.file ?? GSM8K_MODEL_SOLUTIONS);
    case "script":
      return (request, sampleIndex, rng) => {
        const out = behavior.respond(request, sampleIndex, rng);
        return typeof out === "string" ? { content: out, confidence: 0.9 } : out;
      };
  }
}
