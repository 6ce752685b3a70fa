import { type Proportion, wilsonInterval } from "../eval/statistics.js";

/**
 * The verifications that know the right answer: a gold answer, a domain checker, or a person's feedback.
 * Accuracy is measured on these alone; agreement among samples (consensus) is evidence, not truth.
 */
export const GROUND_TRUTH_VERIFICATIONS = ["gold", "checker", "feedback"] as const;

/** Whether a verdict reached by `verification` (or confirmed or refuted by feedback) knows the right answer. */
export function knowsTheAnswer(verification: string, hadFeedback: boolean): boolean {
  return hadFeedback || (GROUND_TRUTH_VERIFICATIONS as readonly string[]).includes(verification);
}

/** Accuracy over answers judged against ground truth: the rate with its 95% Wilson interval and count. */
export function accuracyOf(correct: number, judged: number): Proportion {
  return wilsonInterval(correct, judged);
}
