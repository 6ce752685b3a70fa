import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { describeRows, importDatabase } from "../../db/backup.js";
import { PrecedentError } from "../../errors.js";
import { reindex } from "../../memory/reconcile.js";

/**
 * The lines of a file (or stdin), read only once iterated: a readline interface created earlier would
 * emit lines before anyone listens, and they would be lost.
 */
async function* linesOf(file: string): AsyncGenerator<string> {
  const input = file === "-" ? process.stdin : createReadStream(file);
  yield* createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
}

/**
 * `precedent import <backup.ndjson | ->`: restores what `precedent export --all` wrote into an empty
 * database (all or nothing), then rebuilds the search index from the restored records.
 */
export async function importCommand(args: string[], config: Config): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0) {
    throw new PrecedentError("invalid_input", "give one backup file (or - for standard input)", "file");
  }
  const ctx = await openContext(config, { command: "import" });
  try {
    const started = performance.now();
    const rows = await importDatabase({ db: ctx.db, lines: linesOf(file) });
    // reindex compacts each bank afterwards, building the vector index of a bank large enough for one
    const indexed = await reindex({ ctx });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`restored ${describeRows(rows)}; indexed ${indexed.upserted} memories in ${seconds} s`);
    return 0;
  } finally {
    await ctx.close();
  }
}
