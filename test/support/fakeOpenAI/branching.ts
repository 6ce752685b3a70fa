import type { ChatRequest, Sample, Sampler } from "./sampler.js";

/** One first token a branching model may start its answer with, and where greedy decoding takes it. */
export interface Branch {
  /** a whole token as the fake tokenizes (a word, no leading space) */
  token: string;
  /** its probability at the first decoding step */
  probability: number;
  /** the rest of the answer, greedily decoded after it */
  continuation: string;
  /** the probability of each final-answer token on this path (its top-2 alternative gets 0.9 × the rest) */
  confidence: number;
}

/**
 * A model for CoT-decoding (Wang & Zhou 2024): its first answer token is `branches(question)[0]` (greedy),
 * with the others as the top alternatives in `top_logprobs`; a request that ends in an assistant message
 * continues it, from the branch whose token it is. Questions without branches get `fallback`.
 */
export interface BranchingBehavior {
  kind: "branching";
  branches(question: string): Branch[] | undefined;
  fallback?: string;
}

/** The sampler of a branching behaviour; `lastUser` reads the question. */
export function branching(behavior: BranchingBehavior, lastUser: (request: ChatRequest) => string): Sampler {
  return (request): Sample => {
    const branches = behavior.branches(lastUser(request));
    const fallback = { content: behavior.fallback ?? "OK.", confidence: 0.9 };
    if (!branches || branches.length === 0) return fallback;
    const last = request.messages.at(-1);
    if (last?.role === "assistant") {
      const prefix = typeof last.content === "string" ? last.content : "";
      const branch = branches.find((b) => b.token === prefix.trim());
      return branch ? { content: branch.continuation, confidence: branch.confidence } : fallback;
    }
    const greedy = branches[0] as Branch;
    return {
      content: greedy.token + greedy.continuation,
      confidence: greedy.confidence,
      firstTokens: branches.map((b) => ({ token: b.token, logprob: Math.log(b.probability) })),
    };
  };
}
