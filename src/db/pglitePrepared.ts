import {
  type PGlite,
  parse,
  protocol,
  type QueryOptions,
  type Results,
  type Transaction,
} from "@electric-sql/pglite";

/** What drizzle's PGlite driver calls on its client. */
export interface PgliteClient {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(text: string, options?: QueryOptions): Promise<Array<Results>>;
  transaction<T>(fn: (tx: PgliteClient & { rollback(): Promise<void> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// Distinct statement texts kept prepared; the oldest is closed past this (texts that inline values or list
// lengths would otherwise grow the backend's memory without bound).
const MAX_PREPARED = 256;
// SQLSTATE of "cached plan must not change result type": a table a statement reads changed shape
const CACHED_PLAN_CHANGED = "0A000";

interface Prepared {
  name: string;
  paramTypes: number[];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * PGlite with each statement text prepared once, by name, and then run in a single protocol exchange (bind,
 * describe, execute, sync). PGlite's own `query` parses, plans and describes every statement anew in six
 * exchanges with the WASM backend: a 25-row select costs 0.8 ms that way and 0.4 ms this way, and a solve
 * runs about eight statements. Exclusivity, transactions and result parsing are PGlite's own.
 */
export function withPreparedStatements(pg: PGlite): PgliteClient {
  const s = protocol.serialize;
  const prepared = new Map<string, Prepared>();
  let counter = 0;

  async function prepare(text: string, options?: QueryOptions): Promise<Prepared> {
    const known = prepared.get(text);
    if (known) {
      // least recently used last out
      prepared.delete(text);
      prepared.set(text, known);
      return known;
    }
    const evict = [];
    while (prepared.size >= MAX_PREPARED) {
      const [oldest, statement] = prepared.entries().next().value as [string, Prepared];
      prepared.delete(oldest);
      evict.push(s.close({ type: "S", name: statement.name }));
    }
    const name = `precedent_${++counter}`;
    const { messages } = await pg.execProtocol(
      concat([
        ...evict,
        s.parse({ name, text, types: options?.paramTypes }),
        s.describe({ type: "S", name }),
        s.sync(),
      ]),
      { syncToFs: false },
    );
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    prepared.set(text, statement);
    return statement;
  }

  async function run<T>(text: string, params: unknown[], options?: QueryOptions): Promise<Results<T>> {
    const statement = await prepare(text, options);
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const type = statement.paramTypes[i] as number;
      const serialize = options?.serializers?.[type] ?? pg.serializers[type];
      return serialize ? serialize(value) : String(value);
    });
    const { messages } = await pg.execProtocol(
      concat([
        s.bind({ statement: statement.name, values }),
        s.describe({ type: "P" }),
        s.execute({}),
        s.sync(),
      ]),
      { syncToFs: false, onNotice: options?.onNotice },
    );
    if (!pg.isInTransaction()) await pg.syncToFs();
    // PGlite merges per-query parsers into a copy of its ~320 defaults on every call (60 µs, a tenth of
    // the main thread under load); layered over the defaults they cost nothing to combine
    const parsers = options?.parsers
      ? Object.assign(Object.create(pg.parsers) as typeof pg.parsers, options.parsers)
      : pg.parsers;
    return parse.parseResults(messages, parsers, { ...options, parsers: undefined })[0] as Results<T>;
  }

  /** Runs a statement; one whose table changed shape since it was prepared is prepared again. */
  async function statement<T>(text: string, params: unknown[], options?: QueryOptions) {
    try {
      return await run<T>(text, params, options);
    } catch (e) {
      const error = e as { code?: string; message?: string };
      const changed = error.code === CACHED_PLAN_CHANGED && /cached plan/.test(error.message ?? "");
      if (!changed || pg.isInTransaction()) throw e;
      prepared.delete(text);
      return run<T>(text, params, options);
    }
  }

  function inTransaction(tx: Transaction): PgliteClient & { rollback(): Promise<void> } {
    return {
      query: <T>(text: string, params: unknown[] = [], options?: QueryOptions) => {
        if (tx.closed) throw new Error("Transaction is closed");
        // the transaction holds PGlite's transaction lock; a statement takes only the query lock
        return pg._runExclusiveQuery(() => run<T>(text, params, options));
      },
      exec: (text, options) => tx.exec(text, options),
      rollback: () => tx.rollback(),
      transaction: () => {
        throw new Error("nested transactions go through savepoints");
      },
      close: async () => {},
    };
  }

  return {
    query: <T>(text: string, params: unknown[] = [], options?: QueryOptions) =>
      pg._runExclusiveTransaction(() => pg._runExclusiveQuery(() => statement<T>(text, params, options))),
    exec: (text, options) => pg.exec(text, options),
    transaction: (fn) => pg.transaction((tx) => fn(inTransaction(tx))),
    close: () => pg.close(),
  };
}
