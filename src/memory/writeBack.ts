import { and, eq, sql } from "drizzle-orm";
import { memories } from "../db/schema.js";
import { newId } from "../ids.js";
import type { Services } from "../services.js";
import type { Bank } from "./banks.js";
import { dot } from "./embed/embedder.js";
import { feedbackDecisionOf } from "./feedbackDecision.js";
import { problemHash } from "./problemHash.js";
import { INDEXABLE_FIELDS, indexAfterWrite } from "./reconcile.js";
import { insertMemories } from "./store.js";
import { type MemorySource, trustOf, type Verification } from "./trust.js";

/** Cosine similarity from which two problems with the same numbers and answer are one problem reworded. */
const NEAR_DUPLICATE_SIMILARITY = 0.97;

export interface WriteBackInput {
  /** the bank the solution is remembered in */
  bank: Bank;
  problem: string;
  reasoning: string;
  answer: string;
  answerCanonical: string;
  verification: Verification;
  verificationDetail: Record<string, unknown>;
  runId: string;
  /** the model that wrote the solution; absent when an agent found it (see metadata) */
  model?: string;
  /** who produced it: a solve (default) or an agent */
  source?: MemorySource;
  /** provenance kept with a new memory, e.g. the agent's key id and client */
  metadata?: Record<string, unknown>;
  /** the bank's memories nearest to the problem with their cosine similarity, when a recall already
   * found them; otherwise the index is searched */
  neighbours?: { id: string; similarity: number }[];
}

export type WriteBackResult =
  | { action: "created"; memoryId: string; status: "active" | "quarantined" }
  | { action: "supported"; memoryId: string; status: string; promoted: boolean }
  | { action: "conflict"; memoryId: string; detail: string };

/** The numbers of a text as a sorted list: a reworded problem keeps them, a different problem rarely does. */
function numbersOf(text: string): string {
  return (text.match(/\d+(?:\.\d+)?/g) ?? []).sort().join(",");
}

/**
 * Stores a run's (or an agent's) solution as a memory. Verified at or above the bank's write-back tier it is active;
 * below it is quarantined (never recalled until a checker or feedback promotes it). The same problem
 * already in the bank (same normalized text, or a near-duplicate: same numbers, same answer, almost the
 * same vector) gains support instead of a copy; a stronger verification promotes it.
 */
export async function writeBack({
  ctx,
  input,
}: {
  ctx: Services;
  input: WriteBackInput;
}): Promise<WriteBackResult> {
  const { bank } = input;
  const trust = trustOf(input.verification);
  const status = trust >= trustOf(bank.settings.writeBackTier) ? "active" : "quarantined";
  const hash = problemHash(input.problem);

  const duplicate = (await sameProblem(ctx, bank.id, hash)) ?? (await nearDuplicate(ctx, bank.id, input));
  if (duplicate) return support(ctx, duplicate, input, trust, status);

  const [inserted] = await insertMemories(ctx.db, [
    {
      id: newId("mem"),
      bankId: bank.id,
      problem: input.problem,
      reasoning: input.reasoning,
      answer: input.answer,
      answerCanonical: input.answerCanonical,
      problemHash: hash,
      source: input.source ?? "run",
      runId: input.runId,
      model: input.model ?? null,
      verification: input.verification,
      verificationDetail: input.verificationDetail,
      trust,
      status,
      metadata: input.metadata ?? {},
    },
  ]);
  if (!inserted) {
    // another solve of the same problem wrote it between our check and our insert
    const winner = await sameProblem(ctx, bank.id, hash);
    if (!winner) throw new Error(`memory for problem ${hash} vanished during write-back`);
    return support(ctx, winner, input, trust, status);
  }
  await indexAfterWrite(ctx, [inserted]);
  return { action: "created", memoryId: inserted.id, status };
}

interface Existing {
  id: string;
  answerCanonical: string;
  trust: number;
  status: string;
  verificationDetail: unknown;
}

const EXISTING_FIELDS = {
  id: memories.id,
  answerCanonical: memories.answerCanonical,
  trust: memories.trust,
  status: memories.status,
  verificationDetail: memories.verificationDetail,
};

async function sameProblem(ctx: Services, bankId: string, hash: string): Promise<Existing | undefined> {
  const [row] = await ctx.db
    .select(EXISTING_FIELDS)
    .from(memories)
    .where(and(eq(memories.bankId, bankId), eq(memories.problemHash, hash)));
  return row;
}

async function nearest(ctx: Services, bankId: string, problem: string) {
  const [vector] = await ctx.embedder.embed([problem]);
  const hits = await ctx.index.searchVector(bankId, vector as Float32Array, 1);
  return hits.map((h) => ({ id: h.id, similarity: dot(vector as Float32Array, h.vector) }));
}

async function nearDuplicate(
  ctx: Services,
  bankId: string,
  input: WriteBackInput,
): Promise<Existing | undefined> {
  const neighbours = input.neighbours ?? (await nearest(ctx, bankId, input.problem));
  const hit = neighbours.find((n) => n.similarity >= NEAR_DUPLICATE_SIMILARITY);
  if (!hit) return undefined;
  const [row] = await ctx.db
    .select({ ...EXISTING_FIELDS, problem: memories.problem })
    .from(memories)
    .where(and(eq(memories.bankId, bankId), eq(memories.id, hit.id)));
  if (!row || row.answerCanonical !== input.answerCanonical) return undefined;
  if (numbersOf(row.problem) !== numbersOf(input.problem)) return undefined;
  return row;
}

async function support(
  ctx: Services,
  existing: Existing,
  input: WriteBackInput,
  trust: number,
  status: "active" | "quarantined",
): Promise<WriteBackResult> {
  if (existing.answerCanonical !== input.answerCanonical) {
    return {
      action: "conflict",
      memoryId: existing.id,
      detail: `the bank holds answer ${existing.answerCanonical} for this problem; the run answered ${input.answerCanonical}`,
    };
  }
  // a quarantined memory confirmed at the write-back tier becomes active (and searchable); so does one that
  // feedback refuted, when a verifier above feedback (gold, a checker) finds its answer right
  const overrules =
    existing.status === "retired" &&
    feedbackDecisionOf(existing.verificationDetail)?.verdict === "incorrect" &&
    trust > trustOf("feedback");
  const promote = (existing.status === "quarantined" || overrules) && status === "active";
  const [row] = await ctx.db
    .update(memories)
    .set({
      supportCount: sql`${memories.supportCount} + 1`,
      updatedAt: new Date(),
      ...(promote
        ? {
            status: "active",
            trust,
            verification: input.verification,
            verificationDetail: input.verificationDetail,
            version: sql`${memories.version} + 1`,
          }
        : {}),
    })
    .where(eq(memories.id, existing.id))
    .returning(INDEXABLE_FIELDS);
  if (promote && row) await indexAfterWrite(ctx, [row]);
  return {
    action: "supported",
    memoryId: existing.id,
    status: row?.status ?? existing.status,
    promoted: promote,
  };
}
