import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../src/db/client.js";
import { queryRows } from "../src/db/database.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from "./support/database.js";

/** The handle with its migrator counted: what the check in front of it let through. */
function counting(handle: DatabaseHandle): { handle: DatabaseHandle; runs: () => number } {
  let runs = 0;
  return {
    handle: {
      ...handle,
      migrate: (config) => {
        runs++;
        return handle.migrate(config);
      },
    },
    runs: () => runs,
  };
}

const opened: TestDatabase[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});

describe("migrations", () => {
  it("a database at the newest migration is left alone, without running the migrator", async () => {
    const db = await createTestDatabase();
    opened.push(db);
    const observed = counting(db.handle);
    await migrateDatabase(observed.handle);
    expect(observed.runs()).toBe(0);
  });

  it("a database behind the newest migration goes through the migrator", async () => {
    const db = await createTestDatabase();
    opened.push(db);
    const [newest] = await queryRows<{ created_at: string }>(
      db.handle.db,
      sql`select max(created_at)::text as created_at from drizzle.__drizzle_migrations`,
    );
    // the record of the newest migration is put back one millisecond older: the stamps say it is missing
    await db.handle.db.execute(
      sql`update drizzle.__drizzle_migrations set created_at = created_at - 1 where created_at = ${newest?.created_at}`,
    );
    const observed = counting({ ...db.handle, migrate: async () => {} });
    await migrateDatabase(observed.handle);
    expect(observed.runs()).toBe(1);
  });

  it("a new database gets every table", async () => {
    const db = await createEmptyDatabase();
    opened.push(db);
    const observed = counting(db.handle);
    await migrateDatabase(observed.handle);
    expect(observed.runs()).toBe(1);
    const tables = await queryRows<{ name: string }>(
      db.handle.db,
      sql`select table_name as name from information_schema.tables where table_schema = 'public'`,
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["banks", "memories", "runs"]));
  });
});
