import { z } from "zod";
import { kSchema, samplesSchema } from "../limits.js";
import { decodingSchema, MAX_BRANCHES } from "./cotDecoding.js";
import { strategySchema } from "./strategy.js";
import { selectionSchema } from "./universalSelection.js";

/** What a solve may be asked beyond its query; REST, chat completions, MCP, the CLI and eval share it. */
export const solveOptionsSchema = z
  .object({
    /** worked examples to inject (default: the bank's k) */
    k: kSchema.optional(),
    /** chains of thought to sample, the cap when adaptive (default: the bank's samples) */
    samples: samplesSchema.optional(),
    temperature: z.number().min(0).max(2).default(0.7),
    /** stop sampling once the leading answer cannot be overtaken with high probability (default: true) */
    adaptive: z.boolean().optional(),
    batchSize: z.number().int().min(1).max(16).default(4),
    /** the known answer, when the caller has one (an evaluation): the gold verifier checks against it */
    gold: z.string().min(1).max(5_000).optional(),
    /** answer an exact, trusted memory of this very problem from memory, without calling the model */
    reuseMemory: z.boolean().default(true),
    /** store the solution as a memory (evaluation control arms turn this off) */
    writeBack: z.boolean().default(true),
    /** how to prompt (default: the bank's strategy; see src/reasoning/strategy.ts) */
    strategy: strategySchema.optional(),
    /** how the answer is picked among the samples (default: the bank's; universal for text, else vote) */
    selection: selectionSchema.optional(),
    /** sample (self-consistency) or cot-decoding (see src/reasoning/cotDecoding.ts) */
    decoding: decodingSchema.default("sample"),
    /** cot-decoding: the first-token alternatives continued (default 10) */
    branches: z.number().int().min(2).max(MAX_BRANCHES).optional(),
  })
  .strict();
export type SolveOptions = z.input<typeof solveOptionsSchema>;
