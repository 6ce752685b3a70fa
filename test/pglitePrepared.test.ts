import { PGlite } from "@electric-sql/pglite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PgliteClient, withPreparedStatements } from "../src/db/pglitePrepared.js";
import { TEST_DATABASE } from "./support/database.js";

let pg: PGlite;
let client: PgliteClient;

beforeEach(async () => {
  pg = new PGlite();
  await pg.waitReady;
  client = withPreparedStatements(pg);
  await client.exec("create table notes (id int primary key, body text, tags jsonb)");
});

afterEach(async () => {
  await pg.close();
});

// the embedded database's own client: the Postgres half of the suite has nothing to add here
describe.runIf(TEST_DATABASE === "pglite")("PGlite statements prepared once by name", () => {
  it("runs one text with many parameter sets and returns each set's rows, typed", async () => {
    for (let i = 1; i <= 5; i++) {
      await client.query("insert into notes (id, body, tags) values ($1, $2, $3)", [
        i,
        `note ${i}`,
        { n: i },
      ]);
    }
    const picked = [];
    for (const ids of [[1, 2], [3], [4, 5, 1]]) {
      const { rows } = await client.query<{ id: number; tags: { n: number } }>(
        "select id, tags from notes where id = any($1::int[]) order by id",
        [ids],
      );
      picked.push(rows.map((r) => [r.id, r.tags.n]));
    }
    expect(picked).toEqual([
      [
        [1, 1],
        [2, 2],
      ],
      [[3, 3]],
      [
        [1, 1],
        [4, 4],
        [5, 5],
      ],
    ]);
    const { rows } = await client.query("select id from notes where id = $1", [2], { rowMode: "array" });
    expect(rows).toEqual([[2]]);
  });

  it("parses values with the query's own parsers where it gives them, PGlite's elsewhere", async () => {
    const text = "select '2026-01-02 03:04:05'::timestamp as at, 5::int as n, '{\"a\":1}'::jsonb as j";
    const own = await client.query(text, [], { parsers: { 1114: (v: string) => `raw ${v}` } });
    expect(own.rows).toEqual([{ at: "raw 2026-01-02 03:04:05", n: 5, j: { a: 1 } }]);
    const defaults = await client.query<{ at: Date }>(text);
    expect(defaults.rows[0]?.at).toBeInstanceOf(Date);
  });

  it("keeps working past the number of texts it keeps prepared (the oldest are closed)", async () => {
    await client.query("insert into notes (id, body) values (1, 'one')");
    const bodies = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const { rows } = await client.query<{ body: string }>(
        `select body, ${i} as i from notes where id = $1`,
        [1],
      );
      bodies.add(`${rows[0]?.body}`);
    }
    expect(bodies).toEqual(new Set(["one"]));
    const { rows } = await pg.query<{ n: number }>("select count(*)::int as n from pg_prepared_statements");
    expect(rows[0]?.n).toBeLessThanOrEqual(256);
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  it("prepares a text again when its table changed shape since", async () => {
    await client.query("insert into notes (id, body) values (1, 'one')");
    expect((await client.query("select * from notes")).fields.map((f) => f.name)).toEqual([
      "id",
      "body",
      "tags",
    ]);
    await client.exec("alter table notes add column extra text default 'x'");
    const after = await client.query<{ extra: string }>("select * from notes");
    expect(after.fields.map((f) => f.name)).toEqual(["id", "body", "tags", "extra"]);
    expect(after.rows[0]?.extra).toBe("x");
  });

  it("reports a failing statement with its SQLSTATE and leaves the client usable", async () => {
    await client.query("insert into notes (id, body) values (1, 'one')");
    await expect(
      client.query("insert into notes (id, body) values ($1, $2)", [1, "again"]),
    ).rejects.toMatchObject({
      code: "23505",
    });
    await expect(client.query("select nope from notes")).rejects.toMatchObject({ code: "42703" });
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from notes");
    expect(rows[0]?.n).toBe(1);
  });

  it("commits a transaction's statements together, or rolls all of them back", async () => {
    await client.transaction(async (tx) => {
      await tx.query("insert into notes (id, body) values ($1, $2)", [1, "kept"]);
      await tx.query("insert into notes (id, body) values ($1, $2)", [2, "kept"]);
    });
    await expect(
      client.transaction(async (tx) => {
        await tx.query("insert into notes (id, body) values ($1, $2)", [3, "dropped"]);
        await tx.query("insert into notes (id, body) values ($1, $2)", [1, "duplicate"]);
      }),
    ).rejects.toMatchObject({ code: "23505" });
    const { rows } = await client.query<{ id: number }>("select id from notes order by id");
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it("runs a statement sent during another's transaction after that transaction, never inside it", async () => {
    let outside: Promise<{ rows: { n: number }[] }> | undefined;
    await expect(
      client.transaction(async (tx) => {
        await tx.query("insert into notes (id, body) values ($1, $2)", [1, "uncommitted"]);
        outside = client.query<{ n: number }>("select count(*)::int as n from notes");
        await new Promise((done) => setTimeout(done, 20));
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const { rows } = await (outside as Promise<{ rows: { n: number }[] }>);
    expect(rows[0]?.n).toBe(0);
  });
});
