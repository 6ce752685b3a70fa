import type OpenAI from "openai";
import { z } from "zod";
import { PrecedentError } from "../errors.js";
import type { ModelGate } from "./modelGate.js";
import { rejectsParameters } from "./sample.js";

/**
 * What CoT-decoding needs of an endpoint: the top alternatives of each token (`logprobs` with
 * `top_logprobs`), and continuing a final assistant message instead of starting a new one (vLLM's
 * `continue_final_message`; llama.cpp server and Ollama continue it on their own and ignore the field).
 */
export interface CotDecodingCapability {
  logprobs: boolean;
  prefix: boolean;
}

/** Detected capabilities by endpoint (base URL and model), kept for the life of the process. */
export type CapabilityCache = Map<string, Promise<CotDecodingCapability>>;

/** The request fields that ask an endpoint to continue the final assistant message. */
export const PREFIX_CONTINUATION = { continue_final_message: true, add_generation_prompt: false } as const;

/** The probe: one token, continuing an assistant prefix, with its alternatives. */
export const PROBE_MESSAGES: OpenAI.ChatCompletionMessageParam[] = [
  { role: "user", content: "Say hello." },
  { role: "assistant", content: "Hel" },
];

const probeReplySchema = z.object({
  choices: z
    .array(
      z.object({
        logprobs: z
          .object({
            content: z.array(z.object({ top_logprobs: z.array(z.unknown()).nullish() })).nullish(),
          })
          .nullish(),
      }),
    )
    .min(1),
});

const listsAlternatives = (response: unknown) => {
  const parsed = probeReplySchema.safeParse(response);
  return parsed.success && (parsed.data.choices[0]?.logprobs?.content?.[0]?.top_logprobs?.length ?? 0) > 0;
};

/**
 * Whether the endpoint can do CoT-decoding, asked once per base URL and model: a one-token request that
 * continues an assistant prefix with `logprobs` and `top_logprobs`; refused (400/422), it is asked again
 * without the prefix, to tell which of the two is missing. An endpoint that fails otherwise (down, 5xx) is
 * not remembered, so the next solve asks again. `probed` says whether this call sent the probe.
 */
export async function cotDecodingCapability({
  client,
  model,
  endpoint,
  cache,
  gate,
  topK,
}: {
  client: OpenAI;
  model: string;
  endpoint: string;
  cache: CapabilityCache;
  gate?: ModelGate;
  topK: number;
}): Promise<CotDecodingCapability & { probed: boolean }> {
  const key = `${endpoint} ${model}`;
  const known = cache.get(key);
  if (known) return { ...(await known), probed: false };
  const ask = (body: Record<string, unknown>) => {
    const request = () =>
      client.chat.completions.create({
        model,
        max_tokens: 1,
        temperature: 0,
        logprobs: true,
        top_logprobs: topK,
        ...body,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    return gate ? gate.run(request) : request();
  };
  const probe = async (): Promise<CotDecodingCapability> => {
    try {
      return {
        logprobs: listsAlternatives(await ask({ messages: PROBE_MESSAGES, ...PREFIX_CONTINUATION })),
        prefix: true,
      };
    } catch (e) {
      if (!rejectsParameters(e)) throw e;
    }
    try {
      return {
        logprobs: listsAlternatives(await ask({ messages: PROBE_MESSAGES.slice(0, 1) })),
        prefix: false,
      };
    } catch (e) {
      if (!rejectsParameters(e)) throw e;
      return { logprobs: false, prefix: false };
    }
  };
  const detected = probe();
  cache.set(key, detected);
  try {
    return { ...(await detected), probed: true };
  } catch (e) {
    cache.delete(key);
    throw new PrecedentError(
      "unavailable",
      `the model endpoint could not be asked whether it can do cot-decoding: ${(e as Error).message}`,
    );
  }
}

/** Throws a 400 naming `decoding` and what the endpoint lacks, unless it can do CoT-decoding. */
export function requireCotDecoding(capability: CotDecodingCapability, endpoint: string, model: string): void {
  const missing = [
    ...(capability.logprobs ? [] : ["token alternatives (logprobs with top_logprobs)"]),
    ...(capability.prefix ? [] : ["continuing an assistant prefix (continue_final_message)"]),
  ];
  if (missing.length === 0) return;
  throw new PrecedentError(
    "invalid_input",
    `decoding "cot-decoding" needs what the bank's model endpoint (${endpoint}, model ${model}) does not offer: ` +
      `${missing.join(" and ")}; use decoding "sample"`,
    "decoding",
  );
}

/**
 * Makes sure the model's endpoint can CoT-decode (asking it once, see cotDecodingCapability), else throws
 * what requireCotDecoding throws. Returns whether this call sent the probe.
 */
export async function readyForCotDecoding(
  model: {
    client(): Promise<OpenAI>;
    name: string;
    endpoint: string;
    capabilities: CapabilityCache;
    gate?: ModelGate;
  },
  topK: number,
): Promise<boolean> {
  const capability = await cotDecodingCapability({
    client: await model.client(),
    model: model.name,
    endpoint: model.endpoint,
    cache: model.capabilities,
    gate: model.gate,
    topK,
  });
  requireCotDecoding(capability, model.endpoint, model.name);
  return capability.probed;
}
