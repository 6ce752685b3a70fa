import { MAX_TF } from "./postingLists.js";

/**
 * Each slot's terms in one field (their ids in the field's term table) and counts, in one pool: what a
 * memory holds, read without its text. It is the postings turned around: a search completes its
 * candidates' scores by reading each candidate's own terms (one short run of memory) instead of looking
 * each candidate up in every common term's list, and recall scores a memory without analysing it again.
 * About 5 bytes per distinct term of a memory (on GSM8K-like problems some 0.5–0.8 KB per memory over both
 * fields).
 */
export class ForwardTerms {
  private start = new Int32Array(1024);
  private size = new Int32Array(1024);
  private ids = new Int32Array(1 << 16);
  private counts = new Uint8Array(1 << 16);
  private used = 0;

  /** Records a slot's terms (a new slot, or one that moves on: its old terms are left behind). */
  set(slot: number, ids: ArrayLike<number>, counts: ArrayLike<number>): void {
    if (slot >= this.start.length) {
      let size = this.start.length;
      while (size <= slot) size *= 2;
      this.start = grow(this.start, size);
      this.size = grow(this.size, size);
    }
    const n = ids.length;
    if (this.used + n > this.ids.length) {
      const size = Math.max(2 * this.ids.length, this.used + n);
      this.ids = grow(this.ids, size);
      const counts = new Uint8Array(size);
      counts.set(this.counts);
      this.counts = counts;
    }
    const at = this.used;
    for (let i = 0; i < n; i++) {
      this.ids[at + i] = ids[i] as number;
      this.counts[at + i] = Math.min(counts[i] as number, MAX_TF);
    }
    this.start[slot] = at;
    this.size[slot] = n;
    this.used += n;
  }

  /**
   * The forward terms of a field given as postings (each term's list of slot · 256 + count, in
   * `pool[start[id] .. start[id] + length[id])`): what a field read from a file is turned around into.
   */
  static fromPostings(
    slots: number,
    terms: number,
    start: Int32Array,
    length: Int32Array,
    pool: Int32Array,
  ): ForwardTerms {
    const forward = new ForwardTerms();
    forward.start = new Int32Array(Math.max(slots, 1024));
    forward.size = new Int32Array(Math.max(slots, 1024));
    let total = 0;
    for (let id = 0; id < terms; id++) {
      const from = start[id] as number;
      const to = from + (length[id] as number);
      for (let p = from; p < to; p++) (forward.size[(pool[p] as number) >>> 8] as number)++;
      total += to - from;
    }
    let at = 0;
    for (let slot = 0; slot < slots; slot++) {
      forward.start[slot] = at;
      at += forward.size[slot] as number;
    }
    forward.ids = new Int32Array(Math.max(total, 1 << 16));
    forward.counts = new Uint8Array(Math.max(total, 1 << 16));
    // filled term by term: each slot's terms come out in term-id order
    const next = forward.start.slice(0, slots);
    for (let id = 0; id < terms; id++) {
      const from = start[id] as number;
      const to = from + (length[id] as number);
      for (let p = from; p < to; p++) {
        const packed = pool[p] as number;
        const slot = packed >>> 8;
        const i = next[slot] as number;
        forward.ids[i] = id;
        forward.counts[i] = packed & 0xff;
        next[slot] = i + 1;
      }
    }
    forward.used = total;
    return forward;
  }

  /** Where the slot's terms lie: ids and counts at [from, from + length) of `termIds` and `termCounts`. */
  from(slot: number): number {
    return this.start[slot] as number;
  }

  length(slot: number): number {
    return this.size[slot] as number;
  }

  get termIds(): Int32Array {
    return this.ids;
  }

  get termCounts(): Uint8Array {
    return this.counts;
  }

  get bytes(): number {
    return this.start.byteLength * 2 + this.ids.byteLength + this.counts.byteLength;
  }
}

/**
 * A small set of term ids, each with its position in a list (open addressing, sized for the few dozen
 * terms of one query): whether a memory's term is one of the query's, found without hashing strings.
 */
export class TermPositions {
  private keys: Int32Array;
  private values: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(ids: ArrayLike<number>) {
    let bits = 4;
    while (1 << bits < 2 * ids.length) bits++;
    const size = 1 << bits;
    this.keys = new Int32Array(size).fill(-1);
    this.values = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - bits;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      let at = Math.imul(id, 0x9e3779b1) >>> this.shift;
      while (this.keys[at] !== -1 && this.keys[at] !== id) at = (at + 1) & this.mask;
      if (this.keys[at] === -1) {
        this.keys[at] = id;
        this.values[at] = i;
      }
    }
  }

  /** The position of term `id` in the list, or -1. */
  positionOf(id: number): number {
    const { keys, mask } = this;
    // the product's high bits: its low ones follow only the id's low bits
    for (let at = Math.imul(id, 0x9e3779b1) >>> this.shift; ; at = (at + 1) & mask) {
      const key = keys[at] as number;
      if (key === id) return this.values[at] as number;
      if (key === -1) return -1;
    }
  }
}

function grow(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
