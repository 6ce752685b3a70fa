import {
  type Config,
  ConfigError,
  embedderSettings,
  modelSettings,
  parseEnv,
  rateLimitSettings,
} from "../config.js";

/** The bindings wrangler.toml gives the Worker: Hyperdrive, plus vars and secrets as strings. */
export interface WorkerBindings {
  HYPERDRIVE?: { connectionString: string };
  [name: string]: unknown;
}

/** What the Worker runs with: the Node settings that apply on Workers, read from its bindings. */
export interface WorkerSettings {
  databaseUrl: string;
  adminToken: string;
  model: Config["model"];
  embedder: Config["embedder"];
  logLevel: Config["logLevel"];
  rateLimit: Config["rateLimit"];
}

/**
 * Validates the Worker's bindings with the same schema as the Node environment. A Worker is reachable
 * from anywhere, so where the Node server would fall back to listening on 127.0.0.1, the Worker needs
 * PRECEDENT_ADMIN_TOKEN; the database is the Hyperdrive binding, or DATABASE_URL without one.
 */
export function workerSettings(bindings: WorkerBindings): WorkerSettings {
  const vars = Object.fromEntries(
    Object.entries(bindings).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const e = parseEnv(vars);
  const databaseUrl = bindings.HYPERDRIVE?.connectionString ?? e.DATABASE_URL;
  if (!databaseUrl) {
    throw new ConfigError([
      {
        variable: "HYPERDRIVE",
        message: "is required: bind Hyperdrive in wrangler.toml, or set DATABASE_URL",
      },
    ]);
  }
  if (!e.PRECEDENT_ADMIN_TOKEN) {
    throw new ConfigError([
      {
        variable: "PRECEDENT_ADMIN_TOKEN",
        message: "is required on Workers (`wrangler secret put PRECEDENT_ADMIN_TOKEN`): a Worker is public",
      },
    ]);
  }
  return {
    databaseUrl,
    adminToken: e.PRECEDENT_ADMIN_TOKEN,
    model: modelSettings(e),
    embedder: embedderSettings(e),
    logLevel: e.LOG_LEVEL,
    rateLimit: rateLimitSettings(e),
  };
}
