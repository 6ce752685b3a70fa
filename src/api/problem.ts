import type { Context as HonoContext } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { type ErrorCode, PrecedentError } from "../errors.js";
import { storageFailureMessage, storageFailureOf } from "../storageFailure.js";

/** Problem types are stable relative URIs: clients may switch on them. */
export const PROBLEM_TYPES = {
  validation: "/problems/validation-error",
  notFound: "/problems/not-found",
  conflict: "/problems/conflict",
  unavailable: "/problems/unavailable",
  locked: "/problems/locked",
  unauthorized: "/problems/unauthorized",
  forbidden: "/problems/forbidden",
  tooLarge: "/problems/payload-too-large",
  rateLimited: "/problems/rate-limited",
  insufficientStorage: "/problems/insufficient-storage",
  readOnlyStorage: "/problems/read-only-storage",
  unsupportedMediaType: "/problems/unsupported-media-type",
  internal: "/problems/internal-error",
} as const;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** the offending field, when one is at fault */
  field?: string;
  errors?: { field: string; message: string }[];
}

/** Answers with an RFC 9457 problem+json body. */
export function problemResponse(c: HonoContext, problem: Problem): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    "Content-Type": "application/problem+json",
  });
}

const FROM_CODE: Record<ErrorCode, { type: string; title: string; status: number }> = {
  not_found: { type: PROBLEM_TYPES.notFound, title: "Not found", status: 404 },
  conflict: { type: PROBLEM_TYPES.conflict, title: "Conflict", status: 409 },
  invalid_input: { type: PROBLEM_TYPES.validation, title: "Invalid input", status: 400 },
  unavailable: { type: PROBLEM_TYPES.unavailable, title: "Unavailable", status: 503 },
  locked: { type: PROBLEM_TYPES.locked, title: "Locked", status: 423 },
  unauthorized: { type: PROBLEM_TYPES.unauthorized, title: "Unauthorized", status: 401 },
  forbidden: { type: PROBLEM_TYPES.forbidden, title: "Forbidden", status: 403 },
  too_large: { type: PROBLEM_TYPES.tooLarge, title: "Payload too large", status: 413 },
  rate_limited: { type: PROBLEM_TYPES.rateLimited, title: "Too many requests", status: 429 },
  insufficient_storage: {
    type: PROBLEM_TYPES.insufficientStorage,
    title: "Insufficient storage",
    status: 507,
  },
};

/** The problem for a service error. */
export function problemFromCode(code: ErrorCode, detail: string, field?: string): Problem {
  return { ...FROM_CODE[code], detail, ...(field ? { field } : {}) };
}

/** The problem for a failed schema validation, naming every offending field. */
export function validationProblem(error: z.ZodError, target: string): Problem {
  // a fault with the JSON body as a whole (e.g. an array where an object belongs) is the body's
  const where = target === "json" ? "body" : target;
  const errors = error.issues.map((i) => {
    const path = i.path.join(".");
    // an unknown key is the field at fault, not the object holding it
    const unknown =
      i.code === "unrecognized_keys" ? i.keys.map((k) => (path ? `${path}.${k}` : k)).join(", ") : "";
    return { field: unknown || path || where, message: i.message };
  });
  const first = errors[0] ?? { field: where, message: "invalid" };
  return {
    type: PROBLEM_TYPES.validation,
    title: "Invalid input",
    status: 400,
    detail: `${first.field}: ${first.message}`,
    field: first.field,
    errors,
  };
}

/**
 * The problem for any thrown error: a service error by its code, hono's own 4xx (e.g. a body that is not
 * JSON) as invalid input, anything else as a 500 that quotes the request id and reveals nothing more.
 */
export function problemForError(err: unknown, requestId: string): Problem {
  if (err instanceof PrecedentError) return problemFromCode(err.code, err.message, err.field);
  const storage = storageFailureOf(err);
  if (storage === "full")
    return problemFromCode("insufficient_storage", storageFailureMessage(storage, "write"));
  if (storage === "read-only") {
    return {
      ...problemFromCode("unavailable", storageFailureMessage(storage, "write")),
      type: PROBLEM_TYPES.readOnlyStorage,
    };
  }
  if (err instanceof HTTPException && err.status === 415) {
    return {
      type: PROBLEM_TYPES.unsupportedMediaType,
      title: "Unsupported media type",
      status: 415,
      detail: "this route takes no body of this Content-Type: see its entry in /openapi.json",
      field: "content-type",
    };
  }
  if (err instanceof HTTPException && err.status < 500) {
    return {
      type: err.status === 413 ? PROBLEM_TYPES.tooLarge : PROBLEM_TYPES.validation,
      title: err.status === 413 ? "Payload too large" : "Invalid input",
      status: err.status,
      detail: err.message || "the request could not be read",
      field: "body",
    };
  }
  return {
    type: PROBLEM_TYPES.internal,
    title: "Internal error",
    status: 500,
    detail: `the request failed; quote request id ${requestId} when reporting it`,
  };
}
