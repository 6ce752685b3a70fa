import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.js";

export interface PostgresConnection {
  db: PostgresJsDatabase<typeof schema>;
  client: postgres.Sql;
  close(): Promise<void>;
}

/** A postgres.js pool under drizzle: the Node server's connection, and the Worker's per request. */
export function connectPostgres(url: string, options: { max?: number } = {}): PostgresConnection {
  const client = postgres(url, { max: options.max ?? 10, onnotice: () => {} });
  const db = drizzle({ client, schema });
  return { db, client, close: () => client.end({ timeout: 5 }) };
}
