import { and, desc, eq, ilike, lt, or } from "drizzle-orm";
import { accessibleBank } from "../auth/access.js";
import { memories, runRecalls, runs } from "../db/schema.js";
import { decodeSeqCursor, encodeSeqCursor } from "../db/seqCursor.js";
import { PrecedentError } from "../errors.js";
import type { CallContext, Services } from "../services.js";
import { utilityPrior, verifiedUtility } from "./credit.js";
import type { MemorySource, MemoryStatus, Verification } from "./trust.js";

const CURSOR_KIND = "memories";
export const MEMORIES_PAGE_DEFAULT = 20;
export const MEMORIES_PAGE_MAX = 100;
/** The most recalling runs a memory's detail lists (newest first); `usage.recalled` has the full count. */
export const RECALLED_BY_MAX = 50;

/** A memory with its provenance and how it has fared. */
export interface MemoryView {
  id: string;
  bankId: string;
  problem: string;
  reasoning: string;
  answer: string;
  answerCanonical: string;
  source: string;
  /** the run that wrote it (source `run`) */
  runId?: string;
  model?: string;
  verification: string;
  verificationDetail: Record<string, unknown>;
  trust: number;
  status: string;
  usage: { recalled: number; helped: number; hurt: number; support: number };
  /** prior: what recall ranks by; verified: what automatic retirement judges by */
  utility: { prior: number; verified: number };
  metadata: Record<string, unknown>;
  version: number;
  /** whether the search index has caught up with this version */
  indexed: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A run that recalled a memory, and how it ranked there. */
export interface RecalledBy {
  runId: string;
  rank: number;
  finalScore: number;
  verdict: string;
  createdAt: Date;
}

export interface MemoryDetail extends MemoryView {
  recalledBy: RecalledBy[];
}

export interface MemoryFilter {
  status?: MemoryStatus;
  verification?: Verification;
  source?: MemorySource;
  /** case-insensitive substring of the problem, reasoning or answer */
  q?: string;
}

export interface MemoryPage {
  memories: MemoryView[];
  /** pass back as `cursor` for the next (older) page; absent on the last page */
  nextCursor?: string;
}

/** A stored memory row as callers see it. */
export function toMemoryView(row: typeof memories.$inferSelect): MemoryView {
  return {
    id: row.id,
    bankId: row.bankId,
    problem: row.problem,
    reasoning: row.reasoning,
    answer: row.answer,
    answerCanonical: row.answerCanonical,
    source: row.source,
    runId: row.runId ?? undefined,
    model: row.model ?? undefined,
    verification: row.verification,
    verificationDetail: row.verificationDetail as Record<string, unknown>,
    trust: row.trust,
    status: row.status,
    usage: {
      recalled: row.recalledCount,
      helped: row.helpedCount,
      hurt: row.hurtCount,
      support: row.supportCount,
    },
    utility: { prior: utilityPrior(row), verified: verifiedUtility(row) },
    metadata: row.metadata as Record<string, unknown>,
    version: row.version,
    // an import's rows read as indexed from their insert, a moment before its index write lands (its claim)
    indexed: row.indexVersion >= row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** `text` as a LIKE pattern matching it anywhere, its own wildcards taken literally. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A bank's memories, newest first, filtered, one page at a time (keyset on the insertion sequence, so
 * memories written while a client pages through never shift a page). Needs read access to the bank.
 */
export async function listMemories({
  ctx,
  input: { bankId, filter = {}, limit = MEMORIES_PAGE_DEFAULT, cursor },
}: {
  ctx: CallContext;
  input: { bankId: string; filter?: MemoryFilter; limit?: number; cursor?: string };
}): Promise<MemoryPage> {
  await accessibleBank(ctx, bankId, "read");
  const take = Math.min(Math.max(1, Math.trunc(limit)), MEMORIES_PAGE_MAX);
  const after = cursor === undefined ? undefined : decodeSeqCursor(CURSOR_KIND, cursor);
  const pattern = filter.q ? containsPattern(filter.q) : undefined;
  const rows = await ctx.db
    .select()
    .from(memories)
    .where(
      and(
        eq(memories.bankId, bankId),
        filter.status ? eq(memories.status, filter.status) : undefined,
        filter.verification ? eq(memories.verification, filter.verification) : undefined,
        filter.source ? eq(memories.source, filter.source) : undefined,
        pattern
          ? or(
              ilike(memories.problem, pattern),
              ilike(memories.reasoning, pattern),
              ilike(memories.answer, pattern),
            )
          : undefined,
        after === undefined ? undefined : lt(memories.seq, after),
      ),
    )
    .orderBy(desc(memories.seq))
    // one more than asked: whether it exists says if there is a next page
    .limit(take + 1);
  const page = rows.slice(0, take);
  const last = page.at(-1);
  return {
    memories: page.map(toMemoryView),
    ...(rows.length > take && last ? { nextCursor: encodeSeqCursor(CURSOR_KIND, Number(last.seq)) } : {}),
  };
}

/** The memory `id` of this bank; not_found for an unknown id or a memory of another bank. */
export async function findBankMemory(
  ctx: Services,
  bankId: string,
  id: string,
): Promise<typeof memories.$inferSelect> {
  const [row] = await ctx.db
    .select()
    .from(memories)
    .where(and(eq(memories.id, id), eq(memories.bankId, bankId)));
  // another bank's memory is reported exactly like a missing one: its existence is not the caller's business
  if (!row) throw new PrecedentError("not_found", `memory "${id}" does not exist in bank "${bankId}"`, "id");
  return row;
}

/**
 * A memory of the bank with its provenance, usage and the runs that recalled it (newest first, capped).
 * Needs read access to the bank.
 */
export async function getMemory({
  ctx,
  input: { bankId, id },
}: {
  ctx: CallContext;
  input: { bankId: string; id: string };
}): Promise<MemoryDetail> {
  await accessibleBank(ctx, bankId, "read");
  const row = await findBankMemory(ctx, bankId, id);
  const recalledBy = await ctx.db
    .select({
      runId: runRecalls.runId,
      rank: runRecalls.rank,
      finalScore: runRecalls.finalScore,
      verdict: runs.verdict,
      createdAt: runs.createdAt,
    })
    .from(runRecalls)
    .innerJoin(runs, eq(runs.id, runRecalls.runId))
    .where(eq(runRecalls.memoryId, id))
    .orderBy(desc(runs.seq))
    .limit(RECALLED_BY_MAX);
  return { ...toMemoryView(row), recalledBy };
}
