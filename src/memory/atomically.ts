import type { BackgroundIndexer, Services } from "../services.js";
import { reconcileIndex } from "./reconcile.js";

const DEADLOCK = "40P01";
const ATTEMPTS = 3;

/**
 * Runs `fn` in one database transaction, with a context whose queries go through it: what it writes is
 * committed together or not at all. The index is written only after the commit (the banks `fn` changed are
 * handed to the background indexer, or reconciled at once without one), so it never holds what the records
 * do not; a crash in between leaves records marked unindexed, which the next reconcile copies. A Postgres
 * deadlock (two solves crediting the same memories in another order) is retried.
 */
export async function atomically<T, C extends Services = Services>(
  ctx: C,
  fn: (tx: C) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const changed = new Set<string>();
    const collector: BackgroundIndexer = {
      notify: (bankId) => changed.add(bankId),
      flush: async () => {},
      close: async () => {},
    };
    let result: T;
    try {
      result = await ctx.db.transaction((tx) => fn({ ...ctx, db: tx, indexer: collector }));
    } catch (e) {
      if (attempt < ATTEMPTS && codeOf(e) === DEADLOCK) continue;
      throw e;
    }
    for (const bankId of changed) {
      if (ctx.indexer) ctx.indexer.notify(bankId);
      else await reconcileIndex({ ctx, bankId });
    }
    return result;
  }
}

/** The SQLSTATE of a driver error, wherever the driver put it. */
function codeOf(e: unknown): string | undefined {
  const error = e as { code?: unknown; cause?: { code?: unknown } };
  const code = error?.code ?? error?.cause?.code;
  return typeof code === "string" ? code : undefined;
}
