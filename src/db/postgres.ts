import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { Database } from "./database.js";
import * as schema from "./schema.js";

export interface PostgresConnection {
  db: Database;
  client: postgres.Sql;
  close(): Promise<void>;
}

/** A postgres.js pool under drizzle: the Node server's connection, and the Worker's per request. */
export function connectPostgres(url: string, options: { max?: number } = {}): PostgresConnection {
  const client = postgres(url, { max: options.max ?? 10, onnotice: () => {} });
  const db = drizzle({ client, schema }) as unknown as Database;
  return { db, client, close: () => client.end({ timeout: 5 }) };
}
