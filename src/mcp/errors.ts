import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { type Problem, problemForError, validationProblem } from "../api/problem.js";
import { findNul } from "../api/requestGuard.js";
import { PrecedentError } from "../errors.js";
import type { Logger } from "../log.js";

/** Arguments a tool's schema refused, with REST's problem for them (the same fields, the same messages). */
class InvalidArguments extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/**
 * A tool's arguments as its schema reads them. Postgres text cannot hold NUL, so a NUL anywhere is refused
 * first, naming the field, as REST refuses it before any route reads a body.
 */
export function checkArguments<Schema extends z.ZodType>(schema: Schema, args: unknown): z.output<Schema> {
  const nul = findNul(args);
  if (nul !== undefined) {
    throw new PrecedentError(
      "invalid_input",
      `${nul || "arguments"}: must not contain NUL (\\u0000) characters`,
      nul || "arguments",
    );
  }
  const parsed = schema.safeParse(args);
  if (!parsed.success) throw new InvalidArguments(validationProblem(parsed.error, "arguments"));
  return parsed.data;
}

/** The problem for any failure of a tool or resource: what REST would answer, as problem+json's fields. */
export function problemOf(e: unknown, requestId: string): Problem {
  if (e instanceof InvalidArguments) return e.problem;
  if (e instanceof z.ZodError) return validationProblem(e, "arguments");
  return problemForError(e, requestId);
}

/**
 * A failed tool call as MCP reports one (a result with isError, so an agent reads it and can correct
 * itself): its text is the problem as JSON, with the `type`, `detail` and `field` REST would give.
 */
export function toolError(
  e: unknown,
  { log, requestId, tool }: { log: Logger; requestId: string; tool: string },
): CallToolResult {
  const problem = problemOf(e, requestId);
  if (problem.status === 500) log.error({ err: e, tool, requestId }, "MCP tool failed");
  return { isError: true, content: [{ type: "text", text: JSON.stringify(problem) }] };
}
