import type OpenAI from "openai";
import type { Rng } from "./random.js";

/** What the fake model is asked. */
export type ChatRequest = OpenAI.ChatCompletionCreateParams;

/** One sampled assistant message and the model's confidence (0..1) in its final answer. */
export interface Sample {
  content: string;
  confidence: number;
  /** the alternatives of the first token, most probable first (its top_logprobs); else made up */
  firstTokens?: { token: string; logprob: number }[];
}

/** Produces one choice of a chat completion. */
export type Sampler = (request: ChatRequest, sampleIndex: number, rng: Rng) => Sample;
