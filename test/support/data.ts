import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";

/** The shared datasets folder (GSM8K, Game of 24), as the project reads it. */
export const DATA_DIR = resolve(
  process.env.PRECEDENT_DATA_DIR ?? join(import.meta.dirname, "..", "..", "..", "shared", "data"),
);
export const GSM8K_TRAIN = join(DATA_DIR, "gsm8k", "train.jsonl");
export const GSM8K_TEST = join(DATA_DIR, "gsm8k", "test.jsonl");
export const GSM8K_MODEL_SOLUTIONS_FILE = join(DATA_DIR, "gsm8k", "example_model_solutions.jsonl");
export const GAME24_CSV = join(DATA_DIR, "game24", "24.csv");

/** A JSON-lines file, each line checked against a schema. */
export function readJsonl<T>(path: string, schema: z.ZodType<T>): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => schema.parse(JSON.parse(line)));
}

/** The four GPT-3 based models whose labelled solutions example_model_solutions.jsonl holds. */
export const SOLUTION_MODELS = [
  "6b_finetuning",
  "6b_verification",
  "175b_finetuning",
  "175b_verification",
] as const;

const labelledSolutionSchema = z.object({ is_correct: z.boolean(), solution: z.string() });
const exampleRowSchema = z.object({
  question: z.string(),
  ground_truth: z.string(),
  "6b_finetuning": labelledSolutionSchema,
  "6b_verification": labelledSolutionSchema,
  "175b_finetuning": labelledSolutionSchema,
  "175b_verification": labelledSolutionSchema,
});

/** The 1,319 GSM8K test questions with four labelled real model solutions each. */
export function readLabelledSolutions() {
  return readJsonl(GSM8K_MODEL_SOLUTIONS_FILE, exampleRowSchema);
}

/** GSM8K test questions → their gold `#### N` answer. */
export function gsm8kTestGold(): Map<string, string | undefined> {
  const rows = readJsonl(GSM8K_TEST, z.object({ question: z.string(), answer: z.string() }));
  return new Map(rows.map((row) => [row.question, row.answer.match(/^####\s*(.+)$/m)?.[1]]));
}
