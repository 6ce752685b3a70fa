import type { Context as HonoContext } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ErrorCode } from "../errors.js";

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
};

/** The problem for a service error. */
export function problemFromCode(code: ErrorCode, detail: string, field?: string): Problem {
  return { ...FROM_CODE[code], detail, ...(field ? { field } : {}) };
}

/** The problem for a failed schema validation, naming every offending field. */
export function validationProblem(error: z.ZodError, where: string): Problem {
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
