import { checkGame24 } from "../domains/game24.js";
import type { Verdict } from "./verdict.js";

export interface Game24Input {
  /** The puzzle's four numbers, e.g. from parsePuzzle(problem). */
  numbers: number[] | undefined;
  /** The expression extracted from the chain of thought, e.g. by extractGame24Expression. */
  expression: string | undefined;
}

/**
 * The Game of 24 checker: the expression must use the puzzle's four numbers exactly once each and equal 24
 * under exact rational arithmetic. A full decision procedure, so it needs no measurement: a `correct` verdict
 * is correct by construction (the test suite checks it on all 1,362 puzzles and random expression trees).
 */
export function verifyGame24({ numbers, expression }: Game24Input): Verdict {
  if (numbers?.length !== 4) {
    return { verifier: "checker", verdict: "unknown", reason: "the problem does not state four numbers" };
  }
  if (expression === undefined) {
    return { verifier: "checker", verdict: "incorrect", reason: "no expression found", detail: { numbers } };
  }
  const check = checkGame24(numbers, expression);
  return check.ok
    ? {
        verifier: "checker",
        verdict: "correct",
        reason: `${expression} = 24`,
        detail: { numbers, expression },
      }
    : { verifier: "checker", verdict: "incorrect", reason: check.reason, detail: { numbers, expression } };
}
