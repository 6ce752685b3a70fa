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
