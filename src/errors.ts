/** The kinds of failure a caller can act on; the REST layer maps each to a status and a problem type. */
export type ErrorCode =
  | "not_found"
  | "conflict"
  | "invalid_input"
  | "unavailable"
  | "locked"
  | "unauthorized"
  | "forbidden"
  | "too_large"
  | "rate_limited"
  | "insufficient_storage";

/** An expected failure of a service, with the field at fault when there is one. Free of HTTP. */
export class PrecedentError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "PrecedentError";
  }
}

/** What a not-found error can name. */
export type Resource = "bank" | "run" | "memory" | "key";

/**
 * The one not-found error: for what is not there, and alike for what the caller may not see, so no answer
 * tells a key of bank A that bank B (or one of its runs) exists. `field` is the input that named it.
 */
export function notFound(resource: Resource, id: string, field: string = resource): PrecedentError {
  return new PrecedentError("not_found", `${resource} "${id}" does not exist`, field);
}
