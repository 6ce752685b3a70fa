import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkGame24, solveGame24 } from "../src/domains/game24.js";
import { GAME24_CSV } from "./support/data.js";

// An oracle independent of src/domains/game24.ts: exact fractions over bigint, expressions as binary trees.
type Fraction = [bigint, bigint];
type Op = "+" | "-" | "*" | "/";
const OPS: Op[] = ["+", "-", "*", "/"];

function applyExact(op: Op, [an, ad]: Fraction, [bn, bd]: Fraction): Fraction | undefined {
  if (op === "+") return [an * bd + bn * ad, ad * bd];
  if (op === "-") return [an * bd - bn * ad, ad * bd];
  if (op === "*") return [an * bn, ad * bd];
  return bn === 0n ? undefined : [an * bd, ad * bn];
}
const isTwentyFour = (value: Fraction | undefined) => value !== undefined && value[0] === 24n * value[1];

type Tree = number | [Op, Tree, Tree];

/** The five shapes of a binary tree over four leaves, filled with numbers a..d in order and three operators. */
function treeOf(shape: number, [a, b, c, d]: number[], [o1, o2, o3]: Op[]): Tree {
  const [x, y, z] = [o1, o2, o3] as [Op, Op, Op];
  const [p, q, r, s] = [a, b, c, d] as [number, number, number, number];
  const shapes: Tree[] = [
    [z, [y, [x, p, q], r], s],
    [z, [x, p, [y, q, r]], s],
    [y, [x, p, q], [z, r, s]],
    [x, p, [z, [y, q, r], s]],
    [x, p, [y, q, [z, r, s]]],
  ];
  return shapes[shape] as Tree;
}

function exactValue(tree: Tree): Fraction | undefined {
  if (typeof tree === "number") return [BigInt(tree), 1n];
  const left = exactValue(tree[1]);
  const right = exactValue(tree[2]);
  return left && right ? applyExact(tree[0], left, right) : undefined;
}

function render(tree: Tree, spaced: boolean): string {
  if (typeof tree === "number") return String(tree);
  const gap = spaced ? " " : "";
  return `(${render(tree[1], spaced)}${gap}${tree[0]}${gap}${render(tree[2], spaced)})`;
}

const PERMUTATIONS = [0, 1, 2, 3]
  .flatMap((a) =>
    [0, 1, 2, 3].flatMap((b) => [0, 1, 2, 3].flatMap((c) => [0, 1, 2, 3].map((d) => [a, b, c, d]))),
  )
  .filter((p) => new Set(p).size === 4);

/** Whether any expression over the four numbers equals 24, by trying every tree. */
function solvableByOracle(numbers: number[]): boolean {
  for (const order of PERMUTATIONS) {
    const leaves = order.map((i) => numbers[i] as number);
    for (const o1 of OPS)
      for (const o2 of OPS)
        for (const o3 of OPS)
          for (let shape = 0; shape < 5; shape++) {
            if (isTwentyFour(exactValue(treeOf(shape, leaves, [o1, o2, o3])))) return true;
          }
  }
  return false;
}

const PUZZLES: number[][] = readFileSync(GAME24_CSV, "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => (line.split(",")[1] ?? "").trim().split(/\s+/).map(Number));

const puzzleArbitrary = fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 4, maxLength: 4 });
const solvablePuzzleArbitrary = fc.constantFrom(...PUZZLES);
const treeArbitrary = fc.record({
  shape: fc.integer({ min: 0, max: 4 }),
  order: fc.constantFrom(...PERMUTATIONS),
  ops: fc.array(fc.constantFrom(...OPS), { minLength: 3, maxLength: 3 }),
  spaced: fc.boolean(),
});

/** The expression with its k-th number literal replaced. */
function replaceNumber(expression: string, k: number, replacement: number): string {
  let seen = -1;
  return expression.replace(/\d+/g, (literal) => (++seen === k ? String(replacement) : literal));
}

describe("checkGame24 on known answers", () => {
  it("accepts known solutions", () => {
    expect(checkGame24([4, 9, 10, 13], "(10 - 4) * (13 - 9)")).toEqual({ ok: true });
    expect(checkGame24([3, 3, 8, 8], "8 / (3 - 8 / 3)")).toEqual({ ok: true });
    expect(checkGame24([1, 1, 4, 6], "6 × 4 × 1 × 1")).toEqual({ ok: true });
  });

  it("rejects an expression that does not equal 24, saying what it equals", () => {
    expect(checkGame24([4, 9, 10, 13], "(10 + 4) * (13 - 9)")).toEqual({
      ok: false,
      reason: "equals 56, not 24",
    });
    expect(checkGame24([3, 3, 8, 8], "8 / 3 - 8 / 3")).toMatchObject({ ok: false, reason: /equals 0/ });
  });

  it("rejects reused, missing and extra numbers", () => {
    expect(checkGame24([4, 9, 10, 13], "(10 - 4) * (10 - 6)").ok).toBe(false);
    expect(checkGame24([4, 9, 10, 13], "(10 - 4) * 4")).toMatchObject({ ok: false, reason: /uses 4,4,10/ });
    expect(checkGame24([1, 1, 4, 6], "4 * 6")).toMatchObject({
      ok: false,
      reason: /uses 4,6, the puzzle gives/,
    });
    expect(checkGame24([1, 1, 4, 6], "4 * 6 * 1 * 1 * 1").ok).toBe(false);
  });

  it("rejects unary minus, non-arithmetic input and numbers joined by a space", () => {
    expect(checkGame24([4, 9, 10, 13], "-4 + 10 + 9 + 13 - 4")).toMatchObject({ ok: false });
    expect(checkGame24([1, 2, 3, 4], "-(1 - 2 - 3) * 4")).toMatchObject({
      reason: "unary minus is not allowed",
    });
    expect(checkGame24([4, 9, 10, 13], "twenty-four").ok).toBe(false);
    expect(checkGame24([4, 9, 10, 13], "").ok).toBe(false);
    expect(checkGame24([4, 9, 10, 13], "(10 - 4) * (13 - 9) = 24").ok).toBe(false);
    expect(checkGame24([1, 2, 3, 4], "1 2 + 3 * 4").ok).toBe(false);
    expect(checkGame24([4, 9, 10, 13], "(10 - 4 * (13 - 9)").ok).toBe(false);
  });

  it("rejects division by zero instead of throwing", () => {
    expect(checkGame24([2, 2, 6, 4], "6 / (2 - 2) + 4")).toEqual({ ok: false, reason: "division by zero" });
  });
});

describe("solveGame24 on the Game of 24 dataset", () => {
  it("finds a checker-verified solution for every one of the 1,362 puzzles", () => {
    expect(PUZZLES).toHaveLength(1362);
    const failures = PUZZLES.filter((numbers) => {
      const solution = solveGame24(numbers);
      return !solution || !checkGame24(numbers, solution.expression).ok;
    });
    expect(failures).toEqual([]);
  });
});

describe("checkGame24 and solveGame24 properties", () => {
  it("finds a solution exactly when one exists, and the solution always passes the checker", () => {
    fc.assert(
      fc.property(puzzleArbitrary, (numbers) => {
        const solution = solveGame24(numbers);
        expect(solution !== undefined).toBe(solvableByOracle(numbers));
        if (solution) expect(checkGame24(numbers, solution.expression)).toEqual({ ok: true });
      }),
      { numRuns: 150 },
    );
  });

  it("accepts an expression tree over the four numbers iff it is exactly 24", () => {
    const outcomes = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.oneof(puzzleArbitrary, solvablePuzzleArbitrary), treeArbitrary, (numbers, tree) => {
        const expression = treeOf(
          tree.shape,
          tree.order.map((i) => numbers[i] as number),
          tree.ops,
        );
        const result = checkGame24(numbers, render(expression, tree.spaced));
        expect(result.ok).toBe(isTwentyFour(exactValue(expression)));
        outcomes[result.ok ? "accepted" : "rejected"]++;
      }),
      { numRuns: 3000 },
    );
    // both sides of the "iff" must have been exercised for the property to mean anything
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });

  it("rejects a solution once one of its numbers is changed, in the expression or in both", () => {
    fc.assert(
      fc.property(
        solvablePuzzleArbitrary,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 12 }),
        (numbers, k, shift) => {
          const { expression } = solveGame24(numbers) as { expression: string };
          const literal = Number(expression.match(/\d+/g)?.[k]);
          const replacement = ((literal - 1 + shift) % 13) + 1; // another number in 1..13
          const changed = replaceNumber(expression, k, replacement);
          expect(checkGame24(numbers, changed).ok).toBe(false);
          // the puzzle changed consistently: now only the value can be wrong, and it is
          const changedNumbers = [...numbers];
          changedNumbers[numbers.indexOf(literal)] = replacement;
          expect(checkGame24(changedNumbers, changed).ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
