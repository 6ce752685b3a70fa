import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { type ArmName, armsIn } from "../../eval/arms.js";
import { formatSummary } from "../../eval/format.js";
import { type EvalOptions, evalOptionsSchema } from "../../eval/options.js";
import { writeEvalReport } from "../../eval/report.js";
import { type EvalProgress, runEvaluation } from "../../eval/runEvaluation.js";

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new PrecedentError("invalid_input", `--${name}: "${value}" is not a number`, name);
  }
  return n;
}

/** One progress line on stderr. */
function progressLine(p: EvalProgress): string {
  if (p.type === "stream") {
    return (
      `eval: ${p.evaluated} problems × ${p.seeds} repetition${p.seeds === 1 ? "" : "s"}; leakage guard skipped ` +
      `${p.leaked} already in the bank; ${p.duplicates} repeated, ${p.rejected} rejected`
    );
  }
  if (p.type === "copied") {
    return `eval: repetition ${p.seed}: ${p.banks.copied} memories copied into ${p.banks.memory} and ${p.banks.static}`;
  }
  const arms = armsIn(p.record.arms);
  const marks = arms.map((a) => `${a} ${p.record.arms[a]?.correct ? "✓" : "✗"}`).join(" ");
  const totals = arms.map((a) => `${a} ${p.right[a] ?? 0}`).join(" ");
  return `eval: [${p.seed}] ${p.position + 1}/${p.total} ${marks} · right so far: ${totals}`;
}

/**
 * `precedent eval --bank B --from <split>`: runs the memory, static and control arms on the same problems,
 * prints progress to stderr and the summary to stdout, and writes result.json and report.html.
 */
export async function evalCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      bank: { type: "string" },
      from: { type: "string" },
      limit: { type: "string" },
      samples: { type: "string" },
      k: { type: "string" },
      seeds: { type: "string" },
      shuffle: { type: "boolean", default: false },
      "no-adaptive": { type: "boolean", default: false },
      temperature: { type: "string" },
      out: { type: "string" },
      discard: { type: "boolean", default: false },
      arms: { type: "string" },
      "problem-field": { type: "string" },
      "question-field": { type: "string" },
      "answer-field": { type: "string" },
      "reasoning-field": { type: "string" },
    },
  });
  if (!values.bank) throw new PrecedentError("invalid_input", "--bank is required", "bank");
  if (!values.from) {
    throw new PrecedentError(
      "invalid_input",
      "--from is required (gsm8k, gsm8k-train, game24 or a file)",
      "from",
    );
  }
  if (!config.model) {
    throw new PrecedentError(
      "unavailable",
      "no model is configured: set PRECEDENT_MODEL (and OPENAI_BASE_URL, OPENAI_API_KEY for your endpoint) to evaluate",
    );
  }
  const input: EvalOptions = {
    bank: values.bank,
    from: values.from,
    limit: number("limit", values.limit),
    samples: number("samples", values.samples),
    k: number("k", values.k),
    seeds: number("seeds", values.seeds),
    temperature: number("temperature", values.temperature),
    shuffle: values.shuffle,
    adaptive: !values["no-adaptive"],
    discard: values.discard,
    ...(values.arms === undefined ? {} : { arms: values.arms.split(",").map((a) => a.trim()) as ArmName[] }),
    dataDir: config.dataDir,
    fields: {
      problem: values["problem-field"] ?? values["question-field"] ?? "problem",
      answer: values["answer-field"] ?? "answer",
      reasoning: values["reasoning-field"] ?? "reasoning",
    },
  };
  const parsed = evalOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "options");
    throw new PrecedentError("invalid_input", `--${field}: ${issue?.message}`, field);
  }

  const ctx = await openContext(config, { command: "eval" });
  try {
    const result = await runEvaluation({
      ctx,
      options: input,
      onProgress: (p) => console.error(progressLine(p)),
    });
    const dir = resolve(values.out ?? `eval-results/${result.id}`);
    const written = await writeEvalReport(result, dir);
    console.log(formatSummary(result));
    console.log(`\nresult ${written.json}\nreport ${written.html}`);
    return 0;
  } finally {
    await ctx.close();
  }
}
