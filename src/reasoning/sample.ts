import OpenAI from "openai";
import { z } from "zod";
import type { Domain } from "../domains/domain.js";
import { type AdaptiveOptions, adaptiveStop } from "./adaptive.js";
import type { ModelGate } from "./modelGate.js";
import { vote } from "./vote.js";

/** The numeric sampling settings, as a bank's settings or a request may give them. */
export const samplingSettingsSchema = z.object({
  /** The sample cap. */
  maxSamples: z.number().int().min(1).max(128),
  /** Chains asked for per request (`n`), and how often the adaptive rule is consulted. */
  batchSize: z.number().int().min(1).max(128).default(4),
  /** Above 0, or every chain comes out the same and voting is pointless. */
  temperature: z.number().min(0).max(2).default(0.7),
});

/** What sampleChains needs: the endpoint, the prompt, the domain of the answers and the sampling settings. */
export interface SampleChainsOptions extends z.input<typeof samplingSettingsSchema> {
  client: OpenAI;
  model: string;
  /** bounds the requests in flight across every solve of the process (see ModelGate) */
  gate?: ModelGate;
  messages: OpenAI.ChatCompletionMessageParam[];
  domain: Domain;
  /** false: always draw maxSamples; otherwise stop once the vote is decided (see adaptiveStop) */
  adaptive: false | AdaptiveOptions;
  maxTokens?: number;
  /** called with each sample as soon as it arrives, e.g. to stream progress */
  onSample?: (sample: ChainSample) => void;
  signal?: AbortSignal;
}

/** One sampled chain of thought and the answer it ends in. */
export interface ChainSample {
  /** position among the run's samples, from 0 */
  index: number;
  text: string;
  /** the final answer as written, when the chain gives one */
  answer?: string;
  /** the domain's canonical form of the answer */
  answerCanonical?: string;
  /** exp(mean logprob) of the answer's tokens; undefined without logprobs */
  confidence?: number;
  /** completion tokens of this chain (counted from logprobs, else a share of the reported usage) */
  tokens: number;
}

/** What sampleChains drew, and what it learnt about the endpoint on the way. */
export interface SamplingResult {
  samples: ChainSample[];
  /** HTTP requests made (the SDK's own retries aside) */
  requests: number;
  usage: { promptTokens: number; completionTokens: number };
  /** false once the endpoint answered fewer choices than `n` asked */
  nSupported: boolean;
  /** false once the endpoint answered without logprobs, or rejected a request that asked for them */
  logprobsSupported: boolean;
  /** the adaptive rule stopped before the cap */
  stoppedEarly: boolean;
  /** the adaptive rule's last P(leader stays ahead), when adaptive sampling was on */
  stopProbability?: number;
  batches: number;
}

// Model output is untrusted: OpenAI-compatible servers differ in what they fill in, so only what is read
// here is required, and everything optional may also come as null.
const tokenLogprobSchema = z.object({ token: z.string(), logprob: z.number() });
const completionSchema = z.object({
  choices: z.array(
    z.object({
      index: z.number().int().nullish(),
      message: z.object({ content: z.string().nullish() }),
      logprobs: z.object({ content: z.array(tokenLogprobSchema).nullish() }).nullish(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
});
type Completion = z.infer<typeof completionSchema>;
type TokenLogprob = z.infer<typeof tokenLogprobSchema>;

// the markers the domains' answer formats end with: `#### 72`, `Answer: 72`, `A: 72`
const ANSWER_MARKER = /####|\banswer[ \t]*\**[ \t]*:|(?:^|\n)[ \t]*A[ \t]*:/gi;

/**
 * The model's confidence in a chain's final answer: exp of the mean logprob of the answer's tokens, those
 * after the last answer marker up to the end of its line, else those spelling `answer` where it last occurs.
 * Offsets are taken on the tokens' own text, since tokenizers split markers (`###` + `#`) their own way.
 */
export function answerConfidence(tokens: readonly TokenLogprob[], answer?: string): number | undefined {
  const logprobs = answerTokens(tokens, answer).map((t) => t.logprob);
  if (logprobs.length === 0) return undefined;
  return Math.exp(logprobs.reduce((sum, lp) => sum + lp, 0) / logprobs.length);
}

/** The tokens that spell a chain's final answer (see answerConfidence); none when it cannot be found. */
export function answerTokens<T extends TokenLogprob>(tokens: readonly T[], answer?: string): T[] {
  const text = tokens.map((t) => t.token).join("");
  const span = markedAnswerSpan(text) ?? writtenAnswerSpan(text, answer);
  if (!span) return [];
  let offset = 0;
  const spelling: T[] = [];
  for (const token of tokens) {
    const start = offset;
    offset += token.token.length;
    if (start < span.end && offset > span.start) spelling.push(token);
  }
  return spelling;
}

function markedAnswerSpan(text: string): { start: number; end: number } | undefined {
  const marker = [...text.matchAll(ANSWER_MARKER)].at(-1);
  if (!marker) return undefined;
  const after = marker.index + marker[0].length;
  const lineEnd = text.indexOf("\n", after);
  const line = text.slice(after, lineEnd === -1 ? text.length : lineEnd);
  // markdown emphasis and a closing period are decoration, not the answer
  const trimmed = line.replace(/^[\s*]+/, "");
  const value = trimmed.replace(/[\s*.]+$/, "");
  if (value === "") return undefined;
  const start = after + (line.length - trimmed.length);
  return { start, end: start + value.length };
}

function writtenAnswerSpan(
  text: string,
  answer: string | undefined,
): { start: number; end: number } | undefined {
  if (!answer) return undefined;
  const start = text.lastIndexOf(answer);
  return start === -1 ? undefined : { start, end: start + answer.length };
}

/** Servers that do not know `logprobs` reject it as a bad request rather than ignoring it. */
export const rejectsParameters = (error: unknown) =>
  error instanceof OpenAI.APIError && (error.status === 400 || error.status === 422);

/**
 * Samples chains of thought in batches of `n` (steps 3–4 of the solve pipeline), reads each chain's answer
 * and confidence, and with adaptive consistency stops once the vote is decided. Falls back, and records it,
 * when the endpoint ignores `n` (several requests) or lacks logprobs (no confidences: unweighted votes).
 */
export async function sampleChains(options: SampleChainsOptions): Promise<SamplingResult> {
  const { maxSamples, batchSize, temperature } = samplingSettingsSchema.parse(options);
  const { client, model, messages, domain, adaptive, maxTokens, onSample, signal, gate } = options;
  const samples: ChainSample[] = [];
  const usage = { promptTokens: 0, completionTokens: 0 };
  let requests = 0;
  let nSupported = true;
  let logprobsSupported = true;
  let stoppedEarly = false;
  let stopProbability: number | undefined;
  let batches = 0;

  async function create(n: number, logprobs: boolean): Promise<Completion> {
    requests++;
    const request = () =>
      client.chat.completions.create(
        {
          model,
          messages,
          n,
          temperature,
          ...(logprobs ? { logprobs: true } : {}),
          // max_tokens, not max_completion_tokens: the one every OpenAI-compatible server knows
          ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
        },
        { signal },
      );
    const response = await (gate ? gate.run(request) : request());
    const parsed = completionSchema.safeParse(response);
    if (!parsed.success) {
      throw new Error(`chat endpoint returned a malformed completion: ${z.prettifyError(parsed.error)}`);
    }
    return parsed.data;
  }

  async function complete(n: number): Promise<Completion> {
    if (!logprobsSupported) return create(n, false);
    try {
      return await create(n, true);
    } catch (error) {
      if (!rejectsParameters(error)) throw error;
      logprobsSupported = false;
      return create(n, false);
    }
  }

  function record(completion: Completion, asked: number): number {
    const choices = [...completion.choices].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).slice(0, asked);
    if (choices.length === 0) throw new Error("chat endpoint returned a completion without choices");
    if (choices.length < asked) nSupported = false;
    if (completion.usage) {
      usage.promptTokens += completion.usage.prompt_tokens;
      usage.completionTokens += completion.usage.completion_tokens;
    }
    const texts = choices.map((c) => c.message.content ?? "");
    const totalChars = texts.reduce((sum, t) => sum + t.length, 0);
    choices.forEach((choice, i) => {
      const text = texts[i] as string;
      const tokens = choice.logprobs?.content;
      if (!tokens) logprobsSupported = false;
      const answer = domain.extractAnswer(text);
      const answerCanonical = answer === undefined ? undefined : domain.canonicalize(answer);
      const reported = completion.usage?.completion_tokens;
      const sample: ChainSample = {
        index: samples.length,
        text,
        answer,
        answerCanonical,
        confidence: tokens ? answerConfidence(tokens, answer) : undefined,
        // without logprobs, split the reported usage by length; with no usage either, ~4 characters a token
        tokens:
          tokens?.length ??
          (reported !== undefined && totalChars > 0
            ? Math.round((reported * text.length) / totalChars)
            : Math.ceil(text.length / 4)),
      };
      if (!completion.usage) usage.completionTokens += sample.tokens;
      samples.push(sample);
      onSample?.(sample);
    });
    return choices.length;
  }

  /** Draws `size` more samples: one request of n = size, or one request per sample without `n` support. */
  async function fillBatch(size: number): Promise<void> {
    let filled = 0;
    while (filled < size) {
      const missing = size - filled;
      // without `n`, the requests for one batch go out together: servers like Ollama serve them in parallel
      const asks = nSupported ? [missing] : Array.from({ length: missing }, () => 1);
      const completions = await Promise.all(asks.map((n) => complete(n)));
      completions.forEach((completion, i) => {
        filled += record(completion, asks[i] as number);
      });
    }
  }

  while (samples.length < maxSamples) {
    signal?.throwIfAborted();
    await fillBatch(Math.min(batchSize, maxSamples - samples.length));
    batches++;
    if (adaptive === false) continue;
    // the rule weighs samples as the vote does: with logprobs, four unsure samples are less evidence
    // than four sure ones, which keeps a consistent but unsure wrong answer from ending sampling early
    const tally = vote(samples, domain);
    const counts = tally.tallies.map((t) => (tally.weighted ? t.weight : t.count));
    const decision = adaptiveStop(counts, { ...adaptive, samples: samples.length, maxSamples });
    stopProbability = decision.probability;
    if (decision.stop) {
      stoppedEarly = samples.length < maxSamples;
      break;
    }
  }

  return { samples, requests, usage, nSupported, logprobsSupported, stoppedEarly, stopProbability, batches };
}
