/**
 * The REST API's limits on request bodies, in one place (the limits on what is asked are in src/limits.ts) (README "Limits" documents them). A body over its cap answers 413
 * before anything reads it; a field over its cap answers 400 naming the field.
 */

/** Bytes of any /v1 request body except the bulk import's. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * Bytes of a bulk problem import body: 10,000 GSM8K-sized problems with their reasoning take ~10 MB, so
 * 32 MiB leaves room for longer ones while one request still fits comfortably in memory.
 */
export const MAX_IMPORT_BODY_BYTES = 32 * 1024 * 1024;

/** Problems in one bulk import request; larger sets go in several requests (import is idempotent). */
export const MAX_IMPORT_BATCH = 10_000;

/** Routes whose bodies may exceed MAX_JSON_BODY_BYTES, with their own cap. */
const LARGE_BODY_ROUTES: { path: RegExp; maxBytes: number }[] = [
  { path: /^\/v1\/banks\/[^/]+\/problems\/?$/, maxBytes: MAX_IMPORT_BODY_BYTES },
];

/** The body cap for a request path. */
export function maxBodyBytes(path: string): number {
  return LARGE_BODY_ROUTES.find((r) => r.path.test(path))?.maxBytes ?? MAX_JSON_BODY_BYTES;
}

/** A byte count as people read it, e.g. "1 MiB". */
export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
