import { join } from "node:path";
import { OPERATOR } from "./auth/principal.js";
import type { Config } from "./config.js";
import { type DatabaseHandle, openDatabase } from "./db/client.js";
import { acquireHomeLock, type HomeLock } from "./db/homeLock.js";
import { PrecedentError } from "./errors.js";
import { crashAt } from "./faults.js";
import { createLogger, type Logger } from "./log.js";
import type { MemoryIndex } from "./memory/index/memoryIndex.js";
import type { CallContext, Services } from "./services.js";
import { storageFailureMessage, storageFailureOf } from "./storageFailure.js";

/** Everything a service function needs, passed in rather than imported, so tests can build their own. */
export interface OpenContext extends CallContext {
  config: Config;
  lock?: HomeLock;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** what the process is doing, as the embedded database's lock shows it to another process */
  command: string;
  log?: Logger;
  /**
   * A command that only reads (recall, inspect, export) leaves the index's repair against the records to
   * the next process that writes: counting a large bank's records takes longer than its answer.
   */
  readOnly?: boolean;
  /**
   * Banks the command is about to search: their lexicons start loading as soon as the index is open, while
   * the database may still be starting (a LanceDB index needs nothing of it).
   */
  warm?: string[];
}

/**
 * Opens the configured database (taking the single-process lock for the embedded one), applies
 * migrations, opens the index and repairs it against the records. A full or read-only storage stops it
 * with a message that says so, rather than a stack trace.
 */
export async function openContext(config: Config, options: OpenOptions): Promise<OpenContext> {
  try {
    return await openStores(config, options);
  } catch (e) {
    const kind = storageFailureOf(e);
    if (!kind) throw e;
    const where = config.database.kind === "pglite" ? config.home : config.lanceUri;
    throw new PrecedentError(
      kind === "full" ? "insufficient_storage" : "unavailable",
      storageFailureMessage(kind, "start", where),
    );
  }
}

async function openStores(config: Config, options: OpenOptions): Promise<OpenContext> {
  const log = options.log ?? createLogger(config.logLevel);
  let lock: HomeLock | undefined;
  if (config.database.kind === "pglite") {
    const taken = acquireHomeLock(config.home, options.command);
    if ("heldBy" in taken) {
      const h = taken.heldBy;
      throw new PrecedentError(
        "locked",
        `the embedded database in ${config.home} is in use by "precedent ${h.command}" (pid ${h.pid}` +
          `${h.url ? `, serving ${h.url}` : ""}). Stop it first, use its REST API, or set DATABASE_URL to a ` +
          "Postgres server that several processes can share.",
      );
    }
    lock = taken.lock;
  }
  let index: MemoryIndex | undefined;
  // the database starts first; the rest of the stores' code loads while the embedded one boots (~0.4 s)
  const opening = openDatabase(config.database);
  const loading = loadStoreModules(config);
  loading.catch(() => {});
  const starting = migrated(opening, loading);
  starting.catch(() => {});
  try {
    const {
      createEmbedder,
      embedOnThread,
      openIndex,
      nativeNearest,
      wordNetAnalyzer,
      checkIndex,
      createRecordsCache,
      startBackgroundIndexer,
      createModelClient,
      createShadowRunner,
    } = await loading;
    const database = starting.then((h) => h.db);
    // the local embedder never reads it: a database that fails to start is reported once, below
    database.catch(() => {});
    const embedder = await createEmbedder(config.embedder, database, { elsewhere: embedOnThread() });
    // LanceDB opens (mostly waiting on its own threads) while the database starts; the Postgres index is in it
    index =
      openIndex.kind === "postgres"
        ? await openIndex.open({
            db: await database,
            dimensions: embedder.dimensions,
            log,
            hotTierScan: nativeNearest,
            analyzer: wordNetAnalyzer,
            lexiconFiles: join(config.home, "lexicons"),
          })
        : await openIndex.open({
            uri: config.lanceUri,
            dimensions: embedder.dimensions,
            readConsistencySeconds: config.lanceReadConsistencySeconds,
            hotTierScan: nativeNearest,
            analyzer: wordNetAnalyzer,
            lexiconFiles: join(config.home, "lexicons"),
          });
    for (const bank of options.warm ?? []) index.lexicon(bank).catch(() => {});
    const handle = await starting;
    const model = config.model ? createModelClient(config.model) : undefined;
    const ctx: Services = {
      db: handle.db,
      index,
      embedder,
      log,
      model,
      records: createRecordsCache(),
      ...(config.faultPoint ? { fault: crashAt(config.faultPoint) } : {}),
    };
    await checkIndex({ ctx, embedderOnly: options.readOnly });
    ctx.indexer = startBackgroundIndexer(ctx);
    ctx.shadows = createShadowRunner({ log });
    const { indexer, shadows } = ctx;
    const opened = handle;
    const openedIndex = index;
    return {
      ...ctx,
      // whoever runs the command line owns the stores it opened
      principal: OPERATOR,
      config,
      lock,
      async close() {
        await shadows.close();
        await indexer.close();
        await openedIndex.close();
        await opened.close();
        lock?.release();
      },
    };
  } catch (e) {
    await index?.close().catch(() => {});
    await starting.then(
      (h) => h.close().catch(() => {}),
      () => {},
    );
    lock?.release();
    throw e;
  }
}

/** The database once its schema is up to date (closed again when that fails). */
async function migrated(
  opening: Promise<DatabaseHandle>,
  loading: ReturnType<typeof loadStoreModules>,
): Promise<DatabaseHandle> {
  const handle = await opening;
  try {
    await (await loading).migrateDatabase(handle);
    return handle;
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
}

/** The modules the stores need beyond the database driver, the index of the configured kind only. */
async function loadStoreModules(config: Config) {
  const [migrate, embed, thread, openIndex, scan, analyzer, reconcile, records, indexer, model, shadows] =
    await Promise.all([
      import("./db/migrate.js"),
      import("./memory/embed/createEmbedder.js"),
      import("./memory/embed/localThread.js"),
      config.index === "postgres"
        ? import("./memory/index/postgres.js").then((m) => ({
            kind: "postgres" as const,
            open: m.openPostgresIndex,
          }))
        : import("./memory/index/lance.js").then((m) => ({ kind: "lance" as const, open: m.openLanceIndex })),
      import("./memory/index/nativeScan.js"),
      import("./memory/lexical/wordNetAnalyzer.js"),
      import("./memory/reconcile.js"),
      import("./memory/recordsCache.js"),
      import("./memory/indexer.js"),
      import("./reasoning/model.js"),
      import("./reasoning/shadowRunner.js"),
    ]);
  return {
    migrateDatabase: migrate.migrateDatabase,
    createEmbedder: embed.createEmbedder,
    embedOnThread: thread.embedOnThread,
    openIndex,
    nativeNearest: scan.nativeNearest,
    wordNetAnalyzer: analyzer.wordNetAnalyzer,
    checkIndex: reconcile.checkIndex,
    createRecordsCache: records.createRecordsCache,
    startBackgroundIndexer: indexer.startBackgroundIndexer,
    createModelClient: model.createModelClient,
    createShadowRunner: shadows.createShadowRunner,
  };
}
