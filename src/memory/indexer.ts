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
  /** the wait before retrying a failed pass; it doubles with each failure in a row */
  retryMs?: number;
  /** the longest wait between retries */
  maxRetryMs?: number;
}

/**
 * Retry waits: 1 s, doubling to at most a minute. A failed pass is usually the index's storage or the
 * database going away for a moment; a minute bounds how stale the index gets once it is back, and retrying
 * no faster than that keeps a lasting outage from filling the log.
 */
const RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

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
  const retryMs = options.retryMs ?? RETRY_MS;
  const maxRetryMs = options.maxRetryMs ?? MAX_RETRY_MS;
  // failed passes in a row: the next retry waits retryMs · 2^(failures − 1)
  let failures = 0;
  const pending = new Set<string>();
  const writesSinceOptimize = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  // one pass at a time: passes never race each other on the same table
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const pass = async () => {
    const banks = [...pending];
    pending.clear();
    let failed = false;
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
        // the records still say what is pending: a retry, or the next start-up, picks it up
        failed = true;
        pending.add(bankId);
        ctx.log.error({ err, bankId, failures: failures + 1 }, "background indexing failed; will retry");
      }
    }
    if (!failed) {
      failures = 0;
      return;
    }
    failures += 1;
    if (timer) clearTimeout(timer);
    timer = undefined;
    schedule(Math.min(retryMs * 2 ** (failures - 1), maxRetryMs));
  };

  const schedule = (wait = delayMs) => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(pass);
    }, wait);
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
