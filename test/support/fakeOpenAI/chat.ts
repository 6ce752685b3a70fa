import type OpenAI from "openai";
import { fnv1a } from "./random.js";
import type { Sample } from "./sampler.js";

/** Whitespace tokens that keep their leading whitespace, so they concatenate back to the content. */
export function tokenize(content: string): string[] {
  return content.match(/\s*\S+|\s+$/g) ?? [];
}

const ANSWER_MARKERS = new Set(["####", "A:", "Answer:"]);

/**
 * The `topK` most likely tokens at one position: the token itself (greedy decoding took it), then made-up
 * alternatives, the first with 0.9 × the probability the token leaves (at most its own), each next half that.
 */
function alternatives(
  token: string,
  logprob: number,
  topK: number,
): OpenAI.ChatCompletionTokenLogprob.TopLogprob[] {
  const p = Math.exp(logprob);
  const second = Math.min(p, 1 - p) * 0.9;
  return Array.from({ length: topK }, (_, j) => {
    const alternative = j === 0 ? token : `${token.trimStart()}~${j}`;
    const lp = j === 0 ? logprob : Math.log(Math.max(second * 0.5 ** (j - 1), 1e-9));
    return { token: alternative, bytes: [...Buffer.from(alternative, "utf8")], logprob: lp };
  });
}

/**
 * Per-token logprobs as OpenAI returns them. The tokens after the final-answer marker (`####`, `A:`) carry
 * ln(confidence), the signal confidence-weighted voting reads; the reasoning tokens are all likely. With
 * `topK`, each token lists that many alternatives (the first token the sample's own, when it has them).
 */
export function tokenLogprobs(sample: Sample, topK = 0): OpenAI.ChatCompletionTokenLogprob[] {
  const tokens = tokenize(sample.content);
  let marker = tokens.findLastIndex((t) => ANSWER_MARKERS.has(t.trim()));
  // with no marker, the last word is taken to be the answer
  if (marker === -1) marker = tokens.length - 2;
  const answerLogprob = Math.log(Math.min(Math.max(sample.confidence, 1e-6), 1));
  return tokens.map((token, i) => {
    const first = i === 0 ? sample.firstTokens?.[0] : undefined;
    const logprob = first?.logprob ?? (i > marker ? answerLogprob : -0.01 - (fnv1a(token) % 90) / 1000);
    const top =
      i === 0 && sample.firstTokens
        ? sample.firstTokens.slice(0, topK).map((t) => ({ ...t, bytes: [...Buffer.from(t.token, "utf8")] }))
        : alternatives(token, logprob, topK);
    return { token, bytes: [...Buffer.from(token, "utf8")], logprob, top_logprobs: top };
  });
}

export interface Completion {
  id: string;
  created: number;
  model: string;
  samples: Sample[];
  logprobs: boolean;
  /** alternatives listed per token (the request's top_logprobs) */
  topLogprobs: number;
  promptTokens: number;
}

function usageOf(completion: Completion): OpenAI.CompletionUsage {
  const completionTokens = completion.samples.reduce((sum, s) => sum + tokenize(s.content).length, 0);
  return {
    prompt_tokens: completion.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: completion.promptTokens + completionTokens,
  };
}

/** A non-streamed chat.completion object. */
export function completionResponse(completion: Completion): OpenAI.ChatCompletion {
  return {
    id: completion.id,
    object: "chat.completion",
    created: completion.created,
    model: completion.model,
    choices: completion.samples.map((sample, index) => ({
      index,
      message: { role: "assistant", content: sample.content, refusal: null },
      logprobs: completion.logprobs
        ? { content: tokenLogprobs(sample, completion.topLogprobs), refusal: null }
        : null,
      finish_reason: "stop",
    })),
    usage: usageOf(completion),
  };
}

/**
 * The chat.completion.chunk sequence of a streamed answer, like OpenAI's: per choice a role delta, one
 * delta per token, then an empty delta with finish_reason; with include_usage a last chunk with no choices.
 */
export function completionChunks(
  completion: Completion,
  includeUsage: boolean,
): OpenAI.ChatCompletionChunk[] {
  const chunk = (choices: OpenAI.ChatCompletionChunk.Choice[]): OpenAI.ChatCompletionChunk => ({
    id: completion.id,
    object: "chat.completion.chunk",
    created: completion.created,
    model: completion.model,
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  completion.samples.forEach((sample, index) => {
    chunks.push(chunk([{ index, delta: { role: "assistant", content: "" }, finish_reason: null }]));
    for (const token of tokenLogprobs(sample, completion.topLogprobs)) {
      const lp = completion.logprobs ? { logprobs: { content: [token], refusal: null } } : {};
      chunks.push(chunk([{ index, delta: { content: token.token }, finish_reason: null, ...lp }]));
    }
    chunks.push(chunk([{ index, delta: {}, finish_reason: "stop" }]));
  });
  if (includeUsage) chunks.push({ ...chunk([]), usage: usageOf(completion) });
  return chunks;
}
