import type { AnalyzedText, Analyzer } from "./analyze.js";
import { Bm25Field, type FieldParts } from "./bm25.js";
import { ForwardTerms } from "./forwardTerms.js";
import { hashes } from "./termTable.js";

/** A memory's match in one field. */
export interface LexicalHit {
  id: string;
  score: number;
}

/** The best matches of a query in a bank's literal and structure fields. */
export interface LexicalMatches {
  literal: LexicalHit[];
  structure: LexicalHit[];
}

/** What a bank's lexicon is made of, as written to a file (src/memory/lexical/lexiconFile.ts). */
export interface LexiconParts {
  /** each slot's memory id, removed ones included */
  ids: string[];
  tombstones: number;
  /** two 32-bit hashes of each slot's id and text, and their sums over the live slots */
  textHashes: Int32Array<ArrayBuffer>;
  fingerprint: [number, number];
  literal: FieldParts;
  structure: FieldParts;
}

// analyses of recently recalled memories kept for the next recall (about 8 KB each)
const ANALYSES_KEPT = 2048;

/** Sums of the texts' hashes, kept as each text comes and goes: two texts sets with the same sums are the same. */
export class TextFingerprint {
  a = 0;
  b = 0;
  count = 0;

  add(id: string, text: string): [number, number] {
    const h = hashes(`${id}\n${text}`);
    this.a = (this.a + h[0]) | 0;
    this.b = (this.b + h[1]) | 0;
    this.count++;
    return h;
  }

  subtract(a: number, b: number): void {
    this.a = (this.a - a) | 0;
    this.b = (this.b - b) | 0;
    this.count--;
  }

  /** The fingerprint as one string: the count and both sums. */
  get value(): string {
    return `${this.count}:${(this.a >>> 0).toString(16)}:${(this.b >>> 0).toString(16)}`;
  }
}

/** The lexical index of one bank: its memories' literal and structure fields, in process. */
export class BankLexicon {
  private readonly analyses = new Map<string, { text: string; analyzed: AnalyzedText }>();
  readonly literal: Bm25Field;
  readonly structure: Bm25Field;
  private readonly ids: string[];
  private readonly slots = new Map<string, number>();
  private tombstones: number;
  private textHashes: Int32Array<ArrayBuffer>;
  private readonly texts = new TextFingerprint();
  // each slot's values (its numbers and names) as literal term ids, once known: from the analysis a slot
  // was added with, or (a lexicon read from its file keeps no values) from the first recall that analysed it
  private readonly values = new ForwardTerms();
  private valuesKnown = new Uint8Array(1024);

  constructor(parts?: LexiconParts) {
    this.literal = parts ? Bm25Field.fromParts(parts.literal) : new Bm25Field();
    this.structure = parts ? Bm25Field.fromParts(parts.structure) : new Bm25Field();
    this.ids = parts?.ids ?? [];
    this.tombstones = parts?.tombstones ?? 0;
    this.textHashes = parts?.textHashes ?? new Int32Array(2048);
    if (parts) {
      const live = parts.literal.live;
      for (let slot = 0; slot < this.ids.length; slot++)
        if (live[slot] === 1) this.slots.set(this.ids[slot] as string, slot);
      [this.texts.a, this.texts.b] = parts.fingerprint;
      this.texts.count = this.slots.size;
    }
  }

  get size(): number {
    return this.slots.size;
  }

  /** Changes with any text added, changed or removed: equal to `TextFingerprint.value` over the same texts. */
  get fingerprint(): string {
    return this.texts.value;
  }

  /** True once removed documents are a fifth of what the fields hold: time to rebuild from the index. */
  get worn(): boolean {
    return this.tombstones > 64 && this.tombstones * 4 > this.slots.size;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  /** Adds or replaces a memory: its text (for the fingerprint) and its analysis. */
  upsert(id: string, text: string, analyzed: AnalyzedText): void {
    this.remove(id);
    const slot = this.ids.length;
    this.ids.push(id);
    this.slots.set(id, slot);
    this.literal.add(slot, analyzed.literal);
    this.structure.add(slot, analyzed.structure);
    this.learnValues(slot, analyzed);
    if (2 * slot + 2 > this.textHashes.length) {
      const grown = new Int32Array(Math.max(2048, this.textHashes.length * 2));
      grown.set(this.textHashes);
      this.textHashes = grown;
    }
    const [a, b] = this.texts.add(id, text);
    this.textHashes[2 * slot] = a;
    this.textHashes[2 * slot + 1] = b;
  }

  remove(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.slots.delete(id);
    this.literal.remove(slot);
    this.structure.remove(slot);
    this.texts.subtract(this.textHashes[2 * slot] as number, this.textHashes[2 * slot + 1] as number);
    this.tombstones++;
  }

  /** Gives back the room the fields kept for growth: called once a bank is built in one go. */
  seal(): void {
    this.literal.seal();
    this.structure.seal();
  }

  /** The lexicon's arrays, sealed, for a file. */
  parts(): LexiconParts {
    const slots = this.ids.length;
    return {
      ids: this.ids,
      tombstones: this.tombstones,
      textHashes: this.textHashes.subarray(0, 2 * slots),
      fingerprint: [this.texts.a, this.texts.b],
      literal: this.literal.parts(slots),
      structure: this.structure.parts(slots),
    };
  }

  /**
   * The memory's slot when the lexicon holds it with exactly this text (else -1): its terms can then be
   * read from the fields instead of analysing the text.
   */
  slotOf(id: string, text: string): number {
    const slot = this.slots.get(id);
    if (slot === undefined) return -1;
    const [a, b] = hashes(`${id}\n${text}`);
    return this.textHashes[2 * slot] === a && this.textHashes[2 * slot + 1] === b ? slot : -1;
  }

  /** The slot's values (numbers and names) as literal term ids, or undefined when not known yet. */
  valuesOf(slot: number): Int32Array | undefined {
    if (this.valuesKnown[slot] !== 1) return undefined;
    const from = this.values.from(slot);
    return this.values.termIds.subarray(from, from + this.values.length(slot));
  }

  /** Records the slot's values from its analysis. */
  learnValues(slot: number, analyzed: AnalyzedText): void {
    const ids: number[] = [];
    for (const value of analyzed.values.keys()) {
      const id = this.literal.idOf(value);
      if (id >= 0) ids.push(id);
    }
    this.values.set(
      slot,
      ids,
      ids.map(() => 1),
    );
    if (slot >= this.valuesKnown.length) {
      const grown = new Uint8Array(Math.max(2 * this.valuesKnown.length, slot + 1));
      grown.set(this.valuesKnown);
      this.valuesKnown = grown;
    }
    this.valuesKnown[slot] = 1;
  }

  /** A memory's text analyzed, from the last few recalls when it was analyzed there. */
  analyzed(id: string, text: string, analyze: Analyzer): AnalyzedText {
    const kept = this.analyses.get(id);
    if (kept && kept.text === text) {
      // most recently used last: the first entry is the one to drop
      this.analyses.delete(id);
      this.analyses.set(id, kept);
      return kept.analyzed;
    }
    const analyzed = analyze(text);
    this.analyses.set(id, { text, analyzed });
    if (this.analyses.size > ANALYSES_KEPT) this.analyses.delete(this.analyses.keys().next().value as string);
    return analyzed;
  }

  /** The best `limit` memories of each field for the query (`exhaustive`: every list walked). */
  search(query: AnalyzedText, limit: number, options: { exhaustive?: boolean } = {}): LexicalMatches {
    const named = (hits: { slot: number; score: number }[]) =>
      hits.map((h) => ({ id: this.ids[h.slot] as string, score: h.score }));
    return {
      literal: named(this.literal.search(query.literal, limit, options)),
      structure: named(this.structure.search(query.structure, limit, options)),
    };
  }
}
