import { describe, expect, it } from "vitest";
import { type Domain, domainOf } from "../src/domains/domain.js";
import { type Ballot, vote } from "../src/reasoning/vote.js";

const number = domainOf("number");
const choice = domainOf("choice");

/** A ballot as the sampler makes it: the answer read out of a chain, canonicalized by the domain. */
function ballot(domain: Domain, chain: string, confidence?: number): Ballot {
  const answer = domain.extractAnswer(chain);
  return {
    answer,
    answerCanonical: answer === undefined ? undefined : domain.canonicalize(answer),
    confidence,
  };
}

const chains = (domain: Domain, answers: string[], confidences: (number | undefined)[] = []) =>
  answers.map((a, i) => ballot(domain, `Some reasoning.\n#### ${a}`, confidences[i]));

describe("majority vote", () => {
  it("elects the most frequent answer and tallies every answer, heaviest first", () => {
    const result = vote(chains(number, ["18", "18", "20", "18", "17"]), number);
    expect(result.winner).toEqual({ answer: "18", display: "18", weight: 3, count: 3, share: 0.6 });
    expect(result.tallies.map((t) => [t.answer, t.count])).toEqual([
      ["18", 3],
      ["20", 1],
      ["17", 1],
    ]);
    expect(result.confidence).toBe(0.6);
    expect(result.voters).toBe(5);
  });

  it("works for letter answers too", () => {
    const ballots = ["B", "b", "C"].map((letter) => ballot(choice, `Reasoning.\nAnswer: ${letter}`));
    expect(vote(ballots, choice).winner).toMatchObject({ answer: "B", count: 2 });
  });
});

describe("answer equality", () => {
  it('counts "$1,000" and "1000.0" as one answer, displayed as first written', () => {
    const result = vote(chains(number, ["$1,000", "999", "1000.0", "999"]), number);
    expect(result.tallies).toHaveLength(2);
    expect(result.winner).toMatchObject({ answer: "1000", display: "$1,000", count: 2 });
  });

  it("groups with the domain's equality, not string equality of the canonical forms", () => {
    // two canonical strings that number.equal takes for the same value (float noise of 0.1 + 0.2)
    const ballots: Ballot[] = [
      { answer: "0.3", answerCanonical: "0.3" },
      { answer: "0.30000000000000004", answerCanonical: "0.30000000000000004" },
      { answer: "0.4", answerCanonical: "0.4" },
    ];
    expect(vote(ballots, number).winner).toMatchObject({ answer: "0.3", count: 2 });
    expect(vote(ballots, choice).tallies).toHaveLength(3);
  });
});

describe("confidence weighting", () => {
  it("lets two confident samples outvote three hesitant ones when every voter has a confidence", () => {
    const result = vote(chains(number, ["5", "5", "6", "6", "6"], [0.9, 0.9, 0.3, 0.3, 0.3]), number);
    expect(result.weighted).toBe(true);
    expect(result.winner).toMatchObject({ answer: "5", count: 2 });
    expect(result.winner?.weight).toBeCloseTo(1.8, 12);
    expect(result.confidence).toBeCloseTo(1.8 / 2.7, 12);
  });

  it("falls back to one vote per sample when any voter lacks a confidence", () => {
    const result = vote(chains(number, ["5", "5", "6", "6", "6"], [0.9, 0.9, 0.3, 0.3]), number);
    expect(result.weighted).toBe(false);
    expect(result.winner).toMatchObject({ answer: "6", weight: 3, count: 3, share: 0.6 });
  });

  it("ignores the confidence of samples that do not vote when deciding to weight", () => {
    const ballots = [...chains(number, ["5", "6", "6"], [0.9, 0.3, 0.3]), ballot(number, "No idea.")];
    const result = vote(ballots, number);
    expect(result.weighted).toBe(true);
    expect(result.winner?.answer).toBe("5");
  });
});

describe("ties", () => {
  it("go to the answer whose first sample came earlier", () => {
    expect(vote(chains(number, ["7", "8", "8", "7"]), number).winner?.answer).toBe("7");
    expect(vote(chains(number, ["8", "7", "7", "8"]), number).winner?.answer).toBe("8");
  });

  it("go to the earlier answer for equal weights too", () => {
    const result = vote(chains(number, ["3", "4"], [0.5, 0.5]), number);
    expect(result.tallies.map((t) => t.answer)).toEqual(["3", "4"]);
  });
});

describe("samples without an answer", () => {
  it("do not vote", () => {
    const ballots = [ballot(number, "I cannot tell."), ...chains(number, ["2", "3", "3"])];
    const result = vote(ballots, number);
    expect(result.voters).toBe(3);
    expect(result.winner).toMatchObject({ answer: "3", share: 2 / 3 });
  });

  it("leave no winner and confidence 0 when none has an answer", () => {
    const result = vote([ballot(number, "Hmm."), ballot(number, "No clue.")], number);
    expect(result).toEqual({ winner: undefined, tallies: [], weighted: false, confidence: 0, voters: 0 });
    expect(vote([], number).voters).toBe(0);
  });
});
