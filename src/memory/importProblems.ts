import { z } from "zod";
import { accessibleBank } from "../auth/access.js";
import { recordAction } from "../auth/audit.js";
import { domainOf } from "../domains/domain.js";
import { newId } from "../ids.js";
import { MAX_PROBLEM_CHARS } from "../limits.js";
import type { CallContext } from "../services.js";
import { problemHash } from "./problemHash.js";
import { insertAndIndex, reconcileIndex } from "./reconcile.js";
import type { NewMemory } from "./store.js";
import { type MemorySource, trustOf, verificationSchema } from "./trust.js";

/** One solved problem as it arrives from a file or a request. */
export const problemInputSchema = z
  .object({
    problem: z.string().trim().min(1, "must not be empty").max(MAX_PROBLEM_CHARS),
    answer: z.string().trim().min(1, "must not be empty").max(5_000),
    reasoning: z.string().max(50_000).default(""),
    verification: verificationSchema.default("gold"),
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ProblemInput = z.input<typeof problemInputSchema>;

/** A row read from a source: a candidate problem, or the reason its line could not be read. */
export type SourceRow = { line: number; value: unknown } | { line: number; error: string };

/** One line of JSON lines as a source row: its parsed value, or why it is not JSON. */
export function jsonLineRow(line: number, text: string): SourceRow {
  try {
    return { line, value: JSON.parse(text) };
  } catch (e) {
    return { line, error: `not valid JSON (${(e as Error).message})` };
  }
}

export interface Rejection {
  line: number;
  reason: string;
}

export interface ImportResult {
  inserted: number;
  duplicates: number;
  rejected: Rejection[];
}

const BATCH = 1000;

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "row"}: ${i.message}`).join("; ");
}

/**
 * Imports solved problems into a bank: each row validated (a bad row is reported with its line and
 * skipped, the good ones kept), deduplicated on the problem hash (re-importing adds nothing), written to
 * the records in batches and then to the index. A crash at any point is resumed by running it again.
 * Needs write access to the bank.
 */
export async function importProblems({
  ctx,
  input: { bankId, rows, source, onProgress },
}: {
  ctx: CallContext;
  input: {
    bankId: string;
    rows: AsyncIterable<SourceRow> | Iterable<SourceRow>;
    source: MemorySource;
    onProgress?: (progress: ImportResult & { read: number }) => void;
  };
}): Promise<ImportResult> {
  const bank = await accessibleBank(ctx, bankId, "write");
  const domain = domainOf(bank.domain);
  const result: ImportResult = { inserted: 0, duplicates: 0, rejected: [] };
  let read = 0;
  let batch: NewMemory[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const unique = [...new Map(batch.map((m) => [m.problemHash, m])).values()];
    const inserted = await insertAndIndex(ctx, unique);
    result.inserted += inserted.length;
    result.duplicates += batch.length - inserted.length;
    batch = [];
    onProgress?.({ ...result, read });
  };

  for await (const row of rows) {
    read++;
    if ("error" in row) {
      result.rejected.push({ line: row.line, reason: row.error });
      continue;
    }
    const parsed = problemInputSchema.safeParse(row.value);
    if (!parsed.success) {
      result.rejected.push({ line: row.line, reason: describe(parsed.error) });
      continue;
    }
    const p = parsed.data;
    const canonical = domain.canonicalize(p.answer);
    if (canonical === undefined) {
      result.rejected.push({
        line: row.line,
        reason: `answer: "${p.answer}" is not a ${bank.domain} answer`,
      });
      continue;
    }
    batch.push({
      id: newId("mem"),
      bankId: bank.id,
      problem: p.problem,
      reasoning: p.reasoning,
      answer: p.answer,
      answerCanonical: canonical,
      problemHash: problemHash(p.problem),
      source,
      verification: p.verification,
      verificationDetail: { by: source, line: row.line },
      trust: trustOf(p.verification),
      status: "active",
      metadata: p.metadata,
    });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  // whatever an earlier, interrupted import left unindexed
  await reconcileIndex({ ctx, bankId: bank.id });
  // the vector index of a large bank is built by the caller when it can afford to wait (seed does);
  // until then new rows are searched exactly, so nothing is missed
  await ctx.index.optimize(bank.id, { vectorIndex: false });
  // one record for the whole import (it commits batch by batch, so a crash before this leaves the rows
  // that landed unattributed; they keep their source and line)
  const { inserted, duplicates, rejected } = result;
  await recordAction(ctx, "problems.import", {
    bankId: bank.id,
    detail: { source, read, inserted, duplicates, rejected: rejected.length },
  });
  return result;
}
