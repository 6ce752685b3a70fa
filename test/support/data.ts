import { join, resolve } from "node:path";

/** The shared datasets folder (GSM8K, Game of 24), as the project reads it. */
export const DATA_DIR = resolve(
  process.env.PRECEDENT_DATA_DIR ?? join(import.meta.dirname, "..", "..", "..", "shared", "data"),
);
export const GSM8K_TRAIN = join(DATA_DIR, "gsm8k", "train.jsonl");
export const GSM8K_TEST = join(DATA_DIR, "gsm8k", "test.jsonl");
export const GAME24_CSV = join(DATA_DIR, "game24", "24.csv");
