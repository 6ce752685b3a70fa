/** The verifiers a run's answer can be checked by. */
export type VerifierName = "gold" | "checker" | "arithmetic" | "consensus";

/** What a verifier concluded: `unknown` means it could not tell, never that the answer is doubtful. */
export type VerdictValue = "correct" | "incorrect" | "unknown";

/** One verifier's conclusion about one answer, with the reason in words and the evidence. */
export interface Verdict {
  verifier: VerifierName;
  verdict: VerdictValue;
  reason: string;
  detail?: Record<string, unknown>;
}
