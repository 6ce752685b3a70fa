import type { TermCounts } from "./analyze.js";

// Robertson/Spärck Jones defaults (also Lucene's and LanceDB's)
const K1 = 1.2;
const B = 0.75;
// a posting packs the document's slot and the term's count in it: slot · 256 + min(count, 255)
const TF_BITS = 256;
const MAX_TF = 255;

/** One document's match: its slot in the field and its BM25 score. */
export interface FieldHit {
  slot: number;
  score: number;
}

/**
 * One field of an in-process BM25 index: term → postings, each document's length, and the statistics
 * that give every term its idf. A removed document is left in its postings as a tombstone (skipped, its
 * length out of the average) until the owner rebuilds the field.
 */
export class Bm25Field {
  private readonly postings = new Map<string, number[]>();
  private lengths = new Float32Array(1024);
  private live = new Uint8Array(1024);
  private scores = new Float64Array(1024);
  private documents = 0;
  private totalLength = 0;

  /** Documents currently searchable. */
  get size(): number {
    return this.documents;
  }

  get averageLength(): number {
    return this.documents === 0 ? 1 : Math.max(1, this.totalLength / this.documents);
  }

  add(slot: number, terms: TermCounts): void {
    if (slot >= this.lengths.length) this.grow(slot + 1);
    let length = 0;
    for (const [term, count] of terms) {
      length += count;
      const packed = slot * TF_BITS + Math.min(count, MAX_TF);
      const list = this.postings.get(term);
      if (list) list.push(packed);
      else this.postings.set(term, [packed]);
    }
    this.lengths[slot] = length;
    this.live[slot] = 1;
    this.documents++;
    this.totalLength += length;
  }

  remove(slot: number): void {
    if (this.live[slot] !== 1) return;
    this.live[slot] = 0;
    this.documents--;
    this.totalLength -= this.lengths[slot] as number;
  }

  /** Documents holding the term, tombstones included (they are few; a rebuild drops them). */
  documentFrequency(term: string): number {
    return this.postings.get(term)?.length ?? 0;
  }

  idf(term: string): number {
    const n = Math.max(this.documents, 1);
    const df = Math.min(this.documentFrequency(term), n);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** BM25 of a document of `terms` for `query`: what search() gives it, for any text. */
  score(query: TermCounts, terms: TermCounts): number {
    let length = 0;
    for (const count of terms.values()) length += count;
    const norm = K1 * (1 - B + (B * length) / this.averageLength);
    let score = 0;
    for (const term of query.keys()) {
      const tf = Math.min(terms.get(term) ?? 0, MAX_TF);
      if (tf > 0) score += (this.idf(term) * tf * (K1 + 1)) / (tf + norm);
    }
    return score;
  }

  /** The `limit` best-scoring live documents for `query`, best first (ties: lower slot first). */
  search(query: TermCounts, limit: number): FieldHit[] {
    if (limit <= 0 || this.documents === 0) return [];
    const scores = this.scores;
    const touched: number[] = [];
    const avg = this.averageLength;
    for (const term of query.keys()) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idf(term) * (K1 + 1);
      for (let i = 0; i < list.length; i++) {
        const packed = list[i] as number;
        const slot = Math.floor(packed / TF_BITS);
        if (this.live[slot] !== 1) continue;
        const tf = packed - slot * TF_BITS;
        const norm = K1 * (1 - B + (B * (this.lengths[slot] as number)) / avg);
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] = (scores[slot] as number) + (idf * tf) / (tf + norm);
      }
    }
    const best: FieldHit[] = [];
    let floor = Number.NEGATIVE_INFINITY;
    for (const slot of touched) {
      const score = scores[slot] as number;
      scores[slot] = 0;
      if (best.length === limit && score <= floor) continue;
      let at = best.length;
      while (
        at > 0 &&
        ((best[at - 1] as FieldHit).score < score ||
          ((best[at - 1] as FieldHit).score === score && (best[at - 1] as FieldHit).slot > slot))
      )
        at--;
      best.splice(at, 0, { slot, score });
      if (best.length > limit) best.pop();
      if (best.length === limit) floor = (best[limit - 1] as FieldHit).score;
    }
    return best;
  }

  private grow(min: number): void {
    let size = this.lengths.length;
    while (size < min) size *= 2;
    const lengths = new Float32Array(size);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const live = new Uint8Array(size);
    live.set(this.live);
    this.live = live;
    this.scores = new Float64Array(size);
  }
}
