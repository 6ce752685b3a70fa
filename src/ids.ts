import { randomBytes } from "node:crypto";

/** A time-ordered id with a readable prefix (`mem_…`, `run_…`), so ids sort by creation. */
export function newId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, "0");
  return `${prefix}_${time}${randomBytes(8).toString("hex")}`;
}
