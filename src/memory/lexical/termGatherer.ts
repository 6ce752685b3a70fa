import { type ForwardTerms, TermPositions } from "./forwardTerms.js";

/**
 * Reads, for a list of term ids, a document's count of each from the forward index: `begin` marks the
 * terms, `gather` fills `found` for one slot (as many slots as wanted), `end` clears the marks. The
 * arrays are kept between uses.
 */
export class TermGatherer {
  /** found[i]: the gathered slot's count of the i-th term, 0 for none */
  found = new Uint8Array(256);
  // by term id: its position + 1 among the terms being gathered, else 0
  private marks = new Uint8Array(0);
  // a list too long for a byte position is looked up in a hash set instead
  private positions: TermPositions | undefined;
  private ids: number[] = [];

  /** Marks the terms `ids` (positions in that order); `termCount` bounds the ids. */
  begin(ids: number[], termCount: number): void {
    this.ids = ids;
    if (this.found.length < ids.length) this.found = new Uint8Array(2 * ids.length);
    if (ids.length >= 255) {
      this.positions = new TermPositions(ids);
      return;
    }
    this.positions = undefined;
    if (this.marks.length < termCount) this.marks = new Uint8Array(Math.ceil(termCount * 1.5));
    for (let i = 0; i < ids.length; i++) this.marks[ids[i] as number] = i + 1;
  }

  /** Sets `found[i]` to the slot's count of the i-th marked term (0 when it has none). */
  gather(forward: ForwardTerms, slot: number): Uint8Array {
    const { termIds, termCounts } = forward;
    const { found, positions } = this;
    found.fill(0, 0, this.ids.length);
    const from = forward.from(slot);
    const to = from + forward.length(slot);
    if (positions) {
      for (let p = from; p < to; p++) {
        const at = positions.positionOf(termIds[p] as number);
        if (at >= 0) found[at] = termCounts[p] as number;
      }
      return found;
    }
    const marks = this.marks;
    for (let p = from; p < to; p++) {
      const at = marks[termIds[p] as number] as number;
      if (at > 0) found[at - 1] = termCounts[p] as number;
    }
    return found;
  }

  /** Clears the marks `begin` set. */
  end(): void {
    if (!this.positions) for (const id of this.ids) this.marks[id] = 0;
    this.positions = undefined;
    this.ids = [];
  }
}
