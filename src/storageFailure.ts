/** A write refused by the storage itself, as opposed to a bug or bad input. */
export type StorageFailure = "full" | "read-only";

// errno codes from Node and LanceDB, SQLSTATEs from Postgres / PGlite
const FULL_CODES = new Set(["ENOSPC", "EDQUOT", "53100"]);
const READ_ONLY_CODES = new Set(["EROFS", "25006"]);
const FULL_TEXT = /no space left on device|disk quota exceeded|disk full/i;
const READ_ONLY_TEXT = /read-only file system|read-only transaction/i;

/** Whether `err` (or what caused it, however deeply wrapped) is a full or read-only storage. */
export function storageFailureOf(err: unknown): StorageFailure | undefined {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 8; depth++) {
    const code = typeof e.code === "string" ? e.code : undefined;
    const message = typeof e.message === "string" ? e.message : "";
    if ((code && FULL_CODES.has(code)) || FULL_TEXT.test(message)) return "full";
    if ((code && READ_ONLY_CODES.has(code)) || READ_ONLY_TEXT.test(message)) return "read-only";
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * What to tell a person about a storage failure: what happened, and that stored data is untouched. `at`
 * says whether a request's write failed or the process could not open its stores.
 */
export function storageFailureMessage(kind: StorageFailure, at: "write" | "start", where?: string): string {
  const state = kind === "full" ? "full" : "read-only";
  const place = where ? ` (${where})` : "";
  const fix = kind === "full" ? "free space" : "make it writable";
  return at === "write"
    ? `the storage precedent writes to is ${state}${place}: this write was not completed; ${fix} and retry (an import is idempotent: running it again adds only what is missing). Data stored before is unchanged and can still be read.`
    : `cannot open the stores: the storage is ${state}${place}. Nothing was changed; ${fix} and start again.`;
}
