import type { Logger } from "../log.js";

/** Runs shadow solves in the background, after the request that made them has been answered. */
export interface ShadowRunner {
  /** a number in [0, 1): which solves are shadowed, and which example an ablation withholds */
  random(): number;
  /** How many shadow tasks of the bank are waiting or running. */
  pending(bankId: string): number;
  /** Queues a task for the bank; false when the runner is closed or its queue is full (the task is dropped). */
  start(bankId: string, task: () => Promise<void>): boolean;
  /** Resolves once every task queued so far has ended. */
  drained(): Promise<void>;
  /** Stops taking tasks and waits for the queued ones. */
  close(): Promise<void>;
}

// Shadows share the model gate with user solves; these bound what they may hold of it and of memory. A
// queue past QUEUED_AT_MOST drops the shadow: measuring must never pile up work behind live traffic.
const RUNNING_AT_MOST = 2;
const QUEUED_AT_MOST = 64;

/** A runner of shadow solves: at most two at once, a bounded queue, failures logged and never thrown. */
export function createShadowRunner({
  log,
  random = Math.random,
}: {
  log: Logger;
  random?: () => number;
}): ShadowRunner {
  const queue: { bankId: string; task: () => Promise<void> }[] = [];
  const perBank = new Map<string, number>();
  let running = 0;
  let closed = false;
  let idle: (() => void)[] = [];

  const settle = (bankId: string) => {
    const left = (perBank.get(bankId) ?? 1) - 1;
    if (left === 0) perBank.delete(bankId);
    else perBank.set(bankId, left);
  };
  const next = () => {
    while (running < RUNNING_AT_MOST && queue.length > 0) {
      const { bankId, task } = queue.shift() as (typeof queue)[number];
      running++;
      task()
        .catch((e) => log.warn({ err: e, bank: bankId }, "a shadow solve failed"))
        .finally(() => {
          running--;
          settle(bankId);
          next();
        });
    }
    if (running === 0 && queue.length === 0) {
      for (const done of idle) done();
      idle = [];
    }
  };

  return {
    random,
    pending: (bankId) => perBank.get(bankId) ?? 0,
    start(bankId, task) {
      if (closed || queue.length >= QUEUED_AT_MOST) return false;
      queue.push({ bankId, task });
      perBank.set(bankId, (perBank.get(bankId) ?? 0) + 1);
      // a macrotask later: the response of the request that made it is on its way first
      setImmediate(next);
      return true;
    },
    drained() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    async close() {
      closed = true;
      await this.drained();
    },
  };
}
