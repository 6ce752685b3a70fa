import { mkdirSync } from "node:fs";
import type { PGlite } from "@electric-sql/pglite";
import type { MigrationConfig } from "drizzle-orm/migrator";
import type { Database } from "./database.js";

export type DatabaseTarget =
  | { kind: "pglite"; dataDir?: string }
  | { kind: "postgres"; url: string; max?: number };

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseTarget["kind"];
  /** Runs `fn` while holding a session-level advisory lock, so concurrent processes take turns. */
  exclusive<T>(key: number, fn: () => Promise<T>): Promise<T>;
  /** Applies drizzle-kit's migrations with the driver's own migrator. */
  migrate(config: MigrationConfig): Promise<void>;
  close(): Promise<void>;
}

/** Opens PGlite (a data directory, or in memory when none is given) or a postgres.js pool. */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  // each driver is loaded only by the processes that use it
  if (target.kind === "pglite") {
    // the embedded database starts before the ORM and the schema load, so they load while its start-up
    // waits (on its files, on compiling its WebAssembly)
    const { PGlite: Embedded } = await import("@electric-sql/pglite");
    if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
    const client = target.dataDir ? new Embedded(target.dataDir) : new Embedded();
    const [{ drizzle: drizzlePglite }, { withPreparedStatements }, schema] = await Promise.all([
      import("drizzle-orm/pglite"),
      import("./pglitePrepared.js"),
      import("./schema.js"),
      client.waitReady,
    ]);
    // drizzle's PGlite driver types its client as the PGlite class; the wrapper is the part of it drizzle calls
    const db = drizzlePglite({ client: withPreparedStatements(client) as unknown as PGlite, schema });
    return {
      db,
      kind: "pglite",
      // one process owns an embedded database: there is nobody to take turns with
      exclusive: (_key, fn) => fn(),
      migrate: async (config) => (await import("drizzle-orm/pglite/migrator")).migrate(db, config),
      close: () => client.close(),
    };
  }
  const { connectPostgres } = await import("./postgres.js");
  const { db, client, close } = connectPostgres(target.url, { max: target.max });
  return {
    db,
    kind: "postgres",
    migrate: async (config) => (await import("drizzle-orm/postgres-js/migrator")).migrate(db, config),
    async exclusive(key, fn) {
      const connection = await client.reserve();
      try {
        await connection`select pg_advisory_lock(${key})`;
        return await fn();
      } finally {
        await connection`select pg_advisory_unlock(${key})`.catch(() => {});
        connection.release();
      }
    },
    close,
  };
}
