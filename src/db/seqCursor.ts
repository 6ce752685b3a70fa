import { PrecedentError } from "../errors.js";

/**
 * Keyset cursors over a `seq` (bigserial) column, for newest-first pages. A cursor is the seq of the last
 * row of a page, tagged with what it pages over and base64url-encoded: opaque to clients, and it stays
 * right under concurrent inserts (new rows get a higher seq and land before the first page, never
 * between pages), unlike an offset.
 */
export function encodeSeqCursor(kind: string, seq: number): string {
  return Buffer.from(`${kind}:${seq}`, "utf8").toString("base64url");
}

/** The seq a cursor of this kind points after; invalid_input (field `cursor`) for anything else. */
export function decodeSeqCursor(kind: string, cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const match = /^([a-z]+):(\d{1,15})$/.exec(text);
  if (!match || match[1] !== kind) {
    throw new PrecedentError("invalid_input", "not a cursor this listing issued", "cursor");
  }
  return Number(match[2]);
}
