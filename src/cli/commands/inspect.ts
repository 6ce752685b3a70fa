import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { getRun, type RunRecord } from "../../reasoning/runs.js";
import { formatRun } from "../formatRun.js";
import { runningServerUrl, serverJson } from "../serverClient.js";

/** `precedent inspect <run-id> [--json]`: everything a solve did; through the running server when it holds the database. */
export async function inspectCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean", default: false } },
  });
  const id = positionals[0]?.trim();
  if (!id || positionals.length > 1) {
    throw new PrecedentError("invalid_input", "give exactly one run id (run_…)", "id");
  }
  const server = runningServerUrl(config);
  const run = server
    ? await serverJson<RunRecord>(config, server, `/v1/runs/${encodeURIComponent(id)}`)
    : await readRun(config, id);
  console.log(values.json ? JSON.stringify(run, null, 2) : formatRun(run));
  return 0;
}

async function readRun(config: Config, id: string): Promise<RunRecord> {
  const ctx = await openContext(config, { command: "inspect", readOnly: true });
  try {
    const run = await getRun(ctx.db, id);
    if (!run) throw new PrecedentError("not_found", `run "${id}" does not exist`, "id");
    return run;
  } finally {
    await ctx.close();
  }
}
