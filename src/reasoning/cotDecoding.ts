import type OpenAI from "openai";
import { z } from "zod";
import type { Domain } from "../domains/domain.js";
import { PrecedentError } from "../errors.js";
import { PREFIX_CONTINUATION } from "./endpointCapabilities.js";
import type { ModelClient } from "./model.js";
import { answerConfidence, answerTokens, type ChainSample, type SamplingResult } from "./sample.js";
import type { Pick, Selection } from "./universalSelection.js";

/**
 * How a solve draws its chains:
 * - `sample`: chains sampled at a temperature, then voted (self-consistency, adaptive);
 * - `cot-decoding`: branch on the top-k alternatives of the answer's first token, continue each greedily,
 *   and take the path whose final-answer tokens the model is surest of (Wang & Zhou 2024), where the
 *   endpoint returns token alternatives and continues an assistant prefix.
 */
export const DECODINGS = ["sample", "cot-decoding"] as const;
export const decodingSchema = z.enum(DECODINGS);
export type Decoding = z.infer<typeof decodingSchema>;
/** Branches when the request names none (the paper's k = 10). */
export const DEFAULT_BRANCHES = 10;
/** The most branches: the most alternatives OpenAI-compatible servers list per token (top_logprobs ≤ 20). */
export const MAX_BRANCHES = 20;

/** One decoded path as a run records it: its sample, the first token it was forced to, and its margin. */
export interface PathRecord {
  sample: number;
  firstToken: string;
  /** the first token's probability at the first step */
  firstTokenProbability: number;
  /** top-1 minus top-2 probability, averaged over the final answer's tokens; absent when it has no answer */
  margin?: number;
}

/** What CoT-decoding did, as a run records it (in its strategy). */
export interface DecodingRecord {
  name: "cot-decoding";
  branches: number;
  /** whether this solve asked the endpoint what it can do (the first CoT-decoding solve of the process) */
  probed: boolean;
  paths: PathRecord[];
  /** the path with the largest margin */
  chosenSample?: number;
}

/** The options that decide how the samples are drawn and picked, as a solve was asked them. */
interface DecodingOptions {
  decoding: Decoding;
  samples?: number;
  branches?: number;
  selection?: Selection;
  adaptive?: boolean;
}

/**
 * Refuses, naming the field, options that contradict each other: CoT-decoding draws one greedy path per
 * branch, so it takes no sample count above 1, no adaptive sampling and no universal selection (the margin
 * picks); `branches` belongs to CoT-decoding; universal selection needs more than one sample.
 */
export function checkDecodingOptions(options: DecodingOptions): void {
  const refuse = (field: string, message: string) => {
    throw new PrecedentError("invalid_input", message, field);
  };
  if (options.decoding === "cot-decoding") {
    if (options.samples !== undefined && options.samples > 1) {
      refuse("samples", 'samples: decoding "cot-decoding" draws one path per branch; set branches instead');
    }
    if (options.adaptive === true) {
      refuse(
        "adaptive",
        'adaptive: decoding "cot-decoding" decodes every branch greedily, there is nothing to stop early',
      );
    }
    if (options.selection === "universal") {
      refuse(
        "selection",
        'selection: decoding "cot-decoding" picks its path by answer margin, not by selection',
      );
    }
  } else if (options.branches !== undefined) {
    refuse("branches", 'branches: only decoding "cot-decoding" branches');
  }
  if (options.selection === "universal" && options.samples === 1) {
    refuse("selection", 'selection: "universal" chooses among samples, and samples is 1');
  }
}

// model output is untrusted: only what is read here is required
const topSchema = z.object({ token: z.string(), logprob: z.number() });
const tokenSchema = topSchema.extend({ top_logprobs: z.array(topSchema).nullish() });
const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        logprobs: z.object({ content: z.array(tokenSchema).nullish() }).nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
});
type Completion = z.infer<typeof completionSchema>;
type Token = z.infer<typeof tokenSchema>;

/** How sure the model was of a path's answer: top-1 minus top-2 probability, averaged over its tokens. */
export function answerMargin(tokens: readonly Token[], answer?: string): number | undefined {
  const spelling = answerTokens(tokens, answer);
  if (spelling.length === 0) return undefined;
  const margins = spelling.map((t) => {
    const ranked = [
      t.logprob,
      ...(t.top_logprobs ?? []).filter((a) => a.token !== t.token).map((a) => a.logprob),
    ]
      .map(Math.exp)
      .sort((a, b) => b - a);
    return (ranked[0] ?? 0) - (ranked[1] ?? 0);
  });
  return margins.reduce((sum, m) => sum + m, 0) / margins.length;
}

/**
 * CoT-decoding, on an endpoint readyForCotDecoding accepted (`probed`: whether that asked it, for the
 * record): asks for the alternatives of the first token, continues each of the top `branches` greedily
 * from the prompt and that token, and picks the path with the largest answer margin. Its share is the
 * paths whose answer equals the pick's, of those answering.
 */
export async function cotDecode({
  model,
  messages,
  domain,
  branches,
  probed,
  maxTokens,
  onSample,
}: {
  model: ModelClient;
  probed: boolean;
  messages: OpenAI.ChatCompletionMessageParam[];
  domain: Domain;
  branches: number;
  maxTokens?: number;
  onSample?: (sample: ChainSample) => void;
}): Promise<{ sampling: SamplingResult; record: DecodingRecord; pick?: Pick }> {
  const client = await model.client();
  const usage = { promptTokens: 0, completionTokens: 0 };
  let requests = 0;
  const complete = async (body: Record<string, unknown>): Promise<Completion> => {
    requests++;
    const request = () =>
      client.chat.completions.create({
        model: model.name,
        temperature: 0,
        logprobs: true,
        ...body,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const parsed = completionSchema.safeParse(await model.gate.run(request));
    if (!parsed.success) {
      throw new Error(`chat endpoint returned a malformed completion: ${z.prettifyError(parsed.error)}`);
    }
    usage.promptTokens += parsed.data.usage?.prompt_tokens ?? 0;
    usage.completionTokens += parsed.data.usage?.completion_tokens ?? 0;
    return parsed.data;
  };

  const first = await complete({ messages, max_tokens: 1, top_logprobs: branches });
  const firstToken = first.choices[0]?.logprobs?.content?.[0];
  const alternatives = [...(firstToken?.top_logprobs ?? [])]
    .sort((a, b) => b.logprob - a.logprob)
    .filter((t, i, all) => all.findIndex((u) => u.token === t.token) === i)
    .slice(0, branches);
  if (alternatives.length === 0) throw new Error("the endpoint listed no alternatives for the first token");

  const paths = await Promise.all(
    alternatives.map(async (alternative, index) => {
      const continued = await complete({
        messages: [...messages, { role: "assistant", content: alternative.token }],
        ...PREFIX_CONTINUATION,
        // two alternatives per token are all the margin needs
        top_logprobs: 2,
        ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      });
      const choice = continued.choices[0];
      const tokens = choice?.logprobs?.content ?? [];
      const text = alternative.token + (choice?.message.content ?? "");
      const answer = domain.extractAnswer(text);
      const sample: ChainSample = {
        index,
        text,
        answer,
        answerCanonical: answer === undefined ? undefined : domain.canonicalize(answer),
        confidence: answerConfidence(tokens, answer),
        tokens: tokens.length + 1,
      };
      onSample?.(sample);
      const margin = sample.answerCanonical === undefined ? undefined : answerMargin(tokens, answer);
      const path: PathRecord = {
        sample: index,
        firstToken: alternative.token,
        firstTokenProbability: Math.exp(alternative.logprob),
        ...(margin === undefined ? {} : { margin }),
      };
      return { sample, path };
    }),
  );

  // the largest margin wins; equal margins go to the likelier first token (the greedy path first)
  const best = paths
    .filter((p) => p.path.margin !== undefined)
    .reduce<(typeof paths)[number] | undefined>(
      (top, p) => (top === undefined || (p.path.margin as number) > (top.path.margin as number) ? p : top),
      undefined,
    );
  const answering = paths.filter((p) => p.sample.answerCanonical !== undefined);
  const pick =
    best?.sample.answerCanonical === undefined
      ? undefined
      : {
          answerCanonical: best.sample.answerCanonical,
          share:
            answering.filter((p) =>
              domain.equal(p.sample.answerCanonical as string, best.sample.answerCanonical as string),
            ).length / answering.length,
          voters: answering.length,
        };
  return {
    sampling: {
      samples: paths.map((p) => p.sample),
      requests,
      usage,
      nSupported: true,
      logprobsSupported: true,
      stoppedEarly: false,
      batches: 1,
    },
    record: {
      name: "cot-decoding",
      branches,
      probed,
      paths: paths.map((p) => p.path),
      ...(best ? { chosenSample: best.sample.index } : {}),
    },
    pick,
  };
}
