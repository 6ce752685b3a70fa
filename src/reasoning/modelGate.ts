/**
 * Bounds how many model requests are in flight at once; the rest wait their turn in arrival order. A
 * model server (and its rate limit) serves a few requests well and many badly, whatever the traffic here.
 */
export interface ModelGate {
  readonly limit: number;
  /** Runs `call` once fewer than `limit` calls are in flight. */
  run<T>(call: () => Promise<T>): Promise<T>;
  /** requests in flight and waiting, for readiness and logs */
  load(): { active: number; queued: number };
}

/** A gate for at most `limit` concurrent model requests. */
export function createModelGate(limit: number): ModelGate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError("a model gate needs a limit of at least 1");
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    // the freed place goes straight to the next in line, so nobody overtakes it
    if (next) next();
    else active--;
  };
  return {
    limit,
    async run(call) {
      if (active < limit) active++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await call();
      } finally {
        release();
      }
    },
    load: () => ({ active, queued: waiting.length }),
  };
}
