import { type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "../../db/database.js";
import { memoryIndexBanks } from "../../db/schema.js";
import type { Logger } from "../../log.js";
import type { Analyzer } from "../lexical/analyze.js";
import { type BankVectors, createHotTier, type NearestRows } from "./hotTier.js";
import type { IndexRow, IndexStore, MemoryIndex } from "./memoryIndex.js";
import { annIndexName, buildAnnIndex, enablePgvector, searchAnn } from "./pgvector.js";
import { decodeVector, VECTOR_OUT, vectorLiteral } from "./vectorCodec.js";
import { createLexiconMemory, type LexiconMemory, withLexicon } from "./withLexicon.js";

/**
 * The search index kept in Postgres itself (INDEX=postgres), for deployments that want one store, and for
 * the Cloudflare Worker, where the embedded LanceDB cannot run. Table `memory_index` (src/db/schema.ts)
 * holds one row per active memory: bank, status, trust, text and the vector as `real[]`;
 * `memory_index_banks` holds each bank's write generation and row count. Like LanceDB it holds only what
 * reconcile copied into it and can be dropped and rebuilt. Lexical search runs in process, over each
 * bank's lexicon (src/memory/lexical/), re-read on the same generation check as the vectors.
 *
 * Vector search, exact unless a bank has an HNSW index:
 * - without pgvector (Debian's Postgres 15 and PGlite ship none) through the hot tier
 *   (src/memory/index/hotTier.ts): each process reads a bank's vectors once into memory and scans them
 *   there, the copy kept fresh by the bank's `generation`, which every search reads (one indexed row);
 * - with pgvector (installed, or `create extension vector` succeeds at open) the same, until optimize()
 *   finds the bank at `annThreshold` rows or more and builds it a partial HNSW index over
 *   `vector::vector(d)`: from then on the database searches it (approximately; recall@16 0.98 against the
 *   exact scan on 3,000 GSM8K problems, PGlite + pgvector 0.8), and no process keeps its vectors.
 *
 * FIT: see src/memory/index/hotTier.ts (HOT_TIER_LIMIT): past it a bank is logged as a warning; use
 * LanceDB (INDEX=lance) or pgvector.
 */
export interface PostgresIndexOptions {
  db: Database;
  dimensions: number;
  /** the hot tier's exact scan (default: in JavaScript, which a Worker can run) */
  hotTierScan?: NearestRows;
  log?: Logger;
  /** `auto` (default): use pgvector when available; `off`: never */
  pgvector?: "auto" | "off";
  /** with pgvector: bank size from which optimize() gives the bank an HNSW index (default 10,000) */
  annThreshold?: number;
  /**
   * What survives this index object: a Worker opens the index per request, over that request's own
   * connection, and keeps the banks' vectors and the pgvector check here between requests.
   */
  memory?: PostgresIndexMemory;
  /** how the banks' lexicons analyze texts (loaded once, on the first search) */
  analyzer: () => Promise<Analyzer>;
  /** where the banks' lexicons are kept between processes (unset: built again by each process) */
  lexiconFiles?: string;
}

// with pgvector, from here on a bank is searched through an HNSW index: an exact in-process scan costs ~5 ms
// per 10k vectors, an HNSW search a few ms whatever the size
const DEFAULT_ANN_THRESHOLD = 10_000;
// rows per page when a bank's texts are read for its lexicon
const TEXTS_PAGE = 5_000;

/** The in-process state of the Postgres index that can outlive one connection (see `memory` above). */
export interface PostgresIndexMemory {
  vectors: Map<string, BankVectors>;
  lexicons: LexiconMemory;
  pgvector?: boolean;
}

/** Fresh, empty state to share between the index objects of one process. */
export function createPostgresIndexMemory(): PostgresIndexMemory {
  return { vectors: new Map(), lexicons: createLexiconMemory() };
}

/** Opens the Postgres-backed index over `memory_index` (the migrations create it). */
export async function openPostgresIndex(options: PostgresIndexOptions): Promise<MemoryIndex> {
  const memory = options.memory ?? createPostgresIndexMemory();
  const store = await openPostgresStore(options, memory);
  return withLexicon(store, {
    analyzer: options.analyzer,
    memory: memory.lexicons,
    files: options.lexiconFiles,
  });
}

async function openPostgresStore(
  options: PostgresIndexOptions,
  memory: PostgresIndexMemory,
): Promise<IndexStore> {
  const { db, dimensions: d } = options;
  memory.pgvector ??= options.pgvector !== "off" && (await enablePgvector(db));
  const pgvector = memory.pgvector;
  const annThreshold = options.annThreshold ?? DEFAULT_ANN_THRESHOLD;
  const log = options.log;
  log?.debug(
    { pgvector },
    pgvector ? "postgres index: pgvector present" : "postgres index: no pgvector, vectors scored in process",
  );
  const hot = createHotTier({
    dimensions: d,
    scan: options.hotTierScan,
    banks: memory.vectors,
    log,
    async load(bank) {
      // generation first: rows read after it are at least as new, so a stale pairing only causes a re-read
      const { generation } = await stateOf(bank);
      const rows = await queryRows<{ id: string; vector: string }>(
        db,
        sql`select memory_id as id, ${VECTOR_OUT} as vector from memory_index where bank_id = ${bank}`,
      );
      return { generation, rows: rows.map((r) => ({ id: r.id, vector: decodeVector(r.vector) })) };
    },
  });

  /** Where a bank stands: its write generation, rows, and whether it has an HNSW index (pgvector). */
  async function stateOf(bank: string): Promise<{ generation: number; rows: number; ann: boolean }> {
    const [row] = await queryRows<{ generation: string | number; rows: number; ann: boolean }>(
      db,
      sql`select coalesce(b.generation, 0) as generation, coalesce(b.rows, 0) as rows,
            to_regclass(${annIndexName(bank)}) is not null as ann
          from (select 1) one left join memory_index_banks b on b.bank_id = ${bank}`,
    );
    return { generation: Number(row?.generation ?? 0), rows: Number(row?.rows ?? 0), ann: row?.ann === true };
  }

  /**
   * Runs a write to a bank's rows in a transaction that first bumps the bank's generation (its row lock
   * makes writers of one bank take turns, so `change` sees every earlier write), then adds the write's
   * change in rows (what `change` returns) to the bank's count. Returns the new generation.
   */
  async function write(bank: string, change: (tx: Database) => Promise<number>): Promise<number> {
    return db.transaction(async (t) => {
      const tx: Database = t;
      const [row] = await tx
        .insert(memoryIndexBanks)
        .values({ bankId: bank, generation: 1 })
        .onConflictDoUpdate({
          target: memoryIndexBanks.bankId,
          set: { generation: sql`${memoryIndexBanks.generation} + 1` },
        })
        .returning({ generation: memoryIndexBanks.generation });
      const delta = await change(tx);
      if (delta !== 0) {
        await tx.execute(
          sql`update memory_index_banks set rows = greatest(rows + ${delta}, 0) where bank_id = ${bank}`,
        );
      }
      return Number(row?.generation);
    });
  }

  async function deltaOf(tx: Database, statement: SQL): Promise<number> {
    const [row] = await queryRows<{ rows: number }>(tx, statement);
    return Number(row?.rows ?? 0);
  }

  return {
    kind: "postgres",

    async upsert(bank, rows: IndexRow[]) {
      if (rows.length === 0) return;
      // one row per id (the last wins): an upsert cannot touch a row twice
      const unique = [...new Map(rows.map((r) => [r.id, r])).values()];
      const input = JSON.stringify(
        unique.map((r) => ({
          id: r.id,
          status: r.status,
          trust: r.trust,
          text: r.text,
          vector: vectorLiteral(r.vector),
        })),
      );
      const generation = await write(bank, (tx) =>
        // one statement, one snapshot: `old` sees the rows as they were before `written` replaced them
        deltaOf(
          tx,
          sql`with input as (
                select r.id, r.status, r.trust, r.text, r.vector::real[] as vector
                from jsonb_to_recordset(${input}::jsonb)
                  as r(id text, status text, trust int, text text, vector text)),
              old as (
                select count(*)::int as rows
                from memory_index m join input i on m.bank_id = ${bank} and m.memory_id = i.id),
              written as (
                insert into memory_index (bank_id, memory_id, status, trust, text, vector)
                select ${bank}, id, status, trust, text, vector from input
                on conflict (bank_id, memory_id) do update set status = excluded.status,
                  trust = excluded.trust, text = excluded.text, vector = excluded.vector
                returning 1)
              select (select count(*)::int from written) - old.rows as rows from old`,
        ),
      );
      hot.applyLocally(bank, generation, { upsert: unique });
    },

    async remove(bank, ids) {
      if (ids.length === 0) return;
      const list = JSON.stringify(ids);
      const generation = await write(bank, (tx) =>
        deltaOf(
          tx,
          sql`with gone as (
                delete from memory_index where bank_id = ${bank}
                  and memory_id in (select jsonb_array_elements_text(${list}::jsonb))
                returning 1)
              select -count(*)::int as rows from gone`,
        ),
      );
      hot.applyLocally(bank, generation, { remove: ids });
    },

    async searchVector(bank, vector, limit) {
      if (vector.length !== d || limit <= 0) return [];
      const state = await stateOf(bank);
      if (pgvector && state.ann) return searchAnn(db, bank, d, vector, limit);
      return hot.search(bank, state.generation, vector, limit);
    },

    async *texts(bank) {
      // keyset pages over the primary key: a bank of a million is never held as one result
      let after = "";
      for (;;) {
        const page = await queryRows<{ id: string; text: string }>(
          db,
          sql`select memory_id as id, text from memory_index
              where bank_id = ${bank} and memory_id > ${after} order by memory_id limit ${TEXTS_PAGE}`,
        );
        if (page.length > 0) yield page;
        if (page.length < TEXTS_PAGE) return;
        after = (page.at(-1) as { id: string }).id;
      }
    },

    async generation(bank) {
      return (await stateOf(bank)).generation;
    },

    async ids(bank) {
      const rows = await queryRows<{ id: string }>(
        db,
        sql`select memory_id as id from memory_index where bank_id = ${bank}`,
      );
      return rows.map((r) => r.id);
    },

    async count(bank) {
      const [row] = await queryRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from memory_index where bank_id = ${bank}`,
      );
      return Number(row?.n ?? 0);
    },

    async healthy(bank) {
      // rows in Postgres are as readable as the records; what can fail is reaching the table at all
      try {
        await queryRows(db, sql`select 1 from memory_index where bank_id = ${bank} limit 1`);
        return true;
      } catch {
        hot.forget(bank);
        return false;
      }
    },

    async drop(bank) {
      await write(bank, async (tx) => {
        if (pgvector) await tx.execute(sql.raw(`drop index if exists ${annIndexName(bank)}`));
        await tx.execute(sql`delete from memory_index where bank_id = ${bank}`);
        await tx.execute(sql`update memory_index_banks set rows = 0 where bank_id = ${bank}`);
        return 0;
      });
      hot.forget(bank);
    },

    async ping() {
      await queryRows(db, sql`select 1 from memory_index limit 1`);
    },

    async optimize(bank, options = {}) {
      if (pgvector && options.vectorIndex !== false) {
        const state = await stateOf(bank);
        if (!state.ann && state.rows >= annThreshold) {
          try {
            await buildAnnIndex(db, bank, d);
            // searched through the index from now on: the in-process copy is not needed
            hot.forget(bank);
          } catch (err) {
            // e.g. vectors of another size in the bank (an embedder change not yet reindexed): stays exact
            log?.warn({ err, bank }, "could not build the bank's HNSW index; searching it exactly");
          }
        }
      }
      // planner statistics after a burst of writes (PGlite runs no autovacuum)
      await db.execute(sql`analyze memory_index`);
    },

    async close() {
      if (!options.memory) hot.clear();
    },
  };
}
