import type { Analyzer } from "../lexical/analyze.js";
import { BankLexicon } from "../lexical/bankLexicon.js";
import { generationLoader } from "./generationLoader.js";
import type { IndexStore, LexiconView, MemoryIndex } from "./memoryIndex.js";

const YIELD_EVERY = 500;

/** A bank's lexicon and the store generation it reflects. */
interface BankState {
  generation: number;
  lexicon: BankLexicon;
}

/** What outlives one index object (a Worker opens its index per request): the banks' lexicons. */
export type LexiconMemory = Map<string, BankState>;

export function createLexiconMemory(): LexiconMemory {
  return new Map();
}

/**
 * A store with each bank's lexicon kept in process: built from the store's texts on a bank's first
 * search, updated in place by this process's own writes, and rebuilt when the store's generation shows a
 * write this process did not make (another replica's) or when removals have worn it.
 */
export function withLexicon(
  store: IndexStore,
  options: { analyzer: () => Promise<Analyzer>; memory?: LexiconMemory },
): MemoryIndex {
  const banks = options.memory ?? createLexiconMemory();

  async function load(bank: string): Promise<BankState> {
    // generation first: texts read after it are at least as new, so a stale pairing only causes a re-read
    const generation = await store.generation(bank);
    const analyze = await options.analyzer();
    const lexicon = new BankLexicon();
    let built = 0;
    for await (const rows of store.texts(bank)) {
      for (const row of rows) {
        lexicon.upsert(row.id, analyze(row.text));
        // a large bank takes seconds: requests are served meanwhile
        if (++built % YIELD_EVERY === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    lexicon.seal();
    return { generation, lexicon };
  }

  const loadAsOf = generationLoader(load);

  async function fresh(bank: string): Promise<BankState> {
    const generation = await store.generation(bank);
    const cached = banks.get(bank);
    if (cached && cached.generation === generation && !cached.lexicon.worn) return cached;
    const loaded = await loadAsOf(bank, generation);
    const now = banks.get(bank);
    if (!now || now === cached || now.generation < loaded.generation) banks.set(bank, loaded);
    return banks.get(bank) as BankState;
  }

  /**
   * Runs one of this process's writes; when the bank moved on by exactly that write, `apply` brings the
   * lexicon along, else the lexicon is dropped (rebuilt at the next search).
   */
  async function writing(
    bank: string,
    write: () => Promise<void>,
    apply: (state: BankState) => void | Promise<void>,
    steps: "one" | "any",
  ): Promise<void> {
    const state = banks.get(bank);
    const before = state?.generation;
    try {
      await write();
    } catch (e) {
      if (state && banks.get(bank) === state) banks.delete(bank);
      throw e;
    }
    if (!state || before === undefined || banks.get(bank) !== state) return;
    const after = await store.generation(bank);
    if (state.generation === before && (steps === "any" || after === before + 1)) {
      await apply(state);
      state.generation = after;
    } else {
      banks.delete(bank);
    }
  }

  return {
    ...store,

    async upsert(bank, rows) {
      if (rows.length === 0) return;
      await writing(
        bank,
        () => store.upsert(bank, rows),
        async (state) => {
          const analyze = await options.analyzer();
          for (const row of rows) state.lexicon.upsert(row.id, analyze(row.text));
        },
        "one",
      );
    },

    async remove(bank, ids) {
      if (ids.length === 0) return;
      await writing(
        bank,
        () => store.remove(bank, ids),
        (state) => {
          for (const id of ids) state.lexicon.remove(id);
        },
        "one",
      );
    },

    // compaction and index building change no row: the lexicon stays valid whatever the generation says.
    // (A replica's write to a shared LanceDB location in the very moment of a compaction is taken for
    // part of it: that bank's lexicon misses the write until the next change rebuilds it.)
    async optimize(bank, optimizeOptions) {
      await writing(
        bank,
        () => store.optimize(bank, optimizeOptions),
        () => {},
        "any",
      );
    },

    async drop(bank) {
      banks.delete(bank);
      await store.drop(bank);
    },

    async healthy(bank) {
      const ok = await store.healthy(bank);
      if (!ok) banks.delete(bank);
      return ok;
    },

    async close() {
      if (!options.memory) banks.clear();
      await store.close();
    },

    async lexicon(bank): Promise<LexiconView> {
      const [state, analyze] = await Promise.all([fresh(bank), options.analyzer()]);
      return { analyze, lexicon: state.lexicon };
    },
  };
}
