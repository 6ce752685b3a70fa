/**
 * Reads of a bank's in-process copy (its vectors, its lexicon) taken from the store: one read at a time
 * per bank, shared by every search waiting on it, and read again when the copy turns out older than the
 * generation the search already knows of (the read began before that write).
 */
export function generationLoader<T extends { generation: number }>(
  load: (bank: string) => Promise<T>,
): (bank: string, generation: number) => Promise<T> {
  const loading = new Map<string, Promise<T>>();
  return async (bank, generation) => {
    let pending = loading.get(bank);
    if (!pending) {
      pending = load(bank).finally(() => loading.delete(bank));
      loading.set(bank, pending);
    }
    const loaded = await pending;
    return loaded.generation < generation ? load(bank) : loaded;
  };
}
