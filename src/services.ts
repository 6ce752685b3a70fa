import type { Principal } from "./auth/principal.js";
import type { Database } from "./db/database.js";
import type { FaultHook } from "./faults.js";
import type { Logger } from "./log.js";
import type { Embedder } from "./memory/embed/embedder.js";
import type { MemoryIndex } from "./memory/index/memoryIndex.js";
import type { RecordsCache } from "./memory/recordsCache.js";
import type { Metrics } from "./metrics/metrics.js";
import type { ModelClient } from "./reasoning/model.js";
import type { ShadowRunner } from "./reasoning/shadowRunner.js";

/**
 * Keeps the search index in step with single writes off the request path (src/memory/indexer.ts): a write
 * only marks its record pending, and pending records are indexed shortly after in one batch per bank.
 */
export interface BackgroundIndexer {
  /** A record of this bank changed and waits for the index. */
  notify(bankId: string): void;
  /** Resolves once everything notified so far is in the index. */
  flush(): Promise<void>;
  /** Flushes, then stops. */
  close(): Promise<void>;
}

/** Everything a service function needs, passed in rather than imported, so tests can build their own. */
export interface Services {
  db: Database;
  index: MemoryIndex;
  embedder: Embedder;
  log: Logger;
  /** the chat model solves sample from; absent when none is configured (recall still works) */
  model?: ModelClient;
  /** the candidate records of small banks in process; without one, each recall reads them from the database */
  records?: RecordsCache;
  /** indexes single writes in batches off the request path; without one they are indexed at once */
  indexer?: BackgroundIndexer;
  /** crash tests only (PRECEDENT_FAULT): stops the process at a point of a solve's write-back */
  fault?: FaultHook;
  /** the process's Prometheus metrics (GET /metrics); the app creates them when the services have none */
  metrics?: Metrics;
  /** runs banks' shadow solves (shadowRate, ablationRate) off the request path; without one none are made */
  shadows?: ShadowRunner;
}

/** The services as one caller sees them: what the verbs that read or change a bank's data take. */
export interface CallContext extends Services {
  /** who is calling; every access check reads it, and every write records its key */
  principal: Principal;
}
