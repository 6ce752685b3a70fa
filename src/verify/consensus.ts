import { z } from "zod";
import type { Verdict } from "./verdict.js";

/** Consensus thresholds, as a bank's settings or a request may give them. */
export const consensusOptionsSchema = z.object({
  /** The least share of the (confidence-weighted) vote the winning answer must hold. */
  threshold: z.number().gt(0).max(1).default(0.7),
  /** The least number of samples a vote must have had. */
  minSamples: z.number().int().min(1).default(5),
});
export type ConsensusOptions = z.input<typeof consensusOptionsSchema>;

export interface ConsensusInput {
  /** The winner's share of the total vote weight, in [0, 1]. */
  winnerShare: number;
  /** How many samples voted. */
  samples: number;
}

/**
 * Consensus: the winning answer is accepted when it holds at least `threshold` of the vote over at least
 * `minSamples` samples; otherwise it cannot tell (disagreement is not proof of a wrong answer).
 * Measured on the 1,319 GSM8K questions with their four labelled model solutions as samples (threshold 0.7,
 * minSamples 3, i.e. at least 3 of 4 agree): 408 accepted, precision 0.885, recall 0.618 for the majority answer.
 */
export function verifyConsensus(input: ConsensusInput, options: ConsensusOptions = {}): Verdict {
  const { threshold, minSamples } = consensusOptionsSchema.parse(options);
  const detail = { ...input, threshold, minSamples };
  if (input.samples < minSamples) {
    return {
      verifier: "consensus",
      verdict: "unknown",
      reason: `${input.samples} samples, fewer than the ${minSamples} required`,
      detail,
    };
  }
  const share = `${(input.winnerShare * 100).toFixed(0)}%`;
  return input.winnerShare >= threshold
    ? {
        verifier: "consensus",
        verdict: "correct",
        reason: `${share} of ${input.samples} samples agree`,
        detail,
      }
    : {
        verifier: "consensus",
        verdict: "unknown",
        reason: `only ${share} of ${input.samples} samples agree, below ${(threshold * 100).toFixed(0)}%`,
        detail,
      };
}
