import { game24Problem, solveGame24 } from "../src/domains/game24.js";
import type { SourceRow } from "../src/memory/importProblems.js";
import { readLines } from "./readLines.js";

/**
 * Reads the Game of 24 puzzles CSV (`Rank,Puzzles,…`). The file gives no solutions: each puzzle is solved
 * by exhaustive search and the expression is checker-verified; the steps become the worked reasoning.
 */
export async function* readGame24(path: string): AsyncGenerator<SourceRow> {
  let header: string[] | undefined;
  for await (const { line, text } of readLines(path)) {
    if (text.trim() === "") continue;
    const cells = text.split(",");
    if (!header) {
      header = cells.map((c) => c.trim());
      if (!header.includes("Puzzles")) {
        yield { line, error: 'header: no "Puzzles" column' };
        return;
      }
      continue;
    }
    const puzzle = cells[header.indexOf("Puzzles")]?.trim() ?? "";
    const numbers = puzzle.split(/\s+/).map(Number);
    if (numbers.length !== 4 || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
      yield { line, error: `Puzzles: "${puzzle}" is not four whole numbers` };
      continue;
    }
    const solution = solveGame24(numbers);
    if (!solution) {
      yield { line, error: `Puzzles: ${puzzle} has no solution` };
      continue;
    }
    const rank = Number(cells[header.indexOf("Rank")]);
    yield {
      line,
      value: {
        problem: game24Problem(numbers),
        answer: solution.expression,
        reasoning: [...solution.steps, `So ${solution.expression} = 24.`].join("\n"),
        verification: "checker",
        metadata: Number.isFinite(rank) ? { rank } : {},
      },
    };
  }
}
