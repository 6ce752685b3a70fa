import { type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/database.js";
import type { memories } from "../db/schema.js";

/** A memory record as stored. */
export type MemoryRow = typeof memories.$inferSelect;

/** What the index needs of a memory record. */
export type IndexableMemory = Pick<MemoryRow, "id" | "bankId" | "problem" | "status" | "trust" | "version">;

/** A memory record about to be written. */
export type NewMemory = Pick<
  MemoryRow,
  | "id"
  | "bankId"
  | "problem"
  | "reasoning"
  | "answer"
  | "answerCanonical"
  | "problemHash"
  | "source"
  | "verification"
  | "trust"
  | "status"
> &
  Partial<Pick<MemoryRow, "runId" | "model">> & {
    verificationDetail: Record<string, unknown>;
    metadata: Record<string, unknown>;
  };

/**
 * Inserts memories in one statement, skipping any whose problem the bank already holds, and returns the
 * rows actually inserted. The batch travels as one JSON parameter: far cheaper to send and bind than
 * thousands of separate parameters, on PGlite and Postgres alike.
 */
export async function insertMemories(db: Database, rows: NewMemory[]): Promise<IndexableMemory[]> {
  if (rows.length === 0) return [];
  const inserted = await queryRows<RawIndexableRow>(db, insertStatement(rows, { indexVersion: sql`0` }));
  return inserted.map(toIndexable);
}

/**
 * Inserts memories as {@link insertMemories} does, but as already indexed, under a claim on the `seq`
 * range they took (one statement: the rows and their claim commit together). The caller writes them to
 * the index and then calls {@link releaseIndexClaims}; until then reconcile treats them as pending.
 */
export async function insertMemoriesClaimingIndex(
  db: Database,
  rows: NewMemory[],
): Promise<{ inserted: IndexableMemory[]; claims: number[] }> {
  if (rows.length === 0) return { inserted: [], claims: [] };
  // a new row's version is 1 (the column's default), so that is the version its claim says is indexed
  const found = await queryRows<RawIndexableRow & { claim: string | null }>(
    db,
    sql`with inserted as (${insertStatement(rows, { indexVersion: sql`1` })}),
      claims as (insert into index_claims (bank_id, first_seq, last_seq)
        select bank_id, min(seq), max(seq) from inserted group by bank_id returning id, bank_id)
      select inserted.*, claims.id as claim from inserted left join claims using (bank_id)`,
  );
  return {
    inserted: found.map(toIndexable),
    claims: [...new Set(found.map((r) => Number(r.claim)))],
  };
}

/** Drops claims whose rows the index now holds. */
export async function releaseIndexClaims(db: Database, claims: number[]): Promise<void> {
  if (claims.length === 0) return;
  await db.execute(sql`delete from index_claims where id = any(${`{${claims.join(",")}}`}::bigint[])`);
}

function insertStatement(rows: NewMemory[], { indexVersion }: { indexVersion: SQL }): SQL {
  const payload = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      bank_id: r.bankId,
      problem: r.problem,
      reasoning: r.reasoning,
      answer: r.answer,
      answer_canonical: r.answerCanonical,
      problem_hash: r.problemHash,
      source: r.source,
      run_id: r.runId ?? null,
      model: r.model ?? null,
      verification: r.verification,
      verification_detail: r.verificationDetail,
      trust: r.trust,
      status: r.status,
      metadata: r.metadata,
    })),
  );
  return sql`insert into memories (id, bank_id, problem, reasoning, answer, answer_canonical, problem_hash, source,
          run_id, model, verification, verification_detail, trust, status, metadata, index_version)
        select id, bank_id, problem, reasoning, answer, answer_canonical, problem_hash, source,
          run_id, model, verification, verification_detail, trust, status, metadata, ${indexVersion}
        from jsonb_to_recordset(${payload}::jsonb) as r(id text, bank_id text, problem text, reasoning text,
          answer text, answer_canonical text, problem_hash text, source text, run_id text, model text,
          verification text, verification_detail jsonb, trust int, status text, metadata jsonb)
        on conflict (bank_id, problem_hash) do nothing
        returning ${INDEXABLE_COLUMNS}, seq`;
}

/** A memory row as raw SQL returns the columns the index needs (`returning ${INDEXABLE_COLUMNS}`). */
export type RawIndexableRow = {
  id: string;
  bank_id: string;
  problem: string;
  status: MemoryRow["status"];
  trust: number;
  version: number;
};
export const INDEXABLE_COLUMNS = sql.raw("id, bank_id, problem, status, trust, version");

/** The index's view of a raw memory row. */
export function toIndexable(r: RawIndexableRow): IndexableMemory {
  return {
    id: r.id,
    bankId: r.bank_id,
    problem: r.problem,
    status: r.status,
    trust: Number(r.trust),
    version: Number(r.version),
  };
}

/** What recall needs of a candidate memory: its scoring columns and the texts of a worked example. */
export type CandidateRow = Pick<
  MemoryRow,
  | "id"
  | "trust"
  | "status"
  | "problemHash"
  | "recalledCount"
  | "helpedCount"
  | "problem"
  | "reasoning"
  | "answer"
  | "answerCanonical"
  | "verification"
>;

type RawCandidateRow = {
  id: string;
  bank_id: string;
  trust: number;
  status: MemoryRow["status"];
  problem_hash: string;
  recalled_count: number;
  helped_count: number;
  problem: string;
  reasoning: string;
  answer: string;
  answer_canonical: string;
  verification: MemoryRow["verification"];
};

/** The columns recall reads of a memory (and the trigger memories_changed_xid watches). */
export const CANDIDATE_COLUMN_NAMES = [
  "id",
  "bank_id",
  "trust",
  "status",
  "problem_hash",
  "recalled_count",
  "helped_count",
  "problem",
  "reasoning",
  "answer",
  "answer_canonical",
  "verification",
] as const;
const CANDIDATE_COLUMNS = sql.raw(CANDIDATE_COLUMN_NAMES.join(", "));

const toCandidateRow = (r: RawCandidateRow): CandidateRow => ({
  id: r.id,
  trust: Number(r.trust),
  status: r.status,
  problemHash: r.problem_hash,
  recalledCount: Number(r.recalled_count),
  helpedCount: Number(r.helped_count),
  problem: r.problem,
  reasoning: r.reasoning,
  answer: r.answer,
  answerCanonical: r.answer_canonical,
  verification: r.verification,
});

/**
 * The memories of these ids (a JSON array), locked in id order: a statement that updates several memories
 * takes its row locks through this, because updated rows move on disk and two concurrent statements
 * scanning the same ids can otherwise meet them in different orders, and deadlock.
 */
export function lockedInIdOrder(idsJson: string): SQL {
  return sql`(select id from memories where id in (select jsonb_array_elements_text(${idsJson}::jsonb))
              order by id for update)`;
}

// Ids travel as one array parameter (`{a,b,c}`): PGlite runs `id = any($1::text[])` in a quarter of the
// time of an `IN ($1, …, $40)` list. Ids are ours (prefix_ + base36/hex), so no quoting is needed.
const idArray = (ids: string[]) => `{${ids.filter((id) => /^[\w-]+$/.test(id)).join(",")}}`;

/**
 * These memories of a bank, and its memory of exactly the problem `hash` (found even when the index has
 * not caught up with it), texts included: one query for everything recall needs (fetching the texts of 32
 * candidates costs less than a second round trip for the few that are picked).
 */
export async function candidateRows(
  db: Database,
  bankId: string,
  ids: string[],
  hash: string,
): Promise<CandidateRow[]> {
  // the bank is checked on the id lookup in the process rather than in SQL: a bank_id condition makes
  // the planner AND in a scan of the whole bank's index, ten times slower at 100k memories than the
  // primary-key lookup alone
  const rows = await queryRows<RawCandidateRow>(
    db,
    sql`select ${CANDIDATE_COLUMNS} from memories
        where id = any(${idArray(ids)}::text[]) or (bank_id = ${bankId} and problem_hash = ${hash})`,
  );
  return rows.filter((r) => r.bank_id === bankId).map(toCandidateRow);
}

/** A bank's candidate rows changed since a transaction watermark, and where the bank stands now. */
export interface CandidateChanges {
  /** when the bank was created, or undefined when there is no such bank: a bank made again is another */
  bankCreated: string | undefined;
  /** every transaction below this one had finished when the rows were read: the next `since` */
  watermark: number;
  rows: CandidateRow[];
  /** memories deleted from the records */
  removed: string[];
}

/**
 * The bank's memories that a transaction at or past `since` changed or deleted (all of them for 0), and
 * the watermark for the next call: rows are stamped with their last writer's transaction id (by the
 * column's default, then the trigger memories_changed_xid; deletions by memories_removed), and every
 * writer below the xmin of the first read's snapshot had committed or aborted by then. That read also
 * says whether anything changed (at 10k memories on PGlite 0.35 ms, where one query joining the rows in
 * took 0.46); the rows are read after it, so a change landing in between is brought in now and again at
 * the next call, never missed.
 */
export async function changedCandidateRows(
  db: Database,
  bankId: string,
  since: number,
): Promise<CandidateChanges> {
  const [state] = await queryRows<{
    bank_created: string;
    watermark: string;
    rows_changed: boolean;
    rows_removed: boolean;
  }>(
    db,
    sql`select created_at::text as bank_created, pg_snapshot_xmin(pg_current_snapshot())::text as watermark,
               exists(select 1 from memories where bank_id = ${bankId} and changed_xid >= ${since}) as rows_changed,
               exists(select 1 from memory_removals where bank_id = ${bankId} and changed_xid >= ${since}) as rows_removed
        from banks where id = ${bankId}`,
  );
  if (!state) return { bankCreated: undefined, watermark: 0, rows: [], removed: [] };
  const rows = state.rows_changed
    ? await queryRows<RawCandidateRow>(
        db,
        sql`select ${CANDIDATE_COLUMNS} from memories where bank_id = ${bankId} and changed_xid >= ${since}`,
      )
    : [];
  const removed = state.rows_removed
    ? await queryRows<{ memory_id: string }>(
        db,
        sql`select memory_id from memory_removals where bank_id = ${bankId} and changed_xid >= ${since}`,
      )
    : [];
  return {
    bankCreated: state.bank_created,
    watermark: Number(state.watermark),
    rows: rows.map(toCandidateRow),
    removed: removed.map((r) => r.memory_id),
  };
}
