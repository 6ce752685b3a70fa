import { parseArgs } from "node:util";
import type { z } from "zod";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { getBank } from "../../memory/banks.js";
import { decodingSchema } from "../../reasoning/cotDecoding.js";
import { solve } from "../../reasoning/pipeline.js";
import type { SolveResult } from "../../reasoning/solveResult.js";
import { strategySchema } from "../../reasoning/strategy.js";
import { selectionSchema } from "../../reasoning/universalSelection.js";

/** `precedent solve --bank B "question"`: recall, sample, vote, verify, write back; prints the outcome. */
export async function solveCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      bank: { type: "string" },
      k: { type: "string" },
      samples: { type: "string" },
      gold: { type: "string" },
      strategy: { type: "string" },
      selection: { type: "string" },
      decoding: { type: "string" },
      branches: { type: "string" },
      "no-adaptive": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const query = positionals.join(" ").trim();
  if (!values.bank) throw new PrecedentError("invalid_input", "--bank is required", "bank");
  if (!query) throw new PrecedentError("invalid_input", "the question is missing", "query");
  const ctx = await openContext(config, { command: "solve" });
  try {
    const bank = await getBank(ctx.db, values.bank);
    const result = await solve({
      ctx,
      bank,
      query,
      options: {
        k: values.k === undefined ? undefined : Number(values.k),
        samples: values.samples === undefined ? undefined : Number(values.samples),
        gold: values.gold,
        strategy: choice(strategySchema, values.strategy, "strategy"),
        selection: choice(selectionSchema, values.selection, "selection"),
        decoding: choice(decodingSchema, values.decoding, "decoding"),
        branches: values.branches === undefined ? undefined : Number(values.branches),
        // unset unless turned off: cot-decoding refuses adaptive sampling asked for explicitly
        adaptive: values["no-adaptive"] ? false : undefined,
      },
    });
    console.log(values.json ? JSON.stringify(result, null, 2) : formatSolve(result));
    return result.status === "failed" ? 1 : 0;
  } finally {
    await ctx.close();
  }
}

/** The value of a `--flag` that names one of an enum's options; an error naming the flag and the options. */
function choice<T extends string>(
  schema: z.ZodEnum<Record<T, T>>,
  value: string | undefined,
  flag: string,
): T | undefined {
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PrecedentError("invalid_input", `--${flag} must be one of ${schema.options.join(", ")}`, flag);
  }
  return parsed.data as T;
}

/** The outcome of a solve, readably. */
export function formatSolve(r: SolveResult): string {
  const lines = [
    `answer ${r.answer ?? "(none)"}  verdict ${r.verdict} by ${r.verification}  confidence ${r.confidence?.toFixed(2) ?? "-"}`,
    `  ${r.reason}`,
    `  ${r.samples} samples, ${r.recalled.length} memories recalled${r.recalled.length ? `: ${r.recalled.map((m) => m.memoryId).join(", ")}` : ""}`,
  ];
  if (r.writtenMemory) lines.push(`  memory ${r.writtenMemory.memoryId}: ${r.writtenMemory.action}`);
  lines.push(`  run ${r.runId} (${r.status}, ${r.timings.totalMs} ms)`);
  return lines.join("\n");
}
