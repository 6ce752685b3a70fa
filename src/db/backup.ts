import { sql } from "drizzle-orm";
import { z } from "zod";
import { PrecedentError } from "../errors.js";
import { type Database, queryRows } from "./database.js";

/**
 * The records a backup holds, in an order that satisfies every foreign key, each with its primary key
 * and the key columns' SQL types (the order rows are written in, and the keyset a page continues from,
 * compared in its own types). The search index, the index state and the Postgres index tables are derived
 * and left out: import rebuilds them. So is `omit`: a column of this database's own bookkeeping (a
 * memory's last writer's transaction id, which the restoring database sets afresh).
 */
const TABLES = [
  { name: "banks", key: [["id", "text"]] },
  { name: "api_keys", key: [["id", "text"]] },
  { name: "memories", key: [["id", "text"]], omit: ["changed_xid"] },
  { name: "runs", key: [["id", "text"]] },
  {
    name: "run_recalls",
    key: [
      ["run_id", "text"],
      ["rank", "integer"],
    ],
  },
  {
    name: "run_samples",
    key: [
      ["run_id", "text"],
      ["index", "integer"],
    ],
  },
  { name: "feedback", key: [["id", "bigint"]] },
  { name: "audit_log", key: [["id", "bigint"]] },
  {
    name: "embedding_cache",
    key: [
      ["model", "text"],
      ["text_hash", "text"],
    ],
  },
] as const;
type TableName = (typeof TABLES)[number]["name"];
const TABLE_NAMES = TABLES.map((t) => t.name) as [TableName, ...TableName[]];

/** Serial columns whose sequences must continue after the restored rows. */
const SEQUENCES = [
  ["memories", "seq"],
  ["runs", "seq"],
  ["feedback", "id"],
  ["audit_log", "id"],
] as const;

const FORMAT = "precedent-backup";
const VERSION = 1;
const PAGE = 1000;

const headerSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  exportedAt: z.string(),
});
const rowLineSchema = z.object({ table: z.enum(TABLE_NAMES), row: z.record(z.string(), z.unknown()) });
const trailerSchema = z.object({
  end: z.literal(true),
  rows: z.record(z.enum(TABLE_NAMES), z.number().int()),
});

const quoted = (name: string) => `"${name}"`;

/**
 * Writes every record of the database as JSON lines: a header, one `{table, row}` line per row (the row
 * as Postgres itself renders it with to_jsonb, so timestamps keep their microseconds and floats their
 * exact value), and a trailer with the row count of each table, by which import knows the file is whole.
 * Read in one repeatable-read transaction: a consistent snapshot while the service keeps writing.
 */
export async function exportDatabase({
  db,
  write,
}: {
  db: Database;
  write: (chunk: string) => Promise<void>;
}): Promise<Record<TableName, number>> {
  const rows = Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as Record<TableName, number>;
  await db.transaction(async (t) => {
    const tx: Database = t;
    await tx.execute(sql`set transaction isolation level repeatable read read only`);
    await write(
      `${JSON.stringify({ format: FORMAT, version: VERSION, exportedAt: new Date().toISOString() })}\n`,
    );
    for (const table of TABLES) {
      const columns = table.key.map(([column]) => quoted(column)).join(", ");
      const keys = sql.raw(columns);
      const keyJson = sql.raw(`jsonb_build_array(${columns})`);
      let after: unknown[] | undefined;
      for (;;) {
        const from = after;
        const continuing = from
          ? sql`where (${keys}) > (${sql.join(
              table.key.map(([, type], i) => sql`${from[i]}::${sql.raw(type)}`),
              sql`, `,
            )})`
          : sql``;
        const page = await queryRows<{ row: unknown; key: unknown[] }>(
          tx,
          sql`select to_jsonb(t)${sql.raw(omitted(table.name))} as row, ${keyJson} as key from ${sql.raw(quoted(table.name))} t
              ${continuing} order by ${keys} limit ${PAGE}`,
        );
        if (page.length === 0) break;
        await write(page.map((r) => `${JSON.stringify({ table: table.name, row: r.row })}\n`).join(""));
        rows[table.name] += page.length;
        after = page[page.length - 1]?.key;
        if (page.length < PAGE) break;
      }
    }
    await write(`${JSON.stringify({ end: true, rows })}\n`);
  });
  return rows;
}

/** The columns a table's backup leaves out. */
function omittedColumns(name: TableName): readonly string[] {
  const table = TABLES.find((t) => t.name === name) as (typeof TABLES)[number];
  return "omit" in table ? table.omit : [];
}

/** The table's columns that a backup holds, quoted and listed: all but those it leaves out. */
async function restoredColumns(db: Database, name: TableName): Promise<string> {
  const left = omittedColumns(name);
  const columns = await queryRows<{ column_name: string }>(
    db,
    sql`select column_name from information_schema.columns
        where table_schema = current_schema() and table_name = ${name} order by ordinal_position`,
  );
  return columns
    .map((c) => c.column_name)
    .filter((c) => !left.includes(c))
    .map(quoted)
    .join(", ");
}

/** `- 'column'` for each column a table's backup leaves out. */
function omitted(name: TableName): string {
  return omittedColumns(name)
    .map((c) => ` - '${c}'`)
    .join("");
}

/** Row counts per table, as a line for a person: `2 banks, 0 api_keys, …`. */
export function describeRows(rows: Record<string, number>): string {
  return Object.entries(rows)
    .map(([table, n]) => `${n} ${table}`)
    .join(", ");
}

/**
 * Restores a backup into an empty database, in one transaction: a file that is malformed, cut short or
 * from another format version restores nothing and names its line. Afterwards the serial sequences
 * continue past the restored rows, and every memory is marked as not indexed, so the caller's reconcile
 * (or reindex) rebuilds the index from the restored records.
 */
export async function importDatabase({
  db,
  lines,
}: {
  db: Database;
  lines: AsyncIterable<string>;
}): Promise<Record<TableName, number>> {
  const [present] = await queryRows<{ n: number }>(
    db,
    sql`select ((select count(*) from banks) + (select count(*) from memories) + (select count(*) from runs)
              + (select count(*) from api_keys))::int as n`,
  );
  if (Number(present?.n) > 0) {
    throw new PrecedentError(
      "conflict",
      "import restores a backup into an empty database, and this one holds records: use a new database (or PRECEDENT_HOME)",
    );
  }
  return db.transaction(async (t) => {
    const tx: Database = t;
    const rows = Object.fromEntries(TABLE_NAMES.map((n) => [n, 0])) as Record<TableName, number>;
    let pending: { table: TableName; rows: unknown[] } | undefined;
    // read once per table, not per page of rows
    const columnsOf = new Map<TableName, string>();
    const flush = async () => {
      if (!pending || pending.rows.length === 0) return;
      const table = sql.raw(quoted(pending.table));
      // the columns a backup leaves out take their defaults here, not the nulls the record would give
      if (!columnsOf.has(pending.table))
        columnsOf.set(pending.table, await restoredColumns(tx, pending.table));
      const columns = sql.raw(columnsOf.get(pending.table) as string);
      await tx.execute(
        sql`insert into ${table} (${columns}) select ${columns} from jsonb_populate_recordset(null::${table}, ${JSON.stringify(pending.rows)}::jsonb)`,
      );
      rows[pending.table] += pending.rows.length;
      pending = undefined;
    };
    let lineNumber = 0;
    let header = false;
    let trailer: z.infer<typeof trailerSchema> | undefined;
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === "") continue;
      const fail = (why: string): never => {
        throw new PrecedentError("invalid_input", `line ${lineNumber}: ${why}`, "file");
      };
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        fail("not JSON");
      }
      if (trailer) fail("text after the end of the backup");
      if (!header) {
        if (!headerSchema.safeParse(value).success) fail(`not a ${FORMAT} version ${VERSION} header`);
        header = true;
        continue;
      }
      const end = trailerSchema.safeParse(value);
      if (end.success) {
        trailer = end.data;
        continue;
      }
      const parsed = rowLineSchema.safeParse(value);
      if (!parsed.success) fail("neither a row of a known table nor the end of the backup");
      const { table, row } = parsed.data as z.infer<typeof rowLineSchema>;
      if (pending && pending.table !== table) await flush();
      pending ??= { table, rows: [] };
      pending.rows.push(row);
      if (pending.rows.length >= PAGE) await flush();
    }
    await flush();
    if (!header) throw new PrecedentError("invalid_input", "the file is empty: no backup header", "file");
    if (!trailer) {
      throw new PrecedentError(
        "invalid_input",
        `the backup is cut short after line ${lineNumber}: no end line`,
        "file",
      );
    }
    for (const name of TABLE_NAMES) {
      if ((trailer.rows[name] ?? 0) !== rows[name]) {
        throw new PrecedentError(
          "invalid_input",
          `the backup says ${trailer.rows[name] ?? 0} rows of ${name} and holds ${rows[name]}`,
          "file",
        );
      }
    }
    for (const [table, column] of SEQUENCES) {
      await tx.execute(
        sql.raw(
          `select setval(pg_get_serial_sequence('${table}', '${column}'), coalesce((select max("${column}") from "${table}"), 0) + 1, false)`,
        ),
      );
    }
    await tx.execute(sql`update memories set index_version = 0`);
    return rows;
  });
}
