/**
 * The moments of a solve's write-back at which a crash test stops the process (PRECEDENT_FAULT). Each
 * must leave the records and the index reconcilable: see test/crash.test.ts.
 */
export const FAULT_POINTS = [
  "after-memory-row",
  "after-run-row",
  "before-index-upsert",
  "during-index-upsert",
  // a shadow solve (off the request path) that has its samples and has not stored its run
  "during-shadow",
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Called at each fault point; a no-op unless a crash test armed one. */
export type FaultHook = (point: FaultPoint) => void;

/**
 * A hook that kills this process with SIGKILL (no clean-up, as a power cut would) on reaching `armed`.
 * At `during-index-upsert` the kill lands a moment later, while the index write it precedes is running.
 */
export function crashAt(armed: FaultPoint): FaultHook {
  return (point) => {
    if (point !== armed) return;
    if (point === "during-index-upsert") setImmediate(() => process.kill(process.pid, "SIGKILL"));
    else process.kill(process.pid, "SIGKILL");
  };
}
