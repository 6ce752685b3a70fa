import type { MiddlewareHandler } from "hono";
import { PrecedentError } from "../errors.js";
import { ctxOf } from "./callContext.js";

export interface RateLimitOptions {
  /** requests per minute each API key may make on average; 0 turns the limit off */
  perMinute: number;
  /** requests a key may make at once after being idle (the bucket's size) */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perMinute: 600, burst: 120 };

/** The outcome of asking for one request's worth of a key's allowance. */
export type RateDecision =
  | { allowed: true; remaining: number }
  | { allowed: false; retryAfterSeconds: number };

/** Per-key token buckets, kept for as long as the process (or Worker isolate) lives. */
export interface RateLimiter {
  readonly options: RateLimitOptions;
  take(key: string): RateDecision;
}

// past this many tracked keys, buckets that have refilled are forgotten (they hold no information)
const PRUNE_ABOVE = 10_000;

/** A token bucket per key: `perMinute` on average, `burst` at once. `now` is injectable for tests. */
export function createRateLimiter(options: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = options.perMinute / 60_000;
  const capacity = Math.max(1, options.burst);
  const refilled = (b: { tokens: number; at: number }, t: number) =>
    Math.min(capacity, b.tokens + (t - b.at) * perMs);
  return {
    options,
    take(key) {
      if (options.perMinute <= 0) return { allowed: true, remaining: capacity };
      const t = now();
      const bucket = buckets.get(key);
      const tokens = bucket ? refilled(bucket, t) : capacity;
      if (tokens < 1) {
        buckets.set(key, { tokens, at: t });
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
      }
      buckets.set(key, { tokens: tokens - 1, at: t });
      if (buckets.size > PRUNE_ABOVE) {
        for (const [k, b] of buckets) if (refilled(b, t) >= capacity) buckets.delete(k);
      }
      return { allowed: true, remaining: Math.floor(tokens - 1) };
    },
  };
}

/**
 * Holds each API key to its allowance: over it a request gets 429 with Retry-After and RateLimit-*
 * headers before it touches anything. The admin token and an open server are the operator and are not
 * limited. Each process (or Worker isolate) counts on its own.
 */
export function rateLimit(limiter: RateLimiter): MiddlewareHandler {
  return async (c, next) => {
    const { principal } = ctxOf(c);
    if (limiter.options.perMinute <= 0 || principal.kind !== "key") return next();
    const decision = limiter.take(principal.keyId);
    c.header("RateLimit-Limit", String(limiter.options.perMinute));
    if (!decision.allowed) {
      c.header("RateLimit-Remaining", "0");
      c.header("Retry-After", String(decision.retryAfterSeconds));
      const { perMinute, burst } = limiter.options;
      throw new PrecedentError(
        "rate_limited",
        `this API key may make ${perMinute} requests a minute (bursts of ${burst}); retry in ${decision.retryAfterSeconds} s`,
        "authorization",
      );
    }
    c.header("RateLimit-Remaining", String(decision.remaining));
    return next();
  };
}
