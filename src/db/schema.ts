import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { MEMORY_SOURCES, MEMORY_STATUSES, VERIFICATIONS } from "../memory/trust.js";
import { RUN_STATUSES, RUN_VERDICTS, SHADOW_KINDS } from "../reasoning/runVocabulary.js";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A problem bank: one domain, its settings, its memories. */
export const banks = pgTable("banks", {
  id: text("id").primaryKey(),
  domain: text("domain").notNull(),
  description: text("description").notNull().default(""),
  settings: jsonb("settings").notNull().default({}),
  createdAt: createdAt(),
});

/**
 * A solved problem. `version` rises with every change the search index must see; `indexVersion` is the
 * version the index last acknowledged, so `indexVersion < version` is what reconcile must upsert, with
 * the rows an import's open claim still covers (`index_claims`).
 */
export const memories = pgTable(
  "memories",
  {
    id: text("id").primaryKey(),
    bankId: text("bank_id")
      .notNull()
      .references(() => banks.id, { onDelete: "cascade" }),
    problem: text("problem").notNull(),
    reasoning: text("reasoning").notNull().default(""),
    answer: text("answer").notNull(),
    answerCanonical: text("answer_canonical").notNull(),
    problemHash: text("problem_hash").notNull(),
    source: text("source", { enum: MEMORY_SOURCES }).notNull(),
    runId: text("run_id"),
    model: text("model"),
    verification: text("verification", { enum: VERIFICATIONS }).notNull(),
    verificationDetail: jsonb("verification_detail").notNull().default({}),
    trust: integer("trust").notNull(),
    status: text("status", { enum: MEMORY_STATUSES }).notNull().default("active"),
    recalledCount: integer("recalled_count").notNull().default(0),
    helpedCount: integer("helped_count").notNull().default(0),
    hurtCount: integer("hurt_count").notNull().default(0),
    supportCount: integer("support_count").notNull().default(1),
    metadata: jsonb("metadata").notNull().default({}),
    version: integer("version").notNull().default(1),
    indexVersion: integer("index_version").notNull().default(0),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    // the id of the transaction that last changed what recall reads of the memory: its inserter's by
    // default, its updater's by the trigger memories_changed_xid (migrations/0007); what the process's
    // records cache refreshes by
    changedXid: bigint("changed_xid", { mode: "number" })
      .notNull()
      .default(sql`(pg_current_xact_id())::text::bigint`),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("memories_bank_problem_hash").on(t.bankId, t.problemHash),
    index("memories_bank_status").on(t.bankId, t.status),
    index("memories_bank_seq").on(t.bankId, t.seq),
    index("memories_bank_changed").on(t.bankId, t.changedXid),
    index("memories_unindexed").on(t.bankId).where(sql`${t.indexVersion} < ${t.version}`),
  ],
);

/** One solve: everything it did, so it can be inspected later. */
export const runs = pgTable(
  "runs",
  {
    id: text("id").primaryKey(),
    bankId: text("bank_id")
      .notNull()
      .references(() => banks.id, { onDelete: "cascade" }),
    query: text("query").notNull(),
    queryHash: text("query_hash").notNull(),
    params: jsonb("params").notNull().default({}),
    prompt: jsonb("prompt").notNull().default([]),
    answer: text("answer"),
    answerCanonical: text("answer_canonical"),
    confidence: real("confidence"),
    votes: jsonb("votes").notNull().default([]),
    verification: text("verification", { enum: VERIFICATIONS }).notNull().default("none"),
    verificationDetail: jsonb("verification_detail").notNull().default({}),
    /** correct | incorrect | unknown: what the deciding verifier (or later feedback) concluded */
    verdict: text("verdict", { enum: RUN_VERDICTS }).notNull().default("unknown"),
    /** completed | failed | memory_hit | remembered */
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    error: text("error"),
    writtenMemoryId: text("written_memory_id"),
    timings: jsonb("timings").notNull().default({}),
    usage: jsonb("usage").notNull().default({}),
    model: text("model"),
    /** how the model was prompted and what the strategy produced (StrategyRecord); {} before strategies */
    strategy: jsonb("strategy").notNull().default({}),
    /**
     * a shadow run answers its run's query again off the request path, to measure what memory does:
     * `control` without recalled examples, `ablation` with one of them withheld (params.withheld)
     */
    shadowOf: text("shadow_of").references((): AnyPgColumn => runs.id, { onDelete: "cascade" }),
    shadowKind: text("shadow_kind", { enum: SHADOW_KINDS }),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("runs_bank_seq").on(t.bankId, t.seq), index("runs_shadow_of").on(t.shadowOf)],
);

/** A memory recalled by a run, with the scores that put it there. */
export const runRecalls = pgTable(
  "run_recalls",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    memoryId: text("memory_id")
      .notNull()
      .references(() => memories.id, { onDelete: "cascade" }),
    rank: integer("rank").notNull(),
    /** the signals it was ranked by (RecallScores but utility and final), as recall gave them */
    signals: jsonb("signals").$type<Record<string, number | null>>().notNull().default({}),
    utility: real("utility").notNull(),
    finalScore: real("final_score").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.rank] }), index("run_recalls_memory").on(t.memoryId)],
);

/** One sampled chain of thought of a run. */
export const runSamples = pgTable(
  "run_samples",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    index: integer("index").notNull(),
    text: text("text").notNull(),
    answer: text("answer"),
    answerCanonical: text("answer_canonical"),
    confidence: real("confidence"),
    tokens: integer("tokens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.index] })],
);

/** A user's verdict on a run's answer. */
export const feedback = pgTable(
  "feedback",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    verdict: text("verdict", { enum: RUN_VERDICTS }).notNull(),
    answer: text("answer"),
    keyId: text("key_id"),
    createdAt: createdAt(),
  },
  (t) => [index("feedback_run").on(t.runId)],
);

/**
 * Who changed what: one row per write through the service verbs (banks, imports, memories' status, keys,
 * remembered solutions; feedback carries its own key), with the key that made it (null for the operator, the admin token or
 * an open server, whose `principal` says which).
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    action: text("action").notNull(),
    principal: text("principal").notNull(),
    keyId: text("key_id"),
    bankId: text("bank_id"),
    subject: text("subject"),
    detail: jsonb("detail").notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("audit_log_bank").on(t.bankId, t.id), index("audit_log_key").on(t.keyId, t.id)],
);

/** A bearer key, stored as a hash, with its scopes (`admin`, `bank:<id>:read`, `bank:<id>:write`). */
export const apiKeys = pgTable("api_keys", {
  id: text("id").primaryKey(),
  hash: text("hash").notNull().unique(),
  name: text("name").notNull().default(""),
  scopes: jsonb("scopes").$type<string[]>().notNull(),
  createdAt: createdAt(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

/** Which embedder built the search index, so a change of embedder triggers a rebuild. */
export const indexState = pgTable("index_state", {
  name: text("name").primaryKey(),
  embedder: text("embedder").notNull(),
  dimensions: integer("dimensions").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Remote embeddings already paid for, keyed by model and text hash. */
export const embeddingCache = pgTable(
  "embedding_cache",
  {
    model: text("model").notNull(),
    textHash: text("text_hash").notNull(),
    vector: real("vector").array().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.model, t.textHash] })],
);

/**
 * The Postgres-backed search index (INDEX=postgres; src/memory/index/postgres.ts): what the LanceDB index
 * holds, in Postgres itself. Derived like LanceDB: reconcile writes it, `reindex` rebuilds it, and nothing
 * here refers to the records, so it can be dropped and rebuilt at any time. Lexical search runs in
 * process over each bank's lexicon, built from `text` (src/memory/lexical/).
 */
export const memoryIndex = pgTable(
  "memory_index",
  {
    bankId: text("bank_id").notNull(),
    memoryId: text("memory_id").notNull(),
    status: text("status").notNull(),
    trust: integer("trust").notNull(),
    text: text("text").notNull(),
    vector: real("vector").array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.bankId, t.memoryId] })],
);

/**
 * One row per bank of the Postgres-backed index: `generation` rises with every write to the bank's rows,
 * so a process that keeps the bank's vectors or lexicon in memory knows when another writer changed them;
 * `rows` is kept with each write (it decides when a bank gets an HNSW index).
 */
export const memoryIndexBanks = pgTable("memory_index_banks", {
  bankId: text("bank_id").primaryKey(),
  generation: bigint("generation", { mode: "number" }).notNull().default(0),
  rows: integer("rows").notNull().default(0),
});

/**
 * Memories of a bank (a range of `seq`) written as indexed (`index_version = version`) before their index
 * write was done: an import claims them in the statement that inserts them and drops the claim once the
 * index holds them, instead of acknowledging each row afterwards (that update took a sixth of a seed's
 * time). Reconcile writes whatever a claim still covers, so a crash in between loses nothing.
 */
export const indexClaims = pgTable(
  "index_claims",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    bankId: text("bank_id")
      .notNull()
      .references(() => banks.id, { onDelete: "cascade" }),
    firstSeq: bigint("first_seq", { mode: "number" }).notNull(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("index_claims_bank").on(t.bankId)],
);

/**
 * A memory deleted from the records while its bank lives on (trigger memories_removed), stamped like
 * memories.changed_xid: what tells a process's records cache to forget it.
 */
export const memoryRemovals = pgTable(
  "memory_removals",
  {
    bankId: text("bank_id").notNull(),
    memoryId: text("memory_id").notNull(),
    changedXid: bigint("changed_xid", { mode: "number" }).notNull(),
  },
  (t) => [index("memory_removals_bank_changed").on(t.bankId, t.changedXid)],
);
