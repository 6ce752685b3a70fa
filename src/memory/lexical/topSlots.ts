/** One document's match: its slot in the field and its score. */
export interface FieldHit {
  slot: number;
  score: number;
}

/**
 * Picks a search's best scored slots with a bounded heap whose arrays are kept between searches (the
 * worst leader at its root: lowest score; of equal ones, highest slot).
 */
export class TopSlots {
  private slots = new Int32Array(256);
  private scores = new Float64Array(256);

  /**
   * The `limit` best of the `touched` slots in `seen`, best first (ties: lower slot first), their scores
   * read from `scoreNorm[2 · slot]` and reset to 0 for the next search.
   */
  take(seen: Int32Array, touched: number, scoreNorm: Float64Array, limit: number): FieldHit[] {
    if (this.slots.length < limit) {
      this.slots = new Int32Array(limit);
      this.scores = new Float64Array(limit);
    }
    const { slots, scores } = this;
    const worse = (i: number, j: number) =>
      (scores[i] as number) < (scores[j] as number) ||
      ((scores[i] as number) === (scores[j] as number) && (slots[i] as number) > (slots[j] as number));
    const swap = (i: number, j: number) => {
      const slot = slots[i] as number;
      const score = scores[i] as number;
      slots[i] = slots[j] as number;
      scores[i] = scores[j] as number;
      slots[j] = slot;
      scores[j] = score;
    };
    let size = 0;
    for (let t = 0; t < touched; t++) {
      const slot = seen[t] as number;
      const score = scoreNorm[2 * slot] as number;
      scoreNorm[2 * slot] = 0;
      if (size < limit) {
        slots[size] = slot;
        scores[size] = score;
        for (let at = size++; at > 0; ) {
          const parent = (at - 1) >>> 1;
          if (!worse(at, parent)) break;
          swap(at, parent);
          at = parent;
        }
        continue;
      }
      const root = scores[0] as number;
      if (score < root || (score === root && slot > (slots[0] as number))) continue;
      slots[0] = slot;
      scores[0] = score;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        if (left >= size) break;
        const child = left + 1 < size && worse(left + 1, left) ? left + 1 : left;
        if (!worse(child, at)) break;
        swap(at, child);
        at = child;
      }
    }
    const best: FieldHit[] = [];
    for (let i = 0; i < size; i++) best.push({ slot: slots[i] as number, score: scores[i] as number });
    return best.sort((x, y) => y.score - x.score || x.slot - y.slot);
  }
}
