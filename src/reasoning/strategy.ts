import type OpenAI from "openai";
import { z } from "zod";
import type { Domain } from "../domains/domain.js";
import type { ModelGate } from "./modelGate.js";
import { buildPrompt, type ChatMessage, inertText, type WorkedExample } from "./prompt.js";

/**
 * How a solve prompts the model:
 * - `exemplars`: the recalled memories as worked examples (the default);
 * - `step-back`: first one call asking for the principle behind the question (Zheng et al. 2023), then the
 *   chains with that principle beside the question, and the recalled examples as well;
 * - `analogical`: no recalled examples; each chain first writes and solves a few relevant problems of its
 *   own, then the question (Yasunaga et al. 2023);
 * - `plain`: the question alone.
 */
export const STRATEGIES = ["exemplars", "step-back", "analogical", "plain"] as const;
export const strategySchema = z.enum(STRATEGIES);
export type Strategy = z.infer<typeof strategySchema>;

/** The strategy a solve runs: `exemplars` falls back to `fallback` when recall found nothing to show. */
export function strategyFor(asked: Strategy, fallback: Strategy, recalled: number, k: number): Strategy {
  return asked === "exemplars" && recalled === 0 && k > 0 ? fallback : asked;
}

/** Whether the strategy shows the recalled memories as worked examples. */
export function showsExamples(strategy: Strategy): boolean {
  return strategy === "exemplars" || strategy === "step-back";
}

const STEP_BACK_SYSTEM =
  "Before anyone solves the problem below, step back from it: state in one to three sentences the general " +
  "principle, concept or method it rests on. Do not solve it and give no numbers from it.";
// the abstraction is model output, read as data: a short paragraph, its control tokens made inert
const ABSTRACTION_MAX_TOKENS = 160;
const ABSTRACTION_MAX_CHARS = 1_000;

export const ANALOGIES_HEADING = "# Relevant problems:";
export const SOLUTION_HEADING = "# Solution:";
const ANALOGICAL_INSTRUCTION =
  `Before solving, recall three relevant and distinct problems you know and solve each briefly, under the ` +
  `heading "${ANALOGIES_HEADING}"; then solve the problem itself under "${SOLUTION_HEADING}".`;

/** The step-back call's answer: the principle, and what it cost. */
export interface Abstraction {
  text: string;
  promptTokens: number;
  completionTokens: number;
}

/** Asks the model once for the principle behind the query (temperature 0), through the model gate. */
export async function stepBack({
  client,
  model,
  gate,
  query,
}: {
  client: OpenAI;
  model: string;
  gate?: ModelGate;
  query: string;
}): Promise<Abstraction> {
  const request = () =>
    client.chat.completions.create({
      model,
      messages: [
        { role: "system", content: STEP_BACK_SYSTEM },
        { role: "user", content: query },
      ],
      temperature: 0,
      max_tokens: ABSTRACTION_MAX_TOKENS,
    });
  const response = await (gate ? gate.run(request) : request());
  const text = (response.choices[0]?.message?.content ?? "").trim().slice(0, ABSTRACTION_MAX_CHARS);
  return {
    text,
    promptTokens: response.usage?.prompt_tokens ?? 0,
    completionTokens: response.usage?.completion_tokens ?? 0,
  };
}

/** The messages of a solve under a strategy: buildPrompt's scaffold, with what the strategy adds. */
export function strategyPrompt({
  domain,
  strategy,
  examples,
  query,
  abstraction,
}: {
  domain: Domain;
  strategy: Strategy;
  examples: WorkedExample[];
  query: string;
  abstraction?: Abstraction;
}): ChatMessage[] {
  const shown = showsExamples(strategy) ? examples : [];
  const messages = buildPrompt(domain, shown, query);
  const system = messages[0] as ChatMessage;
  const last = messages.at(-1) as ChatMessage;
  if (strategy === "step-back" && abstraction?.text) {
    system.content += " The last problem comes with a principle stated beforehand; use it where it applies.";
    last.content = `${query}\n\nPrinciple: ${inertText(abstraction.text)}`;
  }
  if (strategy === "analogical") system.content += ` ${ANALOGICAL_INSTRUCTION}`;
  return messages;
}

/**
 * A chain split into the problems it wrote for itself (analogical prompting) and its solution of the
 * question; without the headings, all of it is the solution.
 */
export function splitAnalogies(text: string): { analogies?: string; solution: string } {
  const start = text.indexOf(ANALOGIES_HEADING);
  const end = text.indexOf(SOLUTION_HEADING);
  if (start === -1 || end === -1 || end < start) return { solution: text };
  return {
    analogies: text.slice(start + ANALOGIES_HEADING.length, end).trim(),
    solution: text.slice(end + SOLUTION_HEADING.length).trim(),
  };
}
