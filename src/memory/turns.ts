/**
 * Runs work one piece at a time per key (a bank), each after the last has settled, failed or not: what
 * keeps a process's reads and writes of one bank's in-process copy from overlapping. A key's queue is
 * forgotten once it drains.
 */
export function createTurns(): <T>(key: string, run: () => Promise<T>) => Promise<T> {
  const queues = new Map<string, Promise<void>>();
  return function inTurn<T>(key: string, run: () => Promise<T>): Promise<T> {
    const turn = (queues.get(key) ?? Promise.resolve()).then(run);
    const settled = turn.then(
      () => {},
      () => {},
    );
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return turn;
  };
}
