import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { type DatabaseHandle, type DatabaseTarget, openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";

/** Which database this vitest project runs on: `pglite` or `postgres`. */
export const TEST_DATABASE = process.env.TEST_DATABASE === "postgres" ? "postgres" : "pglite";

export interface TestDatabase {
  handle: DatabaseHandle;
  /** how a child process reaches the same database (a URL for Postgres; nothing for in-memory PGlite) */
  target: DatabaseTarget;
  close(): Promise<void>;
}

/** A fresh, empty Postgres database on the machine's server, dropped again by `drop()`. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const name = `precedent_t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(base, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

/** An empty, unmigrated database of this project's kind: in-memory PGlite, or a new database on the real server. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  if (TEST_DATABASE === "pglite") {
    const handle = await openDatabase({ kind: "pglite" });
    return { handle, target: { kind: "pglite" }, close: () => handle.close() };
  }
  const pg = await createPostgresDatabase();
  const target: DatabaseTarget = { kind: "postgres", url: pg.url };
  const handle = await openDatabase(target);
  return {
    handle,
    target,
    async close() {
      await handle.close();
      await pg.drop();
    },
  };
}

/** A migrated database of this project's kind (see createEmptyDatabase). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  try {
    await migrateDatabase(db.handle);
    return db;
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** Empties every table, so tests sharing one database start from nothing. */
export async function truncateAll(handle: DatabaseHandle): Promise<void> {
  const { sql } = await import("drizzle-orm");
  await handle.db.execute(
    sql`truncate banks, memories, memory_removals, runs, run_recalls, run_samples, feedback, audit_log, api_keys, index_state, embedding_cache cascade`,
  );
}
