import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Analyzer } from "../lexical/analyze.js";
import { BankLexicon, TextFingerprint } from "../lexical/bankLexicon.js";
import { readLexiconFile, writeLexiconFile } from "../lexical/lexiconFile.js";
import { createTurns } from "../turns.js";
import { generationLoader } from "./generationLoader.js";
import type { IndexStore, LexiconView, MemoryIndex } from "./memoryIndex.js";

const YIELD_EVERY = 500;

/** A bank's lexicon and the store generation it reflects. */
interface BankState {
  generation: number;
  lexicon: BankLexicon;
  /** changed by this process's writes since it was built or read from its file */
  changed: boolean;
}

/** What outlives one index object (a Worker opens its index per request): the banks' lexicons. */
export type LexiconMemory = Map<string, BankState>;

export function createLexiconMemory(): LexiconMemory {
  return new Map();
}

export interface LexiconOptions {
  analyzer: () => Promise<Analyzer>;
  memory?: LexiconMemory;
  /**
   * A folder where each bank's lexicon is kept between processes: written once built and when the index
   * closes after writes, read back at the next start when it holds exactly the store's texts (same
   * fingerprint) and was built by the same analyzer.
   */
  files?: string;
}

const yieldToRequests = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A store with each bank's lexicon kept in process: built from the store's texts on a bank's first
 * search (or read from its file), updated in place by this process's own writes, and rebuilt when the
 * store's generation shows a write this process did not make (another replica's) or when removals have
 * worn it.
 */
export function withLexicon(store: IndexStore, options: LexiconOptions): MemoryIndex {
  const banks = options.memory ?? createLexiconMemory();
  // Runs its work once this process's earlier writes and reads of the bank are done: one at a time, so a
  // write's generation before and after bracket just that write, and no write of ours lands while the
  // lexicon is being read (it would be read at a generation its texts are already past). Writes that
  // overlapped left each lexicon a step behind, dropped at the next write and rebuilt at the next recall,
  // over and over (GSM8K, 8.8k memories, a solve's write-backs by the background indexer: ~0.7 s per recall).
  const inTurn = createTurns();
  const fileOf = (bank: string) =>
    options.files ? join(options.files, store.kind, `${encodeURIComponent(bank)}.lexicon`) : undefined;

  /** The fingerprint of the store's texts for a bank, read a batch at a time. */
  async function storedFingerprint(bank: string): Promise<string> {
    const texts = new TextFingerprint();
    for await (const rows of store.texts(bank)) for (const row of rows) texts.add(row.id, row.text);
    return texts.value;
  }

  async function fromFile(bank: string, analyze: Analyzer): Promise<BankLexicon | undefined> {
    const file = fileOf(bank);
    const saved = file ? await readLexiconFile(file) : undefined;
    if (!saved || saved.analyzer !== analyze.id) return undefined;
    if (saved.fingerprint !== (await storedFingerprint(bank))) return undefined;
    // a file cut short or unreadable is only a cache: the lexicon is built again
    return saved.load().catch(() => undefined);
  }

  async function save(bank: string, lexicon: BankLexicon, analyze: Analyzer): Promise<void> {
    const file = fileOf(bank);
    // a lexicon that cannot be kept is built again at the next start: nothing is lost
    if (file) await writeLexiconFile(file, lexicon, analyze.id).catch(() => {});
  }

  async function load(bank: string): Promise<BankState> {
    // generation first: texts read after it are at least as new, so a stale pairing only causes a re-read
    const generation = await store.generation(bank);
    const analyze = await options.analyzer();
    const kept = await fromFile(bank, analyze);
    if (kept) return { generation, lexicon: kept, changed: false };
    const lexicon = new BankLexicon();
    let built = 0;
    for await (const rows of store.texts(bank)) {
      for (const row of rows) {
        lexicon.upsert(row.id, row.text, analyze(row.text));
        // a large bank takes seconds: requests are served meanwhile
        if (++built % YIELD_EVERY === 0) await yieldToRequests();
      }
    }
    lexicon.seal();
    if (built > 0) await save(bank, lexicon, analyze);
    return { generation, lexicon, changed: false };
  }

  const loadAsOf = generationLoader(load);

  async function fresh(bank: string): Promise<BankState> {
    const generation = await store.generation(bank);
    // exactly what the store held when read: a lexicon ahead of the store (a bank dropped and made again
    // elsewhere starts its generations over) is not taken for current
    const current = (state: BankState | undefined): state is BankState =>
      state !== undefined && state.generation === generation && !state.lexicon.worn;
    const cached = banks.get(bank);
    if (current(cached)) return cached;
    // the generation may have moved by a write of ours still in flight: once its turn is over, the
    // lexicon it brought along is as new as what was read, and rebuilding it (a second per 10k memories)
    // would be waste. Under solves with write-backs that was most rebuilds.
    const loaded = await inTurn(bank, () => {
      const now = banks.get(bank);
      return current(now) ? Promise.resolve(now) : loadAsOf(bank, generation);
    });
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
    return inTurn(bank, () => writeAndApply(bank, write, apply, steps));
  }

  async function writeAndApply(
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

  /** Keeps the lexicons this process changed, where they still hold exactly what the store holds. */
  async function saveChanged(): Promise<void> {
    if (!options.files) return;
    const analyze = await options.analyzer();
    for (const [bank, state] of banks) {
      if (!state.changed || (await store.generation(bank).catch(() => -1)) !== state.generation) continue;
      await save(bank, state.lexicon, analyze);
      state.changed = false;
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
          for (const row of rows) state.lexicon.upsert(row.id, row.text, analyze(row.text));
          state.changed = true;
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
          state.changed = true;
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
      const file = fileOf(bank);
      if (file) await rm(file, { force: true });
    },

    async healthy(bank) {
      const ok = await store.healthy(bank);
      if (!ok) banks.delete(bank);
      return ok;
    },

    async close() {
      await saveChanged();
      if (!options.memory) banks.clear();
      await store.close();
    },

    async lexicon(bank): Promise<LexiconView> {
      const [state, analyze] = await Promise.all([fresh(bank), options.analyzer()]);
      return { analyze, lexicon: state.lexicon };
    },
  };
}
