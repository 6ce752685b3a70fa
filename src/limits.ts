import { z } from "zod";

/**
 * The limits of what a caller may ask, in one place: REST and MCP schemas, the pipeline's options, bank
 * settings, evaluation options and the command line all take them from here (README "Limits").
 */

/** Characters of a problem's text: an imported or remembered problem, and a recall or solve query. */
export const MAX_PROBLEM_CHARS = 20_000;

/** Worked examples a recall or solve may ask for, and a bank's k. */
export const MAX_K = 50;

/** Chains of thought a solve may sample, and a bank's samples. */
export const MAX_SAMPLES = 64;

/** A recall or solve query: trimmed, not empty, at most MAX_PROBLEM_CHARS characters. */
export const querySchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(MAX_PROBLEM_CHARS, `must be at most ${MAX_PROBLEM_CHARS} characters`);

/** Worked examples to recall or inject: 0 to MAX_K. */
export const kSchema = z.number().int().min(0).max(MAX_K);

/** Chains of thought to sample: 1 to MAX_SAMPLES. */
export const samplesSchema = z.number().int().min(1).max(MAX_SAMPLES);
