import type OpenAI from "openai";
import type { Domain } from "../domains/domain.js";
import { cotDecode, type DecodingRecord } from "./cotDecoding.js";
import type { ModelClient } from "./model.js";
import { type ChainSample, type SamplingResult, sampleChains } from "./sample.js";
import type { Pick } from "./universalSelection.js";

/** How a solve draws its chains: sampled (self-consistency) or, with `branches`, CoT-decoded. */
export interface DrawOptions {
  model: ModelClient;
  messages: OpenAI.ChatCompletionMessageParam[];
  domain: Domain;
  /** the sample cap, or with cot-decoding the branches */
  samples: number;
  /** CoT-decode (on an endpoint readyForCotDecoding accepted; `probed`: whether that asked it) */
  cotDecoding: false | { probed: boolean };
  batchSize: number;
  temperature: number;
  adaptive: boolean;
  onSample?: (sample: ChainSample) => void;
}

/**
 * Step 3 of a solve: the chains, drawn as the options ask. CoT-decoding also brings the path it picked
 * (by answer margin) and its record; sampled chains leave the pick to the vote or to universal selection.
 */
export async function drawChains(
  options: DrawOptions,
): Promise<{ sampling: SamplingResult; decoding?: DecodingRecord; pick?: Pick }> {
  const { model, messages, domain, onSample } = options;
  if (options.cotDecoding) {
    const { sampling, record, pick } = await cotDecode({
      model,
      messages,
      domain,
      branches: options.samples,
      probed: options.cotDecoding.probed,
      onSample,
    });
    return { sampling, decoding: record, pick };
  }
  const sampling = await sampleChains({
    client: await model.client(),
    model: model.name,
    gate: model.gate,
    messages,
    domain,
    maxSamples: options.samples,
    batchSize: options.batchSize,
    temperature: options.temperature,
    adaptive: options.adaptive ? {} : false,
    onSample,
  });
  return { sampling };
}
