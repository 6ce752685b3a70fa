import { beforeAll, describe, expect, it } from "vitest";
import { canonicalAnswerOf, domainOf } from "../src/domains/domain.js";
import { verifyArithmetic } from "../src/verify/arithmetic.js";
import { verifyConsensus } from "../src/verify/consensus.js";
import { verifyGame24 } from "../src/verify/game24.js";
import { verifyAgainstGold } from "../src/verify/gold.js";
import { gsm8kTestGold, readLabelledSolutions, SOLUTION_MODELS } from "./support/data.js";

const number = domainOf("number");

describe("gold verifier", () => {
  it("accepts an answer equal to the gold in the domain's sense", () => {
    const verdict = verifyAgainstGold({ domain: number, candidate: "$1,000.00", gold: "1,000" });
    expect(verdict).toMatchObject({ verifier: "gold", verdict: "correct" });
  });

  it("rejects a different answer and a missing one", () => {
    expect(verifyAgainstGold({ domain: number, candidate: "999", gold: "1000" }).verdict).toBe("incorrect");
    expect(verifyAgainstGold({ domain: number, candidate: undefined, gold: "1000" })).toMatchObject({
      verdict: "incorrect",
      reason: "no final answer found",
    });
  });

  it("cannot tell when the gold answer is not an answer of the domain", () => {
    expect(verifyAgainstGold({ domain: domainOf("choice"), candidate: "C", gold: "42" }).verdict).toBe(
      "unknown",
    );
  });
});

describe("game24 checker verifier", () => {
  it("accepts a valid expression and rejects an invalid one with the checker's reason", () => {
    expect(verifyGame24({ numbers: [4, 9, 10, 13], expression: "(10 - 4) * (13 - 9)" }).verdict).toBe(
      "correct",
    );
    expect(verifyGame24({ numbers: [4, 9, 10, 13], expression: "(10 + 4) * (13 - 9)" })).toMatchObject({
      verifier: "checker",
      verdict: "incorrect",
      reason: "equals 56, not 24",
    });
    expect(verifyGame24({ numbers: [4, 9, 10, 13], expression: undefined }).verdict).toBe("incorrect");
  });

  it("cannot tell without four puzzle numbers", () => {
    expect(verifyGame24({ numbers: undefined, expression: "4 * 6" }).verdict).toBe("unknown");
  });
});

describe("arithmetic verifier", () => {
  it("accepts a chain whose annotations and written steps all recompute", () => {
    const chain = "She sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\nShe makes 9 * $2 = $<<9*2=18>>18.\n#### 18";
    expect(verifyArithmetic(chain)).toMatchObject({ verdict: "correct", detail: { steps: 6 } });
  });

  it.each([
    ["chains of operations", "2 * 3 + 4 = 10 and 2(40 + 9) = 98"],
    ["rounding to the shown precision", "10 / 3 = 3.33 and 2 / 3 = 0.67 and 7 / 2 = 4"],
    ["thousands separators and currency", "1,200 * 2 = 2,400 and $350 000 x 5/100 = $17 500."],
    ["percent either way", "20% * 50 = 10 and 0.2 * 100 = 20% and <<50000*5%=2500>>2500"],
    ["units between the numbers", "9 hours * 2/3 = 6 hours and 15 pages x 1/3 = 5 pages"],
    ["mixed numbers and fraction signs", "3 1/2 - 2 = 1 1/2 and ¾ * 4 = 3 and 2¾ * 4 = 11"],
    ["a running total", "5 + 3 = 8 + 2 = 10"],
  ])("tolerates %s", (_, chain) => {
    expect(verifyArithmetic(chain).verdict).toBe("correct");
  });

  it("flags the first broken step with its line", () => {
    const chain = "He has 3 + 4 = <<3+4=7>>7 pens.\nHe buys 7 * 2 = 15 more.\nThen 15 - 1 = 13.";
    const verdict = verifyArithmetic(chain);
    expect(verdict).toMatchObject({ verdict: "incorrect", reason: "line 2: 7 * 2 = 15 recomputes to 14" });
  });

  it("flags a wrong calculator annotation and a number shown that differs from it", () => {
    expect(verifyArithmetic("So 16*7 = 112 eggs <<16*7=113>>").verdict).toBe("incorrect");
    expect(verifyArithmetic("She has <<13*2=26>>27 eggs")).toMatchObject({
      detail: { step: { kind: "display" } },
    });
  });

  it("rounding does not excuse an error of a whole unit", () => {
    expect(verifyArithmetic("5 * 3 = 16").verdict).toBe("incorrect");
    expect(verifyArithmetic("10 / 4 = 2.6").verdict).toBe("incorrect");
  });

  it("leaves algebra alone and cannot tell when there are no steps", () => {
    expect(verifyArithmetic("Multiplying, we get X*6 + 9 = 87 and 33 / 2 = 2x / 2").verdict).toBe("unknown");
    expect(verifyArithmetic("She eats three and bakes four.\nA: 9").verdict).toBe("unknown");
  });
});

describe("consensus verifier", () => {
  it("accepts a winner with at least the threshold share over enough samples (defaults 0.7 and 5)", () => {
    expect(verifyConsensus({ winnerShare: 0.7, samples: 5 }).verdict).toBe("correct");
    expect(verifyConsensus({ winnerShare: 0.6, samples: 10 }).verdict).toBe("unknown");
    expect(verifyConsensus({ winnerShare: 1, samples: 4 })).toMatchObject({
      verdict: "unknown",
      reason: /fewer/,
    });
  });

  it("takes the threshold and sample minimum as options and rejects invalid ones", () => {
    expect(verifyConsensus({ winnerShare: 0.75, samples: 4 }, { minSamples: 3 }).verdict).toBe("correct");
    expect(
      verifyConsensus({ winnerShare: 0.75, samples: 4 }, { threshold: 0.8, minSamples: 3 }).verdict,
    ).toBe("unknown");
    expect(() => verifyConsensus({ winnerShare: 1, samples: 5 }, { threshold: 1.5 })).toThrow();
  });
});

// --- measurement on real model output -------------------------------------------------------------------

/** Accepted/correct counts of one verifier over labelled items. */
class Tally {
  accepted = 0;
  acceptedCorrect = 0;
  correct = 0;
  flagged = 0;
  flaggedWrong = 0;
  add(verdict: string, isCorrect: boolean) {
    if (isCorrect) this.correct++;
    if (verdict === "correct") {
      this.accepted++;
      if (isCorrect) this.acceptedCorrect++;
    } else if (verdict === "incorrect") {
      this.flagged++;
      if (!isCorrect) this.flaggedWrong++;
    }
  }
  get precision() {
    return this.acceptedCorrect / this.accepted;
  }
  get recall() {
    return this.acceptedCorrect / this.correct;
  }
  get flagPrecision() {
    return this.flaggedWrong / this.flagged;
  }
}

describe("verifier precision and recall on the 5,276 labelled GSM8K solutions", () => {
  const tallies = { gold: new Tally(), arithmetic: new Tally(), consensus: new Tally() };
  let referenceFlags = 0;

  beforeAll(() => {
    const goldByQuestion = gsm8kTestGold();
    const rows = readLabelledSolutions();
    for (const row of rows) {
      const gold = goldByQuestion.get(row.question) as string;
      if (verifyArithmetic(row.ground_truth).verdict === "incorrect") referenceFlags++;
      const votes = new Map<string, { count: number; correct: boolean }>();
      for (const model of SOLUTION_MODELS) {
        const { is_correct, solution } = row[model];
        const candidate = number.extractAnswer(solution);
        tallies.gold.add(verifyAgainstGold({ domain: number, candidate, gold }).verdict, is_correct);
        tallies.arithmetic.add(verifyArithmetic(solution).verdict, is_correct);
        const answer = canonicalAnswerOf(number, solution);
        if (answer === undefined) continue;
        const key = [...votes.keys()].find((k) => number.equal(k, answer)) ?? answer;
        const vote = votes.get(key) ?? { count: 0, correct: is_correct };
        votes.set(key, { count: vote.count + 1, correct: vote.correct || is_correct });
      }
      // the four models' solutions are the samples of one question; the majority answer is what is verified
      const winner = [...votes.values()].reduce((a, b) => (b.count > a.count ? b : a), {
        count: 0,
        correct: false,
      });
      const verdict = verifyConsensus(
        { winnerShare: winner.count / SOLUTION_MODELS.length, samples: SOLUTION_MODELS.length },
        {
          threshold: 0.7,
          minSamples: 3,
        },
      );
      tallies.consensus.add(verdict.verdict, winner.correct);
    }
    const figure = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "  -  ");
    const table = Object.entries(tallies).map(
      ([name, t]) =>
        `${name.padEnd(11)} ${String(t.accepted).padStart(8)} ${figure(t.precision).padStart(9)} ` +
        `${figure(t.recall).padStart(6)} ${String(t.flagged).padStart(7)} ${figure(t.flagPrecision).padStart(14)}`,
    );
    console.log(
      [
        "verifier    accepted precision recall flagged flag precision",
        ...table,
        "game24      n/a: GSM8K has no game24 solutions; the checker is a decision procedure (see game24.test.ts)",
        `arithmetic flags ${referenceFlags} of the ${rows.length} reference rationales`,
      ].join("\n"),
    );
  });

  it("gold agrees with the labels almost perfectly", () => {
    expect(tallies.gold.precision).toBeGreaterThanOrEqual(0.995);
    expect(tallies.gold.recall).toBeGreaterThanOrEqual(0.995);
  });

  it("arithmetic acceptance alone is too weak to trust: most chains that recompute are still wrong", () => {
    expect(tallies.arithmetic.accepted).toBeGreaterThan(4000);
    expect(tallies.arithmetic.precision).toBeLessThan(0.6);
  });

  it("arithmetic flags are reliable: a chain with a broken step is wrong at least 85% of the time", () => {
    expect(tallies.arithmetic.flagged).toBeGreaterThan(100);
    expect(tallies.arithmetic.flagPrecision).toBeGreaterThanOrEqual(0.85);
    // the reference rationales are right: flags there are the checker's false alarms (or dataset typos)
    expect(referenceFlags).toBeLessThanOrEqual(10);
  });

  it("consensus over 3 of 4 samples picks out majority answers that are more often right", () => {
    const { consensus } = tallies;
    const questions = 1319;
    expect(consensus.precision).toBeGreaterThan(consensus.correct / questions + 0.1);
    expect(consensus.recall).toBeGreaterThan(0.5);
  });
});
