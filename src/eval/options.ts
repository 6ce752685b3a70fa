import { z } from "zod";
import { kSchema, samplesSchema } from "../limits.js";
import { ARMS, DEFAULT_ARMS } from "./arms.js";

/** Which field of each JSON line holds which part of a problem (as `precedent seed` maps them). */
export const fieldMappingSchema = z
  .object({
    problem: z.string().min(1).default("problem"),
    answer: z.string().min(1).default("answer"),
    reasoning: z.string().min(1).optional(),
  })
  .strict();

/** What an evaluation runs: which bank, which split, how many problems, seeds and samples. */
export const evalOptionsSchema = z
  .object({
    /** the seeded bank the arms start from (never written to: the arms run in copies of it) */
    bank: z.string().min(1),
    /** `gsm8k` (the test split), `gsm8k-train`, `game24`, or a JSONL file (a `.csv` is read as Game of 24) */
    from: z.string().min(1),
    /** evaluate at most this many problems (after the leakage guard) */
    limit: z.number().int().min(1).optional(),
    /** chains of thought per solve, the cap when adaptive (default: the bank's) */
    samples: samplesSchema.optional(),
    /** worked examples for the memory and static arms (default: the bank's) */
    k: kSchema.min(1).optional(),
    adaptive: z.boolean().default(true),
    temperature: z.number().min(0).max(2).default(0.7),
    /** repetitions; repetition r shuffles with seed r when `shuffle` is on */
    seeds: z.number().int().min(1).max(20).default(1),
    /** a seeded shuffle of the stream order per repetition (the same order for every arm) */
    shuffle: z.boolean().default(false),
    /** field mapping for a JSONL split */
    fields: fieldMappingSchema.optional(),
    /** where the built-in datasets live */
    dataDir: z.string().min(1),
    /** significance level of the paired tests */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** the arms to run and compare (src/eval/arms.ts), at least two, each once */
    arms: z
      .array(z.enum(ARMS))
      .min(2, "give at least two arms to compare")
      .refine((arms) => new Set(arms).size === arms.length, "each arm once")
      .default(DEFAULT_ARMS),
    /** delete the scratch banks (and so the arms' runs) once the result is computed */
    discard: z.boolean().default(false),
  })
  .strict();

export type EvalOptions = z.input<typeof evalOptionsSchema>;
export type ParsedEvalOptions = z.infer<typeof evalOptionsSchema>;
