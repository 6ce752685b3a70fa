// Past 300 lines on purpose: a search's hot loops (walk, completeFromForward, slotNorms) read the field's
// typed arrays directly, where a call per posting would cost the time they save. The parts that need no
// such access live apart: the postings (postingLists.ts), the leaders' heap (topSlots.ts) and the reads
// of the forward index (termGatherer.ts).
import type { TermCounts } from "./analyze.js";
import { ForwardTerms } from "./forwardTerms.js";
import { MAX_TF, PostingLists, posting } from "./postingLists.js";
import { TermGatherer } from "./termGatherer.js";
import { TermTable, type TermTableParts } from "./termTable.js";
import { type FieldHit, TopSlots } from "./topSlots.js";

export type { FieldHit } from "./topSlots.js";

// Robertson/Spärck Jones defaults (also Lucene's and LanceDB's)
const K1 = 1.2;
const B = 0.75;
// A search walks the query's terms rarest first, scoring every document of each list, while the lists
// are rare (held by at most COMMON_SHARE of the bank, or COMMON_MIN documents) and fit WALK_BUDGET
// postings together; it then completes the score of the best max(CANDIDATES·limit, MIN_CANDIDATES)
// documents with the other terms, read from each candidate's own terms (src/memory/lexical/forwardTerms.ts)
// rather than walked: one short run of memory per candidate, where looking each candidate up in every
// common list (galloping, or through skip slots) cost a cache miss per candidate per term (at 10k
// synthetic memories, 300 GSM8K questions, both fields, p50: 1.1 → 0.8 ms). The
// common lists are what a plain search spends its time on (a walked posting costs 60–90 ns in a bank of
// 1M: its score is a cache miss), and each of their terms weighs little, yet together they carry a
// variant's structure: dropping them outright cost the dev set's variant @1 0.91 → 0.73. On the dev set,
// with the common line at 5%, 2% or 1% of the bank, the figures stay those of a full walk (variant @1
// 0.912, 0.912, 0.906). The budget bounds what a large bank costs: GSM8K queries walk 13k postings (p99
// 38k) per field at 100k and would walk 130k (p99 390k) at 1M. How many candidates are completed matters
// more than the budget: at 100k synthetic memories, of an exhaustive search's best 8 per field, 64
// candidates find 0.785, 128 find 0.856, 256 0.915, 1024 0.975 (both fields: 2.6, 3.7, 5.3, 6.7 ms); at
// 10k, 64, 128 and 256 find 0.949, 0.979, 0.992 (0.6, 0.9, 1.7 ms). The analogue dev set (bench quality,
// 8.8k memories) gives the same figures with 64, 128 and 256, to the third decimal, on both indexes: the
// candidates a bounded search misses rank at the bottom of the best 8, where recall's true analogue is not.
// A budget of 20k, 40k or 80k moves those shares by at most 0.016.
const COMMON_SHARE = 0.02;
const COMMON_MIN = 500;
const WALK_BUDGET = 40_000;
const CANDIDATES = 4;
const MIN_CANDIDATES = 128;

/** What a field is made of, as written to a file: the term table, the lists, and each slot's length and liveness. */
export interface FieldParts {
  documents: number;
  totalLength: number;
  terms: TermTableParts;
  start: Int32Array<ArrayBuffer>;
  length: Int32Array<ArrayBuffer>;
  pool: Int32Array<ArrayBuffer>;
  lengths: Float32Array<ArrayBuffer>;
  live: Uint8Array<ArrayBuffer>;
}

/** A query's terms prepared for `scoreSlot`: their ids and idfs. */
export interface PreparedTerms {
  ids: number[];
  idfs: number[];
}

/**
 * One field of an in-process BM25 index over documents in numbered slots: every term's document count
 * and postings (src/memory/lexical/postingLists.ts), and each slot's terms (the forward index).
 * A removed document stays in its postings as a tombstone (skipped, its length out of the average) until
 * the owner rebuilds the field.
 */
export class Bm25Field {
  private readonly terms: TermTable;
  private lists: PostingLists;
  private lengths = new Float32Array(1024);
  private live = new Uint8Array(1024);
  // per slot, side by side so a walked posting costs one cache miss, not three: the search's running
  // score (0 between searches) and the BM25 length norm k1·(1 − b + b·len/avg) at the average it was last
  // computed for, +∞ for a removed document (it scores nothing). Apart, with a liveness array, a search of
  // both fields at 1M memories took 11.3 ms p50; side by side 9.8 ms
  private scoreNorm = new Float64Array(2048);
  private normsAt = -1;
  private touched = new Int32Array(1024);
  // each slot's terms and counts: the postings turned around
  private forward = new ForwardTerms();
  // a candidate's count of each term being completed (completeFromForward, scoreSlot)
  private readonly gatherer = new TermGatherer();
  private readonly top = new TopSlots();
  private documents = 0;
  private totalLength = 0;
  // idf by term while the document count stays the same: a recall asks for the same terms many times
  private readonly idfs = new Map<string, number>();
  private idfsAt = -1;

  constructor(terms = new TermTable()) {
    this.terms = terms;
    this.lists = new PostingLists(terms);
  }

  /** The field's arrays for `slots` slots, sealed (each list exactly as long as it is). */
  parts(slots: number): FieldParts {
    return {
      documents: this.documents,
      totalLength: this.totalLength,
      terms: this.terms.parts(),
      ...this.lists.sealed(),
      lengths: this.lengths.subarray(0, slots),
      live: this.live.subarray(0, slots),
    };
  }

  /** A field as `parts` gave it. */
  static fromParts(parts: FieldParts): Bm25Field {
    const field = new Bm25Field(TermTable.fromParts(parts.terms));
    field.documents = parts.documents;
    field.totalLength = parts.totalLength;
    field.lists = PostingLists.fromSealed(field.terms, parts.start, parts.length, parts.pool);
    field.growDocuments(parts.lengths.length);
    field.lengths.set(parts.lengths);
    field.live.set(parts.live);
    field.forward = ForwardTerms.fromPostings(
      parts.lengths.length,
      field.terms.size,
      parts.start,
      parts.length,
      parts.pool,
    );
    return field;
  }

  /** Documents currently searchable. */
  get size(): number {
    return this.documents;
  }

  get averageLength(): number {
    return this.documents === 0 ? 1 : Math.max(1, this.totalLength / this.documents);
  }

  /** Bytes held by the field's arrays. */
  get bytes(): number {
    return (
      this.terms.bytes +
      this.lists.bytes +
      this.lengths.byteLength +
      this.live.byteLength +
      this.scoreNorm.byteLength +
      this.touched.byteLength +
      this.forward.bytes
    );
  }

  add(slot: number, terms: TermCounts): void {
    if (slot >= this.lengths.length) this.growDocuments(slot + 1);
    let length = 0;
    const ids: number[] = [];
    const counts: number[] = [];
    for (const [term, count] of terms) {
      length += count;
      const id = this.terms.add(term);
      this.lists.append(id, posting(slot, count));
      ids.push(id);
      counts.push(count);
    }
    this.forward.set(slot, ids, counts);
    this.lengths[slot] = length;
    this.normsAt = -1;
    this.live[slot] = 1;
    this.documents++;
    this.totalLength += length;
  }

  remove(slot: number): void {
    if (this.live[slot] !== 1) return;
    this.live[slot] = 0;
    this.scoreNorm[2 * slot + 1] = Number.POSITIVE_INFINITY;
    this.documents--;
    this.totalLength -= this.lengths[slot] as number;
  }

  /** Documents holding the term, tombstones included (they are few; a rebuild drops them). */
  documentFrequency(term: string): number {
    const id = this.terms.find(term);
    return id < 0 ? 0 : (this.lists.length[id] as number);
  }

  idf(term: string): number {
    if (this.idfsAt !== this.documents) {
      this.idfs.clear();
      this.idfsAt = this.documents;
    }
    let idf = this.idfs.get(term);
    if (idf === undefined) {
      idf = this.idfOf(this.documentFrequency(term));
      if (this.idfs.size > 100_000) this.idfs.clear();
      this.idfs.set(term, idf);
    }
    return idf;
  }

  /** BM25 of a document of `terms` for `query`, exactly (every term counts, the most common too). */
  score(query: TermCounts, terms: TermCounts): number {
    let length = 0;
    for (const count of terms.values()) length += count;
    const norm = K1 * (1 - B + (B * length) / this.averageLength);
    let score = 0;
    // over the smaller of the two: a term counts when both hold it
    const [few, many] = query.size <= terms.size ? [query, terms] : [terms, query];
    for (const term of few.keys()) {
      if (!many.has(term)) continue;
      const tf = Math.min(terms.get(term) as number, MAX_TF);
      score += (this.idf(term) * tf * (K1 + 1)) / (tf + norm);
    }
    return score;
  }

  /** A query's terms as this field's ids (those it holds, in the query's order), to score slots by. */
  prepare(query: TermCounts): PreparedTerms {
    const ids: number[] = [];
    for (const term of query.keys()) {
      const id = this.terms.find(term);
      if (id >= 0) ids.push(id);
    }
    return {
      ids,
      idfs: ids.map((id) => this.idfOf(this.lists.length[id] as number)),
    };
  }

  /**
   * BM25 of the document in `slot` for a prepared query: `score` with the document's terms read from the
   * forward index instead of its text (the same terms, summed in the query's order).
   */
  scoreSlot(query: PreparedTerms, slot: number): number {
    const r = query.ids.length;
    if (r === 0) return 0;
    this.gatherer.begin(query.ids, this.terms.size);
    const found = this.gatherer.gather(this.forward, slot);
    this.gatherer.end();
    const norm = K1 * (1 - B + (B * (this.lengths[slot] as number)) / this.averageLength);
    let score = 0;
    for (let i = 0; i < r; i++) {
      const tf = found[i] as number;
      if (tf > 0) score += ((query.idfs[i] as number) * tf * (K1 + 1)) / (tf + norm);
    }
    return score;
  }

  /** BM25 of the document in `slot` for its own terms (`score(terms, terms)`), from the forward index. */
  selfScore(slot: number): number {
    const { termIds, termCounts } = this.forward;
    const from = this.forward.from(slot);
    const to = from + this.forward.length(slot);
    const norm = K1 * (1 - B + (B * (this.lengths[slot] as number)) / this.averageLength);
    let score = 0;
    for (let p = from; p < to; p++) {
      const tf = termCounts[p] as number;
      score += (this.idfOf(this.lists.length[termIds[p] as number] as number) * tf * (K1 + 1)) / (tf + norm);
    }
    return score;
  }

  /** The document's length in terms (every occurrence counts). */
  lengthOf(slot: number): number {
    return this.lengths[slot] as number;
  }

  /** Calls `each` with every term id of the slot, its count (at most 255) and its idf. */
  termsOf(slot: number, each: (id: number, count: number, idf: number) => void): void {
    const { termIds, termCounts } = this.forward;
    const from = this.forward.from(slot);
    const to = from + this.forward.length(slot);
    for (let p = from; p < to; p++) {
      const id = termIds[p] as number;
      each(id, termCounts[p] as number, this.idfOf(this.lists.length[id] as number));
    }
  }

  /** The term's id in this field, or -1. */
  idOf(term: string): number {
    return this.terms.find(term);
  }

  /**
   * The `limit` best live documents for `query` by BM25, best first (ties: lower slot first); `exhaustive`
   * walks every list (what the bounded search is measured against).
   */
  search(query: TermCounts, limit: number, { exhaustive = false } = {}): FieldHit[] {
    if (limit <= 0 || this.documents === 0) return [];
    const commonAt = exhaustive
      ? Number.POSITIVE_INFINITY
      : Math.max(COMMON_MIN, COMMON_SHARE * this.documents);
    const budget = exhaustive ? Number.POSITIVE_INFINITY : WALK_BUDGET;
    const ids: number[] = [];
    for (const term of query.keys()) {
      const id = this.terms.find(term);
      if (id >= 0 && (this.lists.length[id] as number) > 0) ids.push(id);
    }
    ids.sort((x, y) => (this.lists.length[x] as number) - (this.lists.length[y] as number) || x - y);
    const wanted = Math.max(limit * CANDIDATES, MIN_CANDIDATES);
    // rarest first, while within the budget; past it, only until enough documents are scored
    let walked = 0;
    let postings = 0;
    let touched = 0;
    while (walked < ids.length) {
      const id = ids[walked] as number;
      const length = this.lists.length[id] as number;
      const rare = length <= commonAt && postings + length <= budget;
      if (!rare && touched >= wanted) break;
      touched = this.walk(id, touched);
      postings += length;
      walked++;
    }
    if (walked === ids.length) return this.best(touched, limit);
    // the candidates in slot order, each list then searched forward from where the last one was found
    const best = this.best(touched, wanted).sort((x, y) => x.slot - y.slot);
    this.completeFromForward(ids.slice(walked), best, this.slotNorms());
    return best.sort((x, y) => y.score - x.score || x.slot - y.slot).slice(0, limit);
  }

  /** Packs the postings (what a lexicon file stores); a no-op until a document is added again. */
  seal(): void {
    this.lists.seal();
  }

  /**
   * Adds the terms `rest` (in that order) to the candidates' scores, each candidate's terms read from the
   * forward index: the sums are those a lookup of every candidate in every list gives, term by term.
   */
  private completeFromForward(rest: number[], hits: FieldHit[], scoreNorm: Float64Array): void {
    const r = rest.length;
    if (r === 0) return;
    const weights = rest.map((id) => this.idfOf(this.lists.length[id] as number) * (K1 + 1));
    this.gatherer.begin(rest, this.terms.size);
    for (const hit of hits) {
      const found = this.gatherer.gather(this.forward, hit.slot);
      const norm = scoreNorm[2 * hit.slot + 1] as number;
      for (let i = 0; i < r; i++) {
        const tf = found[i] as number;
        if (tf > 0) hit.score += ((weights[i] as number) * tf) / (tf + norm);
      }
    }
    this.gatherer.end();
  }

  /** Adds one term's list to the scores; `touched` counts the documents scored so far (returned updated). */
  private walk(id: number, touched: number): number {
    const { pool, start, length } = this.lists;
    const seen = this.touched;
    const scoreNorm = this.slotNorms();
    const weight = this.idfOf(this.lists.length[id] as number) * (K1 + 1);
    const from = start[id] as number;
    const to = from + (length[id] as number);
    let n = touched;
    for (let i = from; i < to; i++) {
      const packed = pool[i] as number;
      const at = 2 * (packed >>> 8);
      const norm = scoreNorm[at + 1] as number;
      if (norm === Number.POSITIVE_INFINITY) continue;
      const tf = packed & 0xff;
      const score = scoreNorm[at] as number;
      if (score === 0) seen[n++] = at >>> 1;
      scoreNorm[at] = score + (weight * tf) / (tf + norm);
    }
    return n;
  }

  /** The `limit` best of the `touched` documents scored, best first; the scores are reset for the next search. */
  private best(touched: number, limit: number): FieldHit[] {
    return this.top.take(this.touched, touched, this.scoreNorm, limit);
  }

  /** The score and norm pairs, the norms at the current average length. */
  private slotNorms(): Float64Array {
    const avg = this.averageLength;
    if (this.normsAt !== avg) {
      const { scoreNorm, lengths, live } = this;
      for (let i = 0; i < lengths.length; i++) {
        scoreNorm[2 * i + 1] =
          live[i] === 1 ? K1 * (1 - B + (B * (lengths[i] as number)) / avg) : Number.POSITIVE_INFINITY;
      }
      this.normsAt = avg;
    }
    return this.scoreNorm;
  }

  private idfOf(df: number): number {
    const n = Math.max(this.documents, 1);
    const d = Math.min(df, n);
    return Math.log(1 + (n - d + 0.5) / (d + 0.5));
  }

  private growDocuments(min: number): void {
    let size = this.lengths.length;
    while (size < min) size *= 2;
    const lengths = new Float32Array(size);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const live = new Uint8Array(size);
    live.set(this.live);
    this.live = live;
    this.scoreNorm = new Float64Array(2 * size);
    this.normsAt = -1;
    this.touched = new Int32Array(size);
  }
}
