import type { AnalyzedText, Analyzer } from "./analyze.js";
import { Bm25Field } from "./bm25.js";

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

// analyses of recently recalled memories kept for the next recall (about 8 KB each)
const ANALYSES_KEPT = 2048;

/** The lexical index of one bank: its memories' literal and structure fields, in process. */
export class BankLexicon {
  private readonly analyses = new Map<string, { text: string; analyzed: AnalyzedText }>();
  readonly literal = new Bm25Field();
  readonly structure = new Bm25Field();
  private readonly ids: string[] = [];
  private readonly slots = new Map<string, number>();
  private tombstones = 0;

  get size(): number {
    return this.slots.size;
  }

  /** True once removed documents are a fifth of what the fields hold: time to rebuild from the index. */
  get worn(): boolean {
    return this.tombstones > 64 && this.tombstones * 4 > this.slots.size;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  upsert(id: string, text: AnalyzedText): void {
    this.remove(id);
    const slot = this.ids.length;
    this.ids.push(id);
    this.slots.set(id, slot);
    this.literal.add(slot, text.literal);
    this.structure.add(slot, text.structure);
  }

  remove(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.slots.delete(id);
    this.literal.remove(slot);
    this.structure.remove(slot);
    this.tombstones++;
  }

  /** Gives back the room the fields kept for growth: called once a bank is built in one go. */
  seal(): void {
    this.literal.seal();
    this.structure.seal();
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
