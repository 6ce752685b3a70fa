import { join, resolve } from "node:path";
import { z } from "zod";
import { FAULT_POINTS } from "./faults.js";
import { packageRoot } from "./packageRoot.js";

/** The only reader of the environment: every setting precedent takes, validated once at start-up. */
const envSchema = z.object({
  PRECEDENT_HOME: z.string().min(1).default(".precedent"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  LANCE_URI: z.string().min(1).optional(),
  INDEX: z.enum(["lance", "postgres"]).default("lance"),
  LANCE_READ_CONSISTENCY_SECONDS: z.coerce.number().min(0).max(3600).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().optional(),
  PRECEDENT_MODEL: z.string().min(1).optional(),
  MODEL_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).optional(),
  MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).optional(),
  EMBEDDINGS: z.enum(["local", "openai"]).default("local"),
  EMBEDDINGS_MODEL: z.string().min(1).optional(),
  EMBEDDINGS_DIMENSIONS: z.coerce.number().int().min(8).max(8192).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default("127.0.0.1"),
  PRECEDENT_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  PRECEDENT_API_KEY: z.string().min(1).optional(),
  PRECEDENT_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(120),
  PRECEDENT_DATA_DIR: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** for crash tests only: the process kills itself at this point of a solve's write-back */
  PRECEDENT_FAULT: z.enum(FAULT_POINTS).optional(),
});

export type Env = z.infer<typeof envSchema>;

export type EmbedderConfig =
  | { kind: "local"; dimensions: number }
  | { kind: "openai"; model: string; dimensions?: number; baseURL?: string; apiKey?: string };

export interface Config {
  home: string;
  database: { kind: "pglite"; dataDir: string } | { kind: "postgres"; url: string };
  lanceUri: string;
  /** how often a LanceDB read checks for other processes' writes (replicas sharing LANCE_URI); unset: never */
  lanceReadConsistencySeconds?: number;
  /** which search index: `lance` (LanceDB at lanceUri) or `postgres` (table memory_index in the database) */
  index: Env["INDEX"];
  model?: {
    baseURL?: string;
    apiKey?: string;
    name: string;
    concurrency?: number;
    timeoutMs?: number;
    maxRetries?: number;
  };
  embedder: EmbedderConfig;
  http: { port: number; host: string };
  adminToken?: string;
  /** a bearer token that may read GET /metrics and nothing else (a Prometheus scraper's) */
  metricsToken?: string;
  /** requests per minute (and burst) each API key may make; perMinute 0: unlimited */
  rateLimit: { perMinute: number; burst: number };
  /** what CLI commands present to a running server: PRECEDENT_API_KEY, else the admin token */
  clientToken?: string;
  logLevel: Env["LOG_LEVEL"];
  /** crash tests only: where the process stops itself (see src/faults.ts) */
  faultPoint?: Env["PRECEDENT_FAULT"];
  /** where the built-in banks' datasets live */
  dataDir: string;
}

/** A setting that is wrong, named so the message says exactly what to fix. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable} ${i.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

export const LOCAL_EMBEDDING_DIMENSIONS = 384;

/** Validates the environment's settings; empty strings count as unset. */
export function parseEnv(env: Record<string, string | undefined>): Env {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? "environment"), message: i.message })),
    );
  }
  const e = parsed.data;
  if (e.EMBEDDINGS === "openai" && !e.EMBEDDINGS_MODEL) {
    throw new ConfigError([
      {
        variable: "EMBEDDINGS_MODEL",
        message: "is required when EMBEDDINGS=openai (e.g. text-embedding-3-small)",
      },
    ]);
  }
  return e;
}

/** The chat model solves use, when one is configured. */
export function modelSettings(e: Env): Config["model"] {
  return e.PRECEDENT_MODEL
    ? {
        name: e.PRECEDENT_MODEL,
        baseURL: e.OPENAI_BASE_URL,
        apiKey: e.OPENAI_API_KEY,
        concurrency: e.MODEL_CONCURRENCY,
        timeoutMs: e.MODEL_TIMEOUT_MS,
        maxRetries: e.MODEL_MAX_RETRIES,
      }
    : undefined;
}

/** The embedder: local feature hashing unless EMBEDDINGS=openai. */
export function embedderSettings(e: Env): EmbedderConfig {
  return e.EMBEDDINGS === "openai"
    ? {
        kind: "openai",
        model: e.EMBEDDINGS_MODEL as string,
        dimensions: e.EMBEDDINGS_DIMENSIONS,
        baseURL: e.OPENAI_BASE_URL,
        apiKey: e.OPENAI_API_KEY,
      }
    : { kind: "local", dimensions: e.EMBEDDINGS_DIMENSIONS ?? LOCAL_EMBEDDING_DIMENSIONS };
}

/** The per-key request limit. */
export function rateLimitSettings(e: Env): Config["rateLimit"] {
  return { perMinute: e.RATE_LIMIT_PER_MINUTE, burst: e.RATE_LIMIT_BURST };
}

/** Reads and validates the process environment into the Node service's configuration. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv(env);
  const home = resolve(e.PRECEDENT_HOME);
  return {
    home,
    database: e.DATABASE_URL
      ? { kind: "postgres", url: e.DATABASE_URL }
      : { kind: "pglite", dataDir: resolve(home, "pg") },
    lanceUri: e.LANCE_URI ?? resolve(home, "lance"),
    lanceReadConsistencySeconds: e.LANCE_READ_CONSISTENCY_SECONDS,
    index: e.INDEX,
    model: modelSettings(e),
    embedder: embedderSettings(e),
    http: { port: e.PORT, host: e.HOST },
    adminToken: e.PRECEDENT_ADMIN_TOKEN,
    metricsToken: e.PRECEDENT_METRICS_TOKEN,
    rateLimit: rateLimitSettings(e),
    clientToken: e.PRECEDENT_API_KEY ?? e.PRECEDENT_ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    faultPoint: e.PRECEDENT_FAULT,
    dataDir: resolve(e.PRECEDENT_DATA_DIR ?? join(packageRoot(), "..", "shared", "data")),
  };
}
