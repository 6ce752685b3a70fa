import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { accessibleBank } from "../auth/access.js";
import { runs } from "../db/schema.js";
import { decodeSeqCursor, encodeSeqCursor } from "../db/seqCursor.js";
import type { CallContext } from "../services.js";
import type { RunStatus, RunVerdict } from "./runVocabulary.js";

const CURSOR_KIND = "runs";
export const RUNS_PAGE_DEFAULT = 20;
export const RUNS_PAGE_MAX = 100;

/** A run as a listing shows it: what was asked, what came out, how sure and how it was judged. */
export interface RunSummary {
  id: string;
  query: string;
  answer?: string;
  confidence?: number;
  verdict: RunVerdict;
  verification: string;
  status: RunStatus;
  /** the solve's total time (timings.totalMs), when it was recorded */
  latencyMs?: number;
  createdAt: Date;
  writtenMemoryId?: string;
}

export interface RunPage {
  runs: RunSummary[];
  /** pass back as `cursor` for the next (older) page; absent on the last page */
  nextCursor?: string;
}

/**
 * A bank's runs, newest first, one page at a time. Keyset pagination on the runs' insertion sequence:
 * runs saved while a client pages through land before its first page, never in between (no duplicates,
 * no gaps). Needs read access to the bank.
 */
export async function listRuns({
  ctx,
  input: { bankId, limit = RUNS_PAGE_DEFAULT, cursor, verdict },
}: {
  ctx: CallContext;
  input: { bankId: string; limit?: number; cursor?: string; verdict?: RunSummary["verdict"] };
}): Promise<RunPage> {
  await accessibleBank(ctx, bankId, "read");
  const take = Math.min(Math.max(1, Math.trunc(limit)), RUNS_PAGE_MAX);
  const after = cursor === undefined ? undefined : decodeSeqCursor(CURSOR_KIND, cursor);
  const rows = await ctx.db
    .select({
      id: runs.id,
      query: runs.query,
      answer: runs.answer,
      confidence: runs.confidence,
      verdict: runs.verdict,
      verification: runs.verification,
      status: runs.status,
      // only the total: the whole timings object is not worth shipping for a listing
      latencyMs: sql<number | string | null>`(${runs.timings}->>'totalMs')::double precision`,
      createdAt: runs.createdAt,
      writtenMemoryId: runs.writtenMemoryId,
      seq: runs.seq,
    })
    .from(runs)
    .where(
      and(
        eq(runs.bankId, bankId),
        // shadow runs are read through their run and the bank's impact, not listed as traffic
        isNull(runs.shadowOf),
        verdict ? eq(runs.verdict, verdict) : undefined,
        after === undefined ? undefined : lt(runs.seq, after),
      ),
    )
    .orderBy(desc(runs.seq))
    // one more than asked: whether it exists says if there is a next page
    .limit(take + 1);
  const page = rows.slice(0, take);
  const last = page.at(-1);
  return {
    runs: page.map((r) => ({
      id: r.id,
      query: r.query,
      answer: r.answer ?? undefined,
      confidence: r.confidence ?? undefined,
      verdict: r.verdict as RunSummary["verdict"],
      verification: r.verification,
      status: r.status as RunSummary["status"],
      latencyMs: r.latencyMs === null ? undefined : Number(r.latencyMs),
      createdAt: r.createdAt,
      writtenMemoryId: r.writtenMemoryId ?? undefined,
    })),
    ...(rows.length > take && last ? { nextCursor: encodeSeqCursor(CURSOR_KIND, Number(last.seq)) } : {}),
  };
}
