import { and, asc, eq, sql } from "drizzle-orm";
import { queryRows } from "../db/database.js";
import { banks, indexClaims, indexState, memories } from "../db/schema.js";
import type { Services } from "../services.js";
import type { IndexRow } from "./index/memoryIndex.js";
import {
  type IndexableMemory,
  insertMemoriesClaimingIndex,
  lockedInIdOrder,
  type NewMemory,
  releaseIndexClaims,
} from "./store.js";

const BATCH = 1000;
// the index_state row of the one memory index
const INDEX_NAME = "memories";

export interface ReconcileResult {
  upserted: number;
  removed: number;
}

/**
 * Copies into the index whatever the records hold that the index has not acknowledged
 * (`index_version < version`, and the rows of claims an unfinished import left): active memories are
 * upserted (merge on id), others removed.
 * Safe to run any time and any number of times; a crash between the two writes is repaired by the next run.
 */
export async function reconcileIndex({
  ctx,
  bankId,
  onBatch,
}: {
  ctx: Services;
  bankId?: string;
  onBatch?: (done: number) => void;
}): Promise<ReconcileResult> {
  const result = await settleClaims(ctx, bankId);
  for (;;) {
    const pending = await ctx.db
      .select(INDEXABLE_FIELDS)
      .from(memories)
      .where(
        and(
          sql`${memories.indexVersion} < ${memories.version}`,
          bankId ? eq(memories.bankId, bankId) : undefined,
        ),
      )
      .orderBy(asc(memories.seq))
      .limit(BATCH);
    if (pending.length === 0) return result;

    const done = await indexMemories(ctx, pending);
    result.upserted += done.upserted;
    result.removed += done.removed;
    onBatch?.(result.upserted + result.removed);
    // a short batch was everything pending when it was read. Records written since notify the indexer
    // themselves: looping on for them turned a stream of solves into one single-row index write (a new
    // LanceDB fragment and version) per solve: 113 in 200 solves of the solve benchmark, now 7
    if (pending.length < BATCH) return result;
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The columns the index needs, as a drizzle selection (`select(INDEXABLE_FIELDS)`, `returning(…)`). */
export const INDEXABLE_FIELDS = {
  id: memories.id,
  bankId: memories.bankId,
  problem: memories.problem,
  status: memories.status,
  trust: memories.trust,
  version: memories.version,
};

/**
 * Writes these records' current versions to the index (active: upsert, others: remove), then
 * acknowledges exactly the versions written: a change made meanwhile stays pending for the next run.
 */
export async function indexMemories(ctx: Services, rows: IndexableMemory[]): Promise<ReconcileResult> {
  const result = await writeToIndex(ctx, rows);
  if (rows.length === 0) return result;
  const acked = JSON.stringify(rows.map((r) => ({ id: r.id, version: r.version })));
  await ctx.db.execute(sql`
    update memories set index_version = acked.version
    from jsonb_to_recordset(${acked}::jsonb) as acked(id text, version int)
    where memories.id = acked.id and memories.index_version < acked.version
      and memories.id in ${lockedInIdOrder(JSON.stringify(rows.map((r) => r.id)))}`);
  return result;
}

/**
 * Writes these records to the index as they are (active: upsert, others: remove), acknowledging nothing.
 * `embedded` holds vectors already made for some of them (by id).
 */
async function writeToIndex(
  ctx: Services,
  rows: IndexableMemory[],
  embedded?: Map<string, Float32Array>,
): Promise<ReconcileResult> {
  const result: ReconcileResult = { upserted: 0, removed: 0 };
  for (const [bank, group] of groupBy(rows, (m) => m.bankId)) {
    const active = group.filter((r) => r.status === "active");
    const inactive = group.filter((r) => r.status !== "active");
    if (active.length > 0) {
      const vectors = embedded
        ? await embedMissing(ctx, active, embedded)
        : await ctx.embedder.embed(active.map((r) => r.problem));
      const indexRows: IndexRow[] = active.map((r, i) => ({
        id: r.id,
        bank,
        status: r.status,
        trust: r.trust,
        text: r.problem,
        vector: vectors[i] as Float32Array,
      }));
      ctx.fault?.("before-index-upsert");
      ctx.fault?.("during-index-upsert");
      await ctx.index.upsert(bank, indexRows);
    }
    await ctx.index.remove(
      bank,
      inactive.map((r) => r.id),
    );
    result.upserted += active.length;
    result.removed += inactive.length;
  }
  return result;
}

/**
 * Inserts new memories and brings them into the index, the records first: they are written as indexed
 * under a claim (store.ts, insertMemoriesClaimingIndex), then to the index, then the claim is dropped,
 * so no row is written twice. Returns the rows inserted (a problem the bank holds is skipped).
 */
export async function insertAndIndex(ctx: Services, rows: NewMemory[]): Promise<IndexableMemory[]> {
  // the vectors are made while the records are written (beside them, where the embedder has a thread)
  const embedding = embedById(
    ctx,
    rows.filter((r) => r.status === "active"),
  );
  embedding.catch(() => {});
  const { inserted, claims } = await insertMemoriesClaimingIndex(ctx.db, rows);
  await writeToIndex(ctx, inserted, await embedding);
  await releaseIndexClaims(ctx.db, claims);
  return inserted;
}

async function embedById(
  ctx: Services,
  rows: Pick<IndexableMemory, "id" | "problem">[],
): Promise<Map<string, Float32Array>> {
  if (rows.length === 0) return new Map();
  const vectors = await ctx.embedder.embed(rows.map((r) => r.problem));
  return new Map(rows.map((r, i) => [r.id, vectors[i] as Float32Array]));
}

/** These rows' vectors: those made already, and the others now. */
async function embedMissing(
  ctx: Services,
  rows: IndexableMemory[],
  embedded: Map<string, Float32Array>,
): Promise<Float32Array[]> {
  const made = await embedById(
    ctx,
    rows.filter((r) => !embedded.has(r.id)),
  );
  return rows.map((r) => (embedded.get(r.id) ?? made.get(r.id)) as Float32Array);
}

/** Writes to the index what claims left by imports that did not finish cover, and drops the claims. */
async function settleClaims(ctx: Services, bankId?: string): Promise<ReconcileResult> {
  const result: ReconcileResult = { upserted: 0, removed: 0 };
  const claims = await ctx.db
    .select()
    .from(indexClaims)
    .where(bankId ? eq(indexClaims.bankId, bankId) : undefined)
    .orderBy(asc(indexClaims.id));
  for (const claim of claims) {
    for (let after = claim.firstSeq - 1; ; ) {
      const rows = await ctx.db
        .select({ ...INDEXABLE_FIELDS, seq: memories.seq })
        .from(memories)
        .where(
          and(
            eq(memories.bankId, claim.bankId),
            sql`${memories.seq} > ${after} and ${memories.seq} <= ${claim.lastSeq}`,
          ),
        )
        .orderBy(asc(memories.seq))
        .limit(BATCH);
      if (rows.length === 0) break;
      const done = await writeToIndex(ctx, rows);
      result.upserted += done.upserted;
      result.removed += done.removed;
      after = (rows.at(-1) as { seq: number }).seq;
    }
    await releaseIndexClaims(ctx.db, [claim.id]);
  }
  return result;
}

/**
 * Brings these just-written records into the index: through the context's background indexer when it
 * has one (batched, off the request path), otherwise at once.
 */
export async function indexAfterWrite(ctx: Services, rows: IndexableMemory[]): Promise<void> {
  if (rows.length === 0) return;
  if (ctx.indexer) {
    for (const bankId of new Set(rows.map((r) => r.bankId))) ctx.indexer.notify(bankId);
    return;
  }
  await indexMemories(ctx, rows);
}

/** Marks a bank's memories (or all) as not indexed, so the next reconcile writes them again. */
async function forgetIndexed(ctx: Services, bankId?: string): Promise<void> {
  await ctx.db
    .update(memories)
    .set({ indexVersion: 0 })
    .where(bankId ? eq(memories.bankId, bankId) : undefined);
}

/** Drops and rebuilds the index of one bank, or of every bank, from the records. */
export async function reindex({
  ctx,
  bankId,
  onBatch,
}: {
  ctx: Services;
  bankId?: string;
  onBatch?: (done: number) => void;
}): Promise<ReconcileResult> {
  const ids = bankId ? [bankId] : (await ctx.db.select({ id: banks.id }).from(banks)).map((b) => b.id);
  for (const id of ids) {
    await ctx.index.drop(id);
    await forgetIndexed(ctx, id);
  }
  const result = await reconcileIndex({ ctx, bankId, onBatch });
  for (const id of ids) await ctx.index.optimize(id);
  return result;
}

export interface IndexCheck {
  bank: string;
  problem: "unreadable" | "count-mismatch";
  detail: string;
}

/**
 * Start-up check that the index still matches the records, repairing what it finds: a changed embedder
 * rebuilds everything; an unreadable table (torn write after a hard stop) is rebuilt; a count that differs
 * from the records is settled id by id. Then reconcile copies whatever is pending. With `embedderOnly`
 * (a command that only reads), only the first: an index of another embedder cannot be searched at all,
 * while the rest is repaired by the next process that writes.
 */
export async function checkIndex({
  ctx,
  embedderOnly = false,
}: {
  ctx: Services;
  embedderOnly?: boolean;
}): Promise<IndexCheck[]> {
  const found: IndexCheck[] = [];
  const [state] = await ctx.db.select().from(indexState).where(eq(indexState.name, INDEX_NAME));
  const sameEmbedder = state !== undefined && state.embedder === ctx.embedder.id;
  if (sameEmbedder && embedderOnly) return found;
  if (!sameEmbedder) {
    if (state)
      ctx.log.warn({ from: state.embedder, to: ctx.embedder.id }, "embedder changed: rebuilding the index");
    for (const { id } of await ctx.db.select({ id: banks.id }).from(banks)) await ctx.index.drop(id);
    await forgetIndexed(ctx);
    await ctx.db
      .insert(indexState)
      .values({ name: INDEX_NAME, embedder: ctx.embedder.id, dimensions: ctx.embedder.dimensions })
      .onConflictDoUpdate({
        target: indexState.name,
        set: { embedder: ctx.embedder.id, dimensions: ctx.embedder.dimensions, updatedAt: new Date() },
      });
  } else {
    // an unfinished import's claimed rows count as indexed below: write them first
    await settleClaims(ctx);
    const counts = await queryRows<{ bank_id: string; indexed: number }>(
      ctx.db,
      sql`select b.id as bank_id,
            count(m.id) filter (where m.status = 'active' and m.index_version = m.version and m.index_version > 0)::int as indexed
          from banks b left join memories m on m.bank_id = b.id group by b.id`,
    );
    for (const { bank_id: bank, indexed } of counts) {
      if (!(await ctx.index.healthy(bank))) {
        found.push({
          bank,
          problem: "unreadable",
          detail: "index table could not be read; rebuilt from the records",
        });
        await ctx.index.drop(bank);
        await forgetIndexed(ctx, bank);
        continue;
      }
      const held = await ctx.index.count(bank);
      if (held !== indexed) {
        found.push({
          bank,
          problem: "count-mismatch",
          detail: `index holds ${held}, records say ${indexed}`,
        });
        await settleById(ctx, bank);
      }
    }
  }
  for (const f of found) ctx.log.warn(f, "index repaired");
  await reconcileIndex({ ctx });
  return found;
}

/** Compares index ids with the records: strays are removed, missing ones marked for reconcile. */
async function settleById(ctx: Services, bank: string): Promise<void> {
  const held = new Set(await ctx.index.ids(bank));
  const rows = await ctx.db
    .select({ id: memories.id, status: memories.status })
    .from(memories)
    .where(eq(memories.bankId, bank));
  const active = new Set(rows.filter((r) => r.status === "active").map((r) => r.id));
  const strays = [...held].filter((id) => !active.has(id));
  for (let i = 0; i < strays.length; i += BATCH) await ctx.index.remove(bank, strays.slice(i, i + BATCH));
  const missing = [...active].filter((id) => !held.has(id));
  for (let i = 0; i < missing.length; i += BATCH) {
    const ids = JSON.stringify(missing.slice(i, i + BATCH));
    await ctx.db.execute(sql`update memories set index_version = 0 where id in ${lockedInIdOrder(ids)}`);
  }
}
