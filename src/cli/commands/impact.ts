import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { type BankImpact, bankImpact, type Effect } from "../../reasoning/impact.js";
import { runningServerUrl, serverJson } from "../serverClient.js";

/** `precedent impact --bank <bank> [--json]`: what the bank's memory does, from its shadow runs. */
export async function impactCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { bank: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const bankId = values.bank?.trim();
  if (!bankId) throw new PrecedentError("invalid_input", "give the bank: --bank <bank>", "bank");
  const server = runningServerUrl(config);
  const impact = server
    ? await serverJson<BankImpact>(config, server, `/v1/banks/${encodeURIComponent(bankId)}/impact`)
    : await readImpact(config, bankId);
  console.log(values.json ? JSON.stringify(impact, null, 2) : formatImpact(bankId, impact));
  return 0;
}

async function readImpact(config: Config, bankId: string): Promise<BankImpact> {
  const ctx = await openContext(config, { command: "impact", readOnly: true });
  try {
    return await bankImpact({ ctx, input: { bankId } });
  } finally {
    await ctx.close();
  }
}

const percent = (x: number | null) => (x === null ? "–" : `${(100 * x).toFixed(1)}%`);
const points = (x: number | null) => (x === null ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);
const interval = (e: Effect) =>
  e.low === null ? "" : ` (95% interval ${points(e.low)} to ${points(e.high)})`;

/** The impact as lines of text: the lift, then the memories whose effect is known, most harmful first. */
export function formatImpact(bankId: string, impact: BankImpact): string {
  const { control } = impact;
  const lines = [`bank ${bankId}: does memory help?`];
  if (control.pairs === 0) {
    lines.push(
      "  no shadow control runs yet: set the bank's shadowRate (e.g. 0.05) to measure it on live traffic",
    );
  } else {
    lines.push(
      `  ${control.pairs} runs with a shadow control (same query, no examples); ${control.judged} judged against ground truth`,
    );
    if (control.judged > 0) {
      lines.push(
        `  accuracy with memory ${percent(control.withMemory.rate)}, without ${percent(control.withoutMemory.rate)}`,
        `  lift ${points(control.lift.difference)} points${interval(control.lift)}, McNemar p ${control.pValue?.toFixed(3)}` +
          ` (${control.memoryOnly} right only with memory, ${control.controlOnly} only without)`,
      );
    }
    lines.push(`  answers agree in ${percent(control.agreement)} of pairs`);
  }
  const known = impact.memories.filter((m) => m.judged > 0);
  if (known.length > 0) {
    lines.push("memories withheld by ablation shadows (effect: accuracy shown − withheld):");
    for (const m of known) {
      lines.push(`  ${m.memoryId}  ${points(m.difference)} points over ${m.judged} judged${interval(m)}`);
    }
  }
  return lines.join("\n");
}
