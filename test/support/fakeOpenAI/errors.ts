function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

/** A request the fake cannot serve, answered with this HTTP status and an OpenAI-style error body. */
export class FakeRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = errorType(status),
  ) {
    super(message);
  }

  /** The body OpenAI sends with an error, which the SDK turns into APIError's message. */
  toJSON() {
    return { error: { message: this.message, type: this.type, param: null, code: null } };
  }
}
