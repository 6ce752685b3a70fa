import { describe, expect, it } from "vitest";
import { canonicalAnswerOf, DOMAINS, domainOf } from "../src/domains/domain.js";
import { checkGame24 } from "../src/domains/game24.js";
import { gsm8kTestGold, readLabelledSolutions, SOLUTION_MODELS } from "./support/data.js";

const number = domainOf("number");
const game24 = domainOf("game24");
const choice = domainOf("choice");
const text = domainOf("text");

describe("number answer extraction", () => {
  it.each([
    ["GSM8K reference style", "16 - 3 - 4 = <<16-3-4=9>>9 eggs\n#### 18", "18"],
    ["the last #### line", "#### 12\nWait, I forgot the tax.\n#### 13", "13"],
    ["an A: final line", "She makes 9 * 2 = $<<9*2=18>>18.\nA: 18", "18"],
    ["a sentence", "So she makes 18 dollars a day. The answer is $1,018.", "$1,018"],
    ["a boxed answer", "Thus the total is $\\boxed{72}$ apples.", "72"],
    ["the last boxed answer", "\\boxed{5} is wrong; it is \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"],
    ["an Answer: line in markdown", "Steps...\n**Answer:** 4.5 hours", "4.5 hours"],
    ["the result of a sum after the marker", "Answer: 5 + 3 = 8", "8"],
    ["the last number when nothing is marked", "She has 3 + 4 = 7 apples, so she sells 7 * 2 = 14", "14"],
  ])("reads %s", (_, chain, expected) => {
    expect(number.extractAnswer(chain)).toBe(expected);
  });

  it("prefers #### over a phrase that comes after it", () => {
    expect(number.extractAnswer("#### 40\nThe answer is 40, not 4 times 10 = 41.")).toBe("40");
  });

  it("returns undefined for a chain without numbers", () => {
    expect(number.extractAnswer("I cannot solve this.")).toBeUndefined();
  });
});

describe("number canonicalization and equality", () => {
  it.each([
    ["$1,000.50", "1000.5"],
    ["72 apples", "72"],
    ["50%", "50"],
    ["18.0", "18"],
    ["-0.0", "0"],
    ["3/4", "0.75"],
    ["2 1/2 hours", "2.5"],
    ["-1.8 billion", "-1800000000"],
    ["1,450,000", "1450000"],
    [".5 cups", "0.5"],
    ["−3", "-3"],
    ["\\frac{3}{4}", "0.75"],
  ])("reads %s as %s", (answer, canonical) => {
    expect(number.canonicalize(answer)).toBe(canonical);
  });

  it("returns undefined for text without a number", () => {
    expect(number.canonicalize("none")).toBeUndefined();
  });

  it("compares numerically with a small relative tolerance", () => {
    expect(number.equal("0.3", String(0.1 + 0.2))).toBe(true);
    expect(number.equal("1000000", "1000000.5")).toBe(false);
    expect(number.equal("8.33", "8.333333333333334")).toBe(false);
    expect(number.equal("18", "19")).toBe(false);
  });
});

describe("game24 answer extraction", () => {
  it("reads the expression after Answer:, without = 24", () => {
    const chain =
      "13 - 9 = 4 (left: 4 4 10)\n10 - 4 = 6 (left: 4 6)\n4 * 6 = 24\nAnswer: (10 - 4) * (13 - 9) = 24";
    expect(game24.extractAnswer(chain)).toBe("(10 - 4) * (13 - 9)");
  });

  it("reads the last line that holds an expression when nothing is marked", () => {
    expect(game24.extractAnswer("Let me try.\nSo 8 / (3 - 8 / 3) = 24.\nDone!")).toBe("8 / (3 - 8 / 3)");
    expect(game24.extractAnswer("24 = (13 - 9) × (10 - 4)")).toBe("(13 - 9) * (10 - 4)");
  });

  it("gives an expression the checker accepts", () => {
    const raw = game24.extractAnswer("**Answer:** (10 − 4) × (13 − 9) = 24.") as string;
    expect(checkGame24([4, 9, 10, 13], raw)).toEqual({ ok: true });
  });

  it("returns undefined when there is no expression", () => {
    expect(game24.extractAnswer("I could not find a way to make 24.")).toBeUndefined();
  });

  it("canonicalizes away spacing, times signs and a trailing = 24", () => {
    expect(game24.canonicalize("(10 - 4) × (13 - 9) = 24")).toBe("(10-4)*(13-9)");
  });
});

describe("choice answer extraction", () => {
  it.each([
    ["The answer is (C).", "C"],
    ["so the answer is b", "B"],
    ["Answer: D) 42 apples", "D"],
    ["Reasoning...\n#### E", "E"],
    ["Both fail, so it must be\n(A)", "A"],
  ])("reads %j as %s", (chain, letter) => {
    expect(choice.canonicalize(choice.extractAnswer(chain) ?? "")).toBe(letter);
  });

  it("does not read a sentence that starts with A or I as an answer", () => {
    expect(choice.extractAnswer("Let me think.\nA good question, I am unsure.")).toBeUndefined();
  });
});

describe("text answer extraction", () => {
  it("reads the marked answer, else the last line, and canonicalizes case, spaces and the closing period", () => {
    expect(canonicalAnswerOf(text, "It is in France.\nAnswer: **Paris**.")).toBe("paris");
    expect(canonicalAnswerOf(text, "Thinking...\n  The  Eiffel Tower.  \n")).toBe("the eiffel tower");
  });
});

describe("format instructions", () => {
  const examples = { number: "1,000", game24: "(10 - 4) * (13 - 9)", choice: "C", text: "Paris" };
  it.each(DOMAINS)("%s: an answer that ends as the instruction says is extracted", (name) => {
    const domain = domainOf(name);
    const finalLine = domain.formatInstruction.match(/`(.+?) <[^>]+>`/)?.[1];
    expect(finalLine, domain.formatInstruction).toBeDefined();
    const chain = `Some reasoning with 3 + 4 = 7.\n${finalLine} ${examples[name]}`;
    expect(canonicalAnswerOf(domain, chain)).toBe(domain.canonicalize(examples[name]));
  });
});

// --- the acceptance test on real model output -------------------------------------------------------------

describe("number extraction on real GSM8K model solutions", () => {
  it("agrees with the is_correct label on at least 99.5% of the 5,276 solutions", () => {
    const goldByQuestion = gsm8kTestGold();
    const rows = readLabelledSolutions();
    const disagreements: string[] = [];
    let total = 0;
    for (const row of rows) {
      const gold = goldByQuestion.get(row.question);
      expect(gold, `no test.jsonl question matches "${row.question.slice(0, 60)}"`).toBeDefined();
      const goldCanonical = number.canonicalize(gold as string) as string;
      for (const model of SOLUTION_MODELS) {
        const { is_correct, solution } = row[model];
        total++;
        const extracted = number.extractAnswer(solution);
        const canonical = extracted === undefined ? undefined : number.canonicalize(extracted);
        const agrees = canonical !== undefined && number.equal(canonical, goldCanonical);
        if (agrees !== is_correct) {
          const ending = solution.trim().split("\n").at(-1)?.slice(0, 80);
          disagreements.push(
            `${model} gold=${goldCanonical} got=${canonical} label=${is_correct} | ${ending}`,
          );
        }
      }
    }
    const agreement = 1 - disagreements.length / total;
    console.log(
      `answer extraction agrees with is_correct on ${total - disagreements.length}/${total} ` +
        `(${(agreement * 100).toFixed(2)}%)${disagreements.length ? `; disagreements:\n${disagreements.join("\n")}` : ""}`,
    );
    expect(total).toBe(5276);
    expect(agreement).toBeGreaterThanOrEqual(0.995);
  });
});
