import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../../db/database.js";
import type { VectorHit } from "./memoryIndex.js";
import { decodeVector, VECTOR_OUT } from "./vectorCodec.js";

// What the Postgres index does with pgvector (src/memory/index/postgres.ts): a partial HNSW index per large
// bank, searched by the database.

// candidates an HNSW search explores (pgvector's default is 40): more finds more of the true neighbours
const HNSW_EF = 64;
/** The name of a bank's HNSW index (pgvector only): a hash keeps any bank id within Postgres' 63 bytes. */
export function annIndexName(bank: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bank.length; i++) h = Math.imul(h ^ bank.charCodeAt(i), 0x01000193);
  return `memory_index_hnsw_${(h >>> 0).toString(16).padStart(8, "0")}`;
}

/** A bank id as an SQL string literal, for the statements that must name it literally (partial index). */
function bankLiteral(bank: string): string {
  return `'${bank.replaceAll("'", "''")}'`;
}

/** Builds the bank's partial HNSW index over `vector::vector(d)` (throws when its vectors cannot be cast). */
export async function buildAnnIndex(db: Database, bank: string, d: number): Promise<void> {
  await db.execute(
    sql.raw(
      `create index if not exists ${annIndexName(bank)} on memory_index
       using hnsw ((vector::vector(${d})) vector_cosine_ops) where bank_id = ${bankLiteral(bank)}`,
    ),
  );
}

/** pgvector's HNSW search over the bank's partial index (optimize() builds it for large banks). */
export async function searchAnn(
  db: Database,
  bank: string,
  d: number,
  query: Float32Array,
  limit: number,
): Promise<VectorHit[]> {
  const dims = sql.raw(String(d));
  const literal = `[${Array.from(query).join(",")}]`;
  const rows = await db.transaction(async (t) => {
    const tx: Database = t;
    await tx.execute(sql.raw(`set local hnsw.ef_search = ${Math.max(HNSW_EF, limit)}`));
    // the bank as a literal: the planner must see `bank_id = 'b'` to pick that bank's partial index
    return queryRows<{ id: string; vector: string; distance: number }>(
      tx,
      sql`select memory_id as id, ${VECTOR_OUT} as vector, distance from (
              select memory_id, vector, (vector::vector(${dims})) <=> ${literal}::vector(${dims}) as distance
              from memory_index where bank_id = ${sql.raw(bankLiteral(bank))}
              order by distance limit ${limit}) nearest
            order by distance, memory_id`,
    );
  });
  return rows.map((r) => ({
    id: r.id,
    similarity: 1 - Number(r.distance),
    vector: decodeVector(r.vector),
  }));
}

/** Whether pgvector can be used: already installed in this database, or installable now. */
export async function enablePgvector(db: Database): Promise<boolean> {
  const installed = async () =>
    (
      await queryRows<{ ok: boolean }>(
        db,
        sql`select exists (select 1 from pg_extension where extname = 'vector') as ok`,
      )
    )[0]?.ok === true;
  if (await installed()) return true;
  try {
    await db.execute(sql`create extension if not exists vector`);
  } catch {
    // not available on this server, or not allowed: vectors are scored in process
  }
  return installed();
}
