/** How feedback last decided a memory, kept in its verification detail. */
export interface FeedbackDecision {
  verdict: "correct" | "incorrect";
  runId: string;
  /** later feedback that said the opposite, which left the memory as it was */
  disputes?: number;
}

/** The feedback decision recorded on a memory, if feedback ever decided it. */
export function feedbackDecisionOf(detail: unknown): FeedbackDecision | undefined {
  const decision = (detail as { feedbackDecision?: FeedbackDecision } | null)?.feedbackDecision;
  return decision?.verdict === "correct" || decision?.verdict === "incorrect" ? decision : undefined;
}
