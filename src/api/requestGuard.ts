import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { PrecedentError } from "../errors.js";
import { formatBytes, maxBodyBytes } from "./limits.js";

// Bodies of these media types (or of none) are text a route will read: they must be valid UTF-8
const TEXT_MEDIA = /^(application\/([\w.-]+\+)?json|application\/(x-)?ndjson|application\/jsonl|text\/.*)?$/i;

/** The path of the first string (or key) holding a NUL character, walked without recursion. */
export function findNul(root: unknown): string | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === "string") {
      if (value.includes("\0")) return path.join(".");
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, String(i)] });
    } else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value).reverse()) {
        const keyPath = [...path, key.replaceAll("\0", "\\u0000")];
        if (key.includes("\0")) return keyPath.join(".");
        stack.push({ value: child, path: keyPath });
      }
    }
  }
  return undefined;
}

function nulError(field: string, where = ""): PrecedentError {
  return new PrecedentError(
    "invalid_input",
    `${where}${field || "body"}: must not contain NUL (\\u0000) characters`,
    field || "body",
  );
}

/**
 * Postgres text and jsonb cannot hold NUL, so a NUL anywhere in a JSON (or NDJSON) body is refused here,
 * naming the field, before any route could pass it to the database. A body that is not JSON is left to
 * the route's own parser, which reports it.
 */
function rejectNul(text: string, ndjson: boolean): void {
  // a NUL can only reach a parsed JSON string through this escape (raw control characters are invalid JSON)
  if (!text.includes("\\u0000")) return;
  const parse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  if (!ndjson) {
    const field = findNul(parse(text));
    if (field !== undefined) throw nulError(field);
    return;
  }
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (!line.includes("\\u0000")) continue;
    const field = findNul(parse(line));
    if (field !== undefined) throw nulError(field, `line ${i + 1}: `);
  }
}

/** Refuses NUL in the path or query string: no route can store it, and a filter on it would fail in SQL. */
function rejectNulInUrl(c: HonoContext): void {
  if (/%00/.test(new URL(c.req.url).pathname)) throw nulError("path");
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (name.includes("\0") || values.some((v) => v.includes("\0"))) {
      throw nulError(name.replaceAll("\0", "\\u0000"));
    }
  }
}

async function checkBody(c: HonoContext): Promise<void> {
  if (!c.req.raw.body) return;
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!TEXT_MEDIA.test(mediaType)) return;
  // cached by hono: the route's validator and handler read the same bytes again without a second read
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new PrecedentError("invalid_input", "the body is not valid UTF-8", "body");
  }
  rejectNul(text, /ndjson|jsonl/i.test(mediaType));
}

/**
 * Guards every /v1 request before a route reads it: the body under its cap (413), valid UTF-8, and no NUL
 * characters in its strings, path or query (400 naming the field).
 */
export function requestGuard(): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  const limiterFor = (maxBytes: number) => {
    let limiter = limiters.get(maxBytes);
    if (!limiter) {
      limiter = bodyLimit({
        maxSize: maxBytes,
        onError: () => {
          throw new PrecedentError(
            "too_large",
            `the request body exceeds the ${formatBytes(maxBytes)} this route accepts`,
            "body",
          );
        },
      });
      limiters.set(maxBytes, limiter);
    }
    return limiter;
  };
  return async (c, next) => {
    rejectNulInUrl(c);
    await limiterFor(maxBodyBytes(c.req.path))(c, async () => {
      await checkBody(c);
      await next();
    });
  };
}
