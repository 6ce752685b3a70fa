import type { Services } from "../services.js";
import { listBanks } from "./banks.js";

/**
 * Builds every bank's lexicon in the background after a server starts, so the first recall of a bank
 * does not wait for it (about 1.2 s per 10k memories; the build yields to requests as it goes). It stops
 * after the bank it is on once `until.stopped` is set.
 */
export async function warmLexicons(ctx: Services, until: { stopped: boolean }): Promise<void> {
  for (const bank of await listBanks(ctx.db)) {
    if (until.stopped) return;
    const started = performance.now();
    try {
      const { lexicon } = await ctx.index.lexicon(bank.id);
      ctx.log.debug(
        { bank: bank.id, memories: lexicon.size, ms: Math.round(performance.now() - started) },
        "lexicon ready",
      );
    } catch (err) {
      ctx.log.warn({ err, bank: bank.id }, "could not build the bank's lexicon ahead of its first recall");
    }
  }
}
