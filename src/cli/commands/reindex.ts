import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { getBank } from "../../memory/banks.js";
import { reindex } from "../../memory/reconcile.js";

/** `precedent reindex [--bank B]`: drops and rebuilds the index from the records. */
export async function reindexCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args, options: { bank: { type: "string" } } });
  const ctx = await openContext(config, { command: "reindex" });
  try {
    if (values.bank) await getBank(ctx.db, values.bank);
    const started = performance.now();
    const result = await reindex({ ctx, bankId: values.bank });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `reindexed ${result.upserted} memories${values.bank ? ` of ${values.bank}` : ""} in ${seconds.toFixed(1)} s`,
    );
    return 0;
  } finally {
    await ctx.close();
  }
}
