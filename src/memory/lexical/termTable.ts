/**
 * Term → dense id, for millions of terms without a JS object per term: open addressing over two 32-bit
 * hashes of the term (a pair of terms sharing both hashes would share an id: about one pair in 2^64).
 */
export class TermTable {
  private first = new Int32Array(1 << 12);
  private second = new Int32Array(1 << 12);
  // id + 1, 0 for an empty slot
  private ids = new Int32Array(1 << 12);
  private count = 0;

  /** The table's arrays, to be written to a file and read back by `fromParts`. */
  parts(): TermTableParts {
    return { count: this.count, first: this.first, second: this.second, ids: this.ids };
  }

  static fromParts(parts: TermTableParts): TermTable {
    const table = new TermTable();
    table.count = parts.count;
    table.first = parts.first;
    table.second = parts.second;
    table.ids = parts.ids;
    return table;
  }

  get size(): number {
    return this.count;
  }

  /** The term's id, or -1 when it was never added. */
  find(term: string): number {
    const [a, b] = hashes(term);
    const mask = this.ids.length - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const id = this.ids[i] as number;
      if (id === 0) return -1;
      if (this.first[i] === a && this.second[i] === b) return id - 1;
    }
  }

  /** The term's id, added (as the next id) when it is new. */
  add(term: string): number {
    // at most 3/4 full: linear probing still finds a term in about 2.5 probes
    if ((this.count + 1) * 4 > this.ids.length * 3) this.grow();
    const [a, b] = hashes(term);
    const mask = this.ids.length - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const id = this.ids[i] as number;
      if (id === 0) {
        this.first[i] = a;
        this.second[i] = b;
        this.ids[i] = ++this.count;
        return this.count - 1;
      }
      if (this.first[i] === a && this.second[i] === b) return id - 1;
    }
  }

  /** Bytes held. */
  get bytes(): number {
    return this.ids.length * 12;
  }

  private grow(): void {
    const [first, second, ids] = [this.first, this.second, this.ids];
    const size = ids.length * 2;
    this.first = new Int32Array(size);
    this.second = new Int32Array(size);
    this.ids = new Int32Array(size);
    const mask = size - 1;
    for (let j = 0; j < ids.length; j++) {
      if (ids[j] === 0) continue;
      let i = (first[j] as number) & mask;
      while (this.ids[i] !== 0) i = (i + 1) & mask;
      this.first[i] = first[j] as number;
      this.second[i] = second[j] as number;
      this.ids[i] = ids[j] as number;
    }
  }
}

/** What a term table is made of. */
export interface TermTableParts {
  count: number;
  first: Int32Array<ArrayBuffer>;
  second: Int32Array<ArrayBuffer>;
  ids: Int32Array<ArrayBuffer>;
}

/** Two independent 32-bit hashes of a string (FNV-1a with two seeds, murmur3's finalizer on each). */
export function hashes(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return [finalize(a), finalize(b)];
}

function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
