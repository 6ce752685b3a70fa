import type { TermTable } from "./termTable.js";

// a posting packs the document's slot and the term's count in it: slot · 256 + min(count, 255)
const TF_BITS = 256;
/** The largest term count a posting (or a forward entry) holds. */
export const MAX_TF = 255;
// (start · TERMS_LIMIT + term id) stays an exact double while the pool holds fewer than 2^29 postings
const TERMS_LIMIT = 2 ** 24;

/** A posting: the document's slot and its count of the term, in one int. */
export const posting = (slot: number, count: number) => slot * TF_BITS + Math.min(count, MAX_TF);

/**
 * Every term's postings in slot order, in one pool of typed arrays (no object per term): term `id`'s list
 * is pool[start[id] .. start[id] + length[id]), with room for `capacity[id]`; its length is the term's
 * document count (tombstones included). Lists grow at the pool's end; `seal` packs them end to end.
 */
export class PostingLists {
  start = new Int32Array(1 << 12);
  length = new Int32Array(1 << 12);
  pool = new Int32Array(1 << 16);
  private capacity = new Int32Array(1 << 12);
  private used = 0;
  // the lists lie end to end from the pool's start (sealed, and no posting added since)
  private packed = false;

  /** `terms` numbers the lists; only its size is read. */
  constructor(private readonly terms: TermTable) {}

  /** Lists as `sealed` gave them (packed). */
  static fromSealed(terms: TermTable, start: Int32Array, length: Int32Array, pool: Int32Array): PostingLists {
    const lists = new PostingLists(terms);
    lists.start = start as Int32Array<ArrayBuffer>;
    lists.length = length as Int32Array<ArrayBuffer>;
    lists.capacity = length.slice() as Int32Array<ArrayBuffer>;
    lists.pool = pool as Int32Array<ArrayBuffer>;
    lists.used = pool.length;
    lists.packed = true;
    return lists;
  }

  /** The lists packed: start and length by term id, and exactly the postings. */
  sealed(): {
    start: Int32Array<ArrayBuffer>;
    length: Int32Array<ArrayBuffer>;
    pool: Int32Array<ArrayBuffer>;
  } {
    this.seal();
    return { start: this.start, length: this.length, pool: this.pool.subarray(0, this.used) };
  }

  /** Bytes held by the arrays. */
  get bytes(): number {
    return this.start.byteLength * 3 + this.pool.byteLength;
  }

  /** Appends a posting to a term's list, moving the list to the pool's end (grown) when it is full. */
  append(id: number, entry: number): void {
    if (id >= this.start.length) this.growTerms();
    this.packed = false;
    const length = this.length[id] as number;
    const capacity = this.capacity[id] as number;
    if (length === capacity) {
      // lists grow by half: a bank built in one go holds less unused room before it is sealed
      const grown = Math.max(4, Math.ceil(capacity * 1.5));
      // first: a compaction moves every list
      this.reserve(grown);
      const start = this.start[id] as number;
      if (capacity > 0 && start + capacity === this.used) {
        // the list is the last in the pool: it grows where it is
        this.used += grown - capacity;
      } else {
        this.pool.copyWithin(this.used, start, start + length);
        this.start[id] = this.used;
        this.used += grown;
      }
      this.capacity[id] = grown;
    }
    this.pool[(this.start[id] as number) + length] = entry;
    this.length[id] = length + 1;
  }

  /**
   * Packs the lists end to end at the pool's start (each list's room for growth goes), so the used part
   * of the pool holds exactly the postings: what a lexicon file stores. A no-op until a list grows again.
   */
  seal(): void {
    if (this.packed) return;
    this.packed = true;
    // in place, lists in the order they lie in the pool, each moved down to where the last one ended: a
    // new pool would briefly hold every posting twice (at 1M memories, half a gigabyte at the peak)
    const n = this.terms.size;
    if (n >= TERMS_LIMIT || this.used >= 2 ** 29) {
      this.relocate(this.used, (id) => this.length[id] as number);
      return;
    }
    const byStart = new Float64Array(n);
    for (let id = 0; id < n; id++) byStart[id] = (this.start[id] as number) * TERMS_LIMIT + id;
    byStart.sort();
    let at = 0;
    for (let i = 0; i < n; i++) {
      const id = (byStart[i] as number) % TERMS_LIMIT;
      const start = this.start[id] as number;
      const length = this.length[id] as number;
      if (start !== at) this.pool.copyWithin(at, start, start + length);
      this.start[id] = at;
      this.capacity[id] = length;
      at += length;
    }
    this.used = at;
  }

  /** Makes room for `more` entries at the pool's end, compacting abandoned space first when that suffices. */
  private reserve(more: number): void {
    if (this.used + more <= this.pool.length) return;
    let held = 0;
    const n = this.terms.size;
    for (let id = 0; id < n; id++) held += this.capacity[id] as number;
    this.relocate(
      Math.max(this.pool.length, Math.ceil((held + more) * 1.25)),
      (id) => this.capacity[id] as number,
    );
  }

  /** Copies every list into a new pool of `size`, each with room for `capacityOf(term)` postings. */
  private relocate(size: number, capacityOf: (id: number) => number): void {
    const pool = new Int32Array(size);
    let at = 0;
    const n = this.terms.size;
    for (let id = 0; id < n; id++) {
      const capacity = capacityOf(id);
      const start = this.start[id] as number;
      pool.set(this.pool.subarray(start, start + (this.length[id] as number)), at);
      this.start[id] = at;
      this.capacity[id] = capacity;
      at += capacity;
    }
    this.pool = pool;
    this.used = at;
  }

  private growTerms(): void {
    const size = this.start.length * 2;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.start = grow(this.start);
    this.length = grow(this.length);
    this.capacity = grow(this.capacity);
  }
}
