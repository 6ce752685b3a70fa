import type OpenAI from "openai";
import { z } from "zod";
import type { Domain, DomainName } from "../domains/domain.js";
import type { ModelClient } from "./model.js";
import { inertText } from "./prompt.js";
import type { ChainSample } from "./sample.js";
import type { VoteResult } from "./vote.js";

/**
 * How a solve picks its answer among the samples:
 * - `vote`: the majority over canonical answers (self-consistency);
 * - `universal`: one more call shows the model the numbered samples and asks which is most consistent with
 *   the others (universal self-consistency, Chen et al. 2023), for free text, where paraphrases of one
 *   answer split an exact-string vote.
 */
export const SELECTIONS = ["vote", "universal"] as const;
export const selectionSchema = z.enum(SELECTIONS);
export type Selection = z.infer<typeof selectionSchema>;

/** The selection a solve uses: the request's, else the bank's, else the domain's (universal for text). */
export function selectionFor(domain: DomainName, asked?: Selection, bankSetting?: Selection): Selection {
  return asked ?? bankSetting ?? (domain === "text" ? "universal" : "vote");
}

/** What universal selection did, as a run records it (in its strategy). */
export interface SelectionRecord {
  method: "universal";
  /** the sample picked (the model's pick, or the vote's when it fell back) */
  sample?: number;
  /** the model's stated reason for its pick */
  reason?: string;
  /** the samples whose answer agrees with the pick, itself included, of `of` samples that gave an answer */
  agreeing: number;
  of: number;
  /** set when the pick is the plain vote's: why the model's selection could not be used */
  fallback?: string;
  /** no call was made: every sample gave the same answer */
  unanimous?: boolean;
  promptTokens: number;
  completionTokens: number;
}

/** The pick verification judges: its canonical answer, its share of agreement, and how many samples answered. */
export interface Pick {
  answerCanonical: string;
  share: number;
  voters: number;
}

export const SELECTION_SYSTEM =
  "You are shown several responses to the same question, numbered. Select the response whose final answer " +
  "is most consistent with the others: the answer the most responses agree with in meaning, however they " +
  'word it. Reply with JSON only: {"response": <its number>, "agreeing": [<the numbers of every response ' +
  'whose final answer means the same, its own included>], "reason": "<one sentence>"}.';
// each response is model output shown back as data: cut to a length, its control tokens made inert
const RESPONSE_MAX_CHARS = 1_500;
const SELECTION_MAX_TOKENS = 300;
const REASON_MAX_CHARS = 500;

// the reply is untrusted model output: only these fields are read, and each is checked against the samples
const replySchema = z.object({
  response: z.number().int(),
  agreeing: z.array(z.number().int()).max(128).default([]),
  reason: z.string().default(""),
});

/** The JSON object in a reply, fenced in markdown or not; undefined when there is none. */
function jsonObjectIn(text: string): unknown {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start === -1 || end < start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

/** The messages of the selection call: the question, then each answering sample under its run index. */
export function selectionPrompt(
  query: string,
  samples: readonly ChainSample[],
): OpenAI.ChatCompletionMessageParam[] {
  const responses = samples.map(
    (s) => `Response ${s.index}:\n${inertText(s.text.slice(0, RESPONSE_MAX_CHARS))}`,
  );
  return [
    { role: "system", content: SELECTION_SYSTEM },
    { role: "user", content: `Question: ${inertText(query)}\n\n${responses.join("\n\n")}` },
  ];
}

/**
 * Universal self-consistency: asks the model (temperature 0, through the gate) which sample's answer is most
 * consistent with the others. The pick's agreement is the samples the model says agree with it, with those
 * whose canonical answer equals it (equal strings agree by definition). A reply that is not JSON of the
 * asked shape, or names a sample that is not there, falls back to the vote and says why. With one distinct
 * answer no call is made. Undefined when fewer than two samples answered: there is nothing to select.
 */
export async function selectUniversally({
  model,
  query,
  samples,
  domain,
  tally,
}: {
  model: ModelClient;
  query: string;
  samples: readonly ChainSample[];
  domain: Domain;
  tally: VoteResult;
}): Promise<{ record: SelectionRecord; pick?: Pick } | undefined> {
  const answering = samples.filter((s) => s.answerCanonical !== undefined);
  if (answering.length < 2 || !tally.winner) return undefined;
  const of = answering.length;
  const voted = tally.winner.answer;
  const votedSample = answering.find((s) => domain.equal(s.answerCanonical as string, voted)) as ChainSample;
  if (tally.tallies.length === 1) {
    return {
      record: {
        method: "universal",
        sample: votedSample.index,
        agreeing: of,
        of,
        unanimous: true,
        promptTokens: 0,
        completionTokens: 0,
      },
      pick: { answerCanonical: voted, share: 1, voters: of },
    };
  }

  const client = await model.client();
  const request = () =>
    client.chat.completions.create({
      model: model.name,
      messages: selectionPrompt(query, answering),
      temperature: 0,
      max_tokens: SELECTION_MAX_TOKENS,
    });
  const fallBack = (
    why: string,
    tokens = { promptTokens: 0, completionTokens: 0 },
  ): { record: SelectionRecord } => ({
    record: {
      method: "universal",
      sample: votedSample.index,
      agreeing: tally.winner?.count ?? 0,
      of,
      fallback: `${why}: the plain vote decides`,
      ...tokens,
    },
  });
  let response: OpenAI.ChatCompletion;
  try {
    response = await model.gate.run(request);
  } catch (e) {
    // the samples are drawn and paid for: a failed selection leaves the vote, not a failed run
    return fallBack(`the selection call failed (${(e as Error).message})`);
  }
  const tokens = {
    promptTokens: response.usage?.prompt_tokens ?? 0,
    completionTokens: response.usage?.completion_tokens ?? 0,
  };
  const reply = replySchema.safeParse(jsonObjectIn(response.choices[0]?.message?.content ?? ""));
  if (!reply.success) return fallBack("the selection reply was not the JSON asked for", tokens);
  const picked = answering.find((s) => s.index === reply.data.response);
  if (!picked) {
    return fallBack(`the selection named response ${reply.data.response}, which is not among them`, tokens);
  }
  const stray = reply.data.agreeing.find((i) => !answering.some((s) => s.index === i));
  if (stray !== undefined) {
    return fallBack(`the selection counted response ${stray}, which is not among them`, tokens);
  }
  const agreeing = answering.filter(
    (s) =>
      s.index === picked.index ||
      reply.data.agreeing.includes(s.index) ||
      domain.equal(s.answerCanonical as string, picked.answerCanonical as string),
  ).length;
  return {
    record: {
      method: "universal",
      sample: picked.index,
      reason: reply.data.reason.slice(0, REASON_MAX_CHARS),
      agreeing,
      of,
      ...tokens,
    },
    pick: { answerCanonical: picked.answerCanonical as string, share: agreeing / of, voters: of },
  };
}
