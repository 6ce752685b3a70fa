import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { kSchema, MAX_K } from "../../limits.js";
import { RECALL_SIGNALS, type RecallResult, type RecallScores } from "../../memory/recallResult.js";
import { runningServerUrl, serverJson } from "../serverClient.js";

/** `precedent recall --bank B "question"`: through the running server when it holds the embedded database. */
export async function recallCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { bank: { type: "string" }, k: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const query = positionals.join(" ").trim();
  if (!values.bank) throw new PrecedentError("invalid_input", "--bank is required", "bank");
  if (!query) throw new PrecedentError("invalid_input", "the question is missing", "query");
  const k = values.k === undefined ? undefined : Number(values.k);
  if (k !== undefined && !kSchema.safeParse(k).success) {
    throw new PrecedentError("invalid_input", `--k must be a whole number from 0 to ${MAX_K}`, "k");
  }

  const server = runningServerUrl(config);
  const result = server
    ? await serverJson<RecallResult>(config, server, `/v1/banks/${encodeURIComponent(values.bank)}/recall`, {
        method: "POST",
        body: { query, k },
      })
    : await recallDirectly(config, values.bank, query, k);
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatRecall(result));
  return 0;
}

async function recallDirectly(
  config: Config,
  bankId: string,
  query: string,
  k?: number,
): Promise<RecallResult> {
  // recall's own code loads while the stores open
  const [ctx, { getBank }, { recallAnalogues }] = await Promise.all([
    openContext(config, { command: "recall", readOnly: true, warm: [bankId] }),
    import("../../memory/banks.js"),
    import("../../memory/recall.js"),
  ]);
  try {
    const bank = await getBank(ctx.db, bankId);
    return await recallAnalogues({ ctx, bank, query, options: { k } });
  } finally {
    await ctx.close();
  }
}

/** A readable table of recalled memories and their scores. */
export function formatRecall(result: RecallResult): string {
  if (result.memories.length === 0) {
    return result.abstained
      ? `no memory reaches the match floor ${result.matchFloor} (${result.considered} considered): abstaining`
      : "no memories to recall";
  }
  const lines = result.memories.map((m) => {
    const s = m.scores;
    const problem = m.problem.length > 90 ? `${m.problem.slice(0, 87)}...` : m.problem;
    return [
      `#${m.rank} ${m.id}${m.exact ? " (exact match)" : ""}  answer ${m.answer}  [${m.verification}]`,
      `   ${scoreLine(s)}`,
      `   ${problem.replace(/\s+/g, " ")}`,
    ].join("\n");
  });
  return `${lines.join("\n")}\n(${result.considered} candidates, match floor ${result.matchFloor})`;
}

/** Every score of a recalled memory on one line; a signal not measured for it is left out. */
export function scoreLine(s: RecallScores): string {
  const names = ["final", ...RECALL_SIGNALS, "utility"] as const;
  return names
    .filter((name) => s[name] !== null)
    .map((name) => `${name} ${(s[name] as number).toFixed(3)}`)
    .join("  ");
}
