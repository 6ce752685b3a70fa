import { jsonLineRow, type SourceRow } from "../src/memory/importProblems.js";
import { readLines } from "./readLines.js";

/** Which field of each JSON line holds which part of a solved problem. */
export interface FieldMapping {
  problem: string;
  answer: string;
  reasoning?: string;
  verification?: string;
}

export const DEFAULT_FIELDS: FieldMapping = {
  problem: "problem",
  answer: "answer",
  reasoning: "reasoning",
  verification: "verification",
};

function field(obj: Record<string, unknown>, path: string): unknown {
  let value: unknown = obj;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Reads any JSONL file of solved problems; a line that is not JSON is reported, not fatal. */
export async function* readJsonl(
  path: string,
  fields: FieldMapping = DEFAULT_FIELDS,
): AsyncGenerator<SourceRow> {
  for await (const { line, text } of readLines(path)) {
    if (text.trim() === "") continue;
    const row = jsonLineRow(line, text);
    if ("error" in row) {
      yield row;
      continue;
    }
    const obj = row.value;
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      yield { line, error: "not a JSON object" };
      continue;
    }
    const record = obj as Record<string, unknown>;
    const value: Record<string, unknown> = {
      problem: field(record, fields.problem),
      answer: field(record, fields.answer),
    };
    if (fields.reasoning && field(record, fields.reasoning) !== undefined) {
      value.reasoning = field(record, fields.reasoning);
    }
    if (fields.verification && field(record, fields.verification) !== undefined) {
      value.verification = field(record, fields.verification);
    }
    if (typeof value.answer === "number") value.answer = String(value.answer);
    yield { line, value };
  }
}
