import type { BackgroundIndexer, Services } from "../services.js";
import { reconcileIndex } from "./reconcile.js";

/** How the background indexer batches and compacts. */
export interface IndexerOptions {
  /**
   * how long writes gather before one batch indexes them all. 500 ms: in the solve benchmark (a solve every
   * ~25 ms) 50 ms batches left recall at 21 ms p50, 500 ms at 15 ms. Until its batch lands a new memory is
   * not yet an analogue, but the very same problem is found at once (recall checks its hash in the records).
   */
  delayMs?: number;
  /** writes to a bank after which its table is compacted (and its vector index built or extended) */
  optimizeEvery?: number;
}

/**
 * Keeps the search index in step with single writes (write-back, promotions, retirements) off the
 * request path: a write only marks its record pending; shortly after, pending records are indexed in one
 * batch per bank, and every so often the bank's table is compacted. Batching matters: each LanceDB write
 * makes a new version and data file, and a table of hundreds of small fragments searches ten times slower.
 *
 * Starts the background indexer of the services.
 */
export function startBackgroundIndexer(ctx: Services, options: IndexerOptions = {}): BackgroundIndexer {
  const delayMs = options.delayMs ?? 500;
  const optimizeEvery = options.optimizeEvery ?? 64;
  const pending = new Set<string>();
  const writesSinceOptimize = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  // one pass at a time: passes never race each other on the same table
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const pass = async () => {
    const banks = [...pending];
    pending.clear();
    for (const bankId of banks) {
      try {
        const { upserted, removed } = await reconcileIndex({ ctx, bankId });
        const writes = (writesSinceOptimize.get(bankId) ?? 0) + upserted + removed;
        if (writes >= optimizeEvery) {
          await ctx.index.optimize(bankId);
          writesSinceOptimize.set(bankId, 0);
        } else {
          writesSinceOptimize.set(bankId, writes);
        }
      } catch (err) {
        // the records still say what is pending: the next pass, or the next start-up, picks it up
        ctx.log.error({ err, bankId }, "background indexing failed; will retry");
        pending.add(bankId);
      }
    }
  };

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(pass);
    }, delayMs);
    timer.unref();
  };

  return {
    notify(bankId) {
      pending.add(bankId);
      schedule();
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
        running = running.then(pass);
      }
      await running;
    },
    async close() {
      closed = true;
      await this.flush();
    },
  };
}
