import { asc, eq } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { runRecalls, runSamples, runs } from "../db/schema.js";
import { RECALL_SIGNALS, type RecallScores } from "../memory/recallResult.js";
import type { Verification } from "../memory/trust.js";
import type { DecodingRecord } from "./cotDecoding.js";
import type { RunStatus, RunVerdict, ShadowKind } from "./runVocabulary.js";
import type { ChainSample } from "./sample.js";
import type { Abstraction, Strategy } from "./strategy.js";
import type { SelectionRecord } from "./universalSelection.js";

/** A recalled memory as a run records it. */
export interface RunRecall {
  memoryId: string;
  rank: number;
  scores: RecallScores;
}

/** One sampled chain of thought as a run records it: what sampling produced. */
export type RunSample = ChainSample;

/** A run's strategy: the one used, the one asked for (they differ when recall found nothing to show), and its products. */
export interface StrategyRecord {
  name: Strategy;
  asked: Strategy;
  /** true when the asked strategy gave way to the bank's fallbackStrategy */
  fallback: boolean;
  /** step-back: the principle the model stated first, and its tokens */
  abstraction?: Abstraction;
  /** analogical: the problems each chain wrote and solved for itself before the question */
  analogies?: { sample: number; text: string }[];
  /** universal self-consistency: the sample the model picked, its reason, and how many samples agree */
  selection?: SelectionRecord;
  /** CoT-decoding: each path's first token and answer margin, and the path picked */
  decoding?: DecodingRecord;
}

/** Everything a solve did, as stored and as returned when inspected. */
export interface RunRecord {
  id: string;
  bankId: string;
  query: string;
  queryHash: string;
  params: Record<string, unknown>;
  prompt: unknown[];
  answer?: string;
  answerCanonical?: string;
  confidence?: number;
  votes: unknown;
  verification: Verification;
  verificationDetail: Record<string, unknown>;
  verdict: RunVerdict;
  status: RunStatus;
  error?: string;
  writtenMemoryId?: string;
  timings: Record<string, number>;
  usage: Record<string, number>;
  model?: string;
  recalls: RunRecall[];
  samples: RunSample[];
  /** how the model was prompted (src/reasoning/strategy.ts), with what the strategy produced on the way */
  strategy?: StrategyRecord;
  /** set on a shadow run: the run it answered again, and how (params.withheld: the example left out) */
  shadow?: { of: string; kind: ShadowKind };
  /** the shadow runs made of this run, when it is read back */
  shadows?: { id: string; kind: ShadowKind }[];
}

/**
 * Stores a run with its recalls and samples in one statement (the children in data-modifying CTEs), so a
 * run is never half-written, and one round trip does it whether or not a transaction is open around it.
 */
export async function saveRun(db: Database, run: RunRecord): Promise<void> {
  const children = [];
  if (run.recalls.length > 0) {
    const rows = run.recalls.map((r) => ({
      runId: run.id,
      memoryId: r.memoryId,
      rank: r.rank,
      signals: Object.fromEntries(RECALL_SIGNALS.map((name) => [name, r.scores[name]])),
      utility: r.scores.utility,
      finalScore: r.scores.final,
    }));
    children.push(
      db.$with("recalled").as(db.insert(runRecalls).values(rows).returning({ rank: runRecalls.rank })),
    );
  }
  if (run.samples.length > 0) {
    const rows = run.samples.map((s) => ({
      runId: run.id,
      index: s.index,
      text: s.text,
      answer: s.answer ?? null,
      answerCanonical: s.answerCanonical ?? null,
      confidence: s.confidence ?? null,
      tokens: s.tokens,
    }));
    children.push(
      db.$with("sampled").as(db.insert(runSamples).values(rows).returning({ index: runSamples.index })),
    );
  }
  // Postgres runs every data-modifying CTE to completion, read or not; the foreign keys to the run row
  // are checked at the end of the statement, when it exists
  await db
    .with(...children)
    .insert(runs)
    .values({
      id: run.id,
      bankId: run.bankId,
      query: run.query,
      queryHash: run.queryHash,
      params: run.params,
      prompt: run.prompt,
      answer: run.answer ?? null,
      answerCanonical: run.answerCanonical ?? null,
      confidence: run.confidence ?? null,
      votes: run.votes,
      verification: run.verification,
      verificationDetail: run.verificationDetail,
      verdict: run.verdict,
      status: run.status,
      error: run.error ?? null,
      writtenMemoryId: run.writtenMemoryId ?? null,
      timings: run.timings,
      usage: run.usage,
      model: run.model ?? null,
      strategy: run.strategy ?? {},
      shadowOf: run.shadow?.of ?? null,
      shadowKind: run.shadow?.kind ?? null,
    });
}

/** The bank a run belongs to, or undefined when there is no such run. */
export async function findRunBank(db: Database, id: string): Promise<string | undefined> {
  const [row] = await db.select({ bankId: runs.bankId }).from(runs).where(eq(runs.id, id));
  return row?.bankId;
}

/** A stored run with its recalls (by rank) and samples (in order), or undefined. */
export async function getRun(db: Database, id: string): Promise<RunRecord | undefined> {
  const [row] = await db.select().from(runs).where(eq(runs.id, id));
  if (!row) return undefined;
  const recalls = await db
    .select()
    .from(runRecalls)
    .where(eq(runRecalls.runId, id))
    .orderBy(asc(runRecalls.rank));
  const samples = await db
    .select()
    .from(runSamples)
    .where(eq(runSamples.runId, id))
    .orderBy(asc(runSamples.index));
  const shadows = await db
    .select({ id: runs.id, kind: runs.shadowKind })
    .from(runs)
    .where(eq(runs.shadowOf, id))
    .orderBy(asc(runs.seq));
  return {
    id: row.id,
    bankId: row.bankId,
    query: row.query,
    queryHash: row.queryHash,
    params: row.params as Record<string, unknown>,
    prompt: row.prompt as unknown[],
    answer: row.answer ?? undefined,
    answerCanonical: row.answerCanonical ?? undefined,
    confidence: row.confidence ?? undefined,
    votes: row.votes,
    verification: row.verification,
    verificationDetail: row.verificationDetail as Record<string, unknown>,
    verdict: row.verdict,
    status: row.status,
    error: row.error ?? undefined,
    writtenMemoryId: row.writtenMemoryId ?? undefined,
    timings: row.timings as Record<string, number>,
    usage: row.usage as Record<string, number>,
    model: row.model ?? undefined,
    recalls: recalls.map((r) => ({
      memoryId: r.memoryId,
      rank: r.rank,
      scores: {
        ...(Object.fromEntries(RECALL_SIGNALS.map((name) => [name, r.signals[name] ?? null])) as Pick<
          RecallScores,
          (typeof RECALL_SIGNALS)[number]
        >),
        relevance: r.signals.relevance ?? 0,
        utility: r.utility,
        final: r.finalScore,
      },
    })),
    samples: samples.map((s) => ({
      index: s.index,
      text: s.text,
      answer: s.answer ?? undefined,
      answerCanonical: s.answerCanonical ?? undefined,
      confidence: s.confidence ?? undefined,
      tokens: s.tokens,
    })),
    ...(row.strategy && "name" in (row.strategy as object)
      ? { strategy: row.strategy as StrategyRecord }
      : {}),
    ...(row.shadowOf && row.shadowKind ? { shadow: { of: row.shadowOf, kind: row.shadowKind } } : {}),
    shadows: shadows.map((s) => ({ id: s.id, kind: s.kind as ShadowKind })),
  };
}
