import type { SourceRow } from "../src/memory/importProblems.js";
import { readJsonl } from "./jsonl.js";

/** Splits a GSM8K rationale into its reasoning and the final `#### N` answer. */
export function splitGsm8kAnswer(rationale: string): { reasoning: string; answer: string } | undefined {
  const match = rationale.match(/^([\s\S]*?)\n?####\s*(.+?)\s*$/);
  if (!match) return undefined;
  return { reasoning: (match[1] as string).trim(), answer: (match[2] as string).trim() };
}

/** Reads GSM8K's `{question, answer}` lines as gold-verified problems with their worked rationale. */
export async function* readGsm8k(path: string): AsyncGenerator<SourceRow> {
  for await (const row of readJsonl(path, { problem: "question", answer: "answer" })) {
    if ("error" in row) {
      yield row;
      continue;
    }
    const value = row.value as { problem: unknown; answer: unknown };
    if (typeof value.answer !== "string") {
      yield { line: row.line, error: "answer: missing" };
      continue;
    }
    const split = splitGsm8kAnswer(value.answer);
    if (!split) {
      yield { line: row.line, error: 'answer: no final "#### N" line' };
      continue;
    }
    yield { line: row.line, value: { problem: value.problem, verification: "gold", ...split } };
  }
}
