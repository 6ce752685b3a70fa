import { sql } from "drizzle-orm";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.js";
import { queryRows } from "../db/database.js";
import type { ModelGate } from "../reasoning/modelGate.js";

/** The stages of a solve whose latency is measured, by the names runs record them under (`<stage>Ms`). */
export const SOLVE_STAGES = ["recall", "prompt", "sample", "verify", "writeBack"] as const;

// seconds: from a cached recall (~1 ms) to a slow model (minutes)
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** What a solve's sampling tells the metrics. */
export interface SamplingFacts {
  /** requests sent to the model */
  requests: number;
  samples: number;
  usage: { promptTokens: number; completionTokens: number };
}

/** A process's Prometheus metrics, in a registry of its own (a test builds a fresh one with its app). */
export interface Metrics {
  readonly registry: Registry;
  /** the metrics in the Prometheus text format, the index lag read from this database at the time */
  scrape(db: Database): Promise<string>;
  /** one HTTP request answered: its route pattern, method, status and duration */
  request(route: string, method: string, status: number, seconds: number): void;
  sampled(facts: SamplingFacts): void;
  /** a solve finished: its run's status and stage timings (`recallMs`, …) */
  solved(status: string, timings: Record<string, number>): void;
}

/**
 * The metrics of one process: request latency by route, each solve stage's latency, model requests,
 * samples and tokens, and, read when scraped, the model gate's queue and the index lag (memories whose
 * last change is committed but not yet searchable).
 */
export function createMetrics(sources: {
  gate?: () => ModelGate | undefined;
  /** the process's own figures (CPU, memory, event loop); off where the runtime has no such process (Workers) */
  processMetrics?: boolean;
}): Metrics {
  const registry = new Registry();
  if (sources.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: "precedent_http_request_duration_seconds",
    help: "HTTP requests by route pattern, method and status",
    labelNames: ["route", "method", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const stages = new Histogram({
    name: "precedent_solve_stage_duration_seconds",
    help: "Time spent in each stage of a solve",
    labelNames: ["stage"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const solves = new Counter({
    name: "precedent_solves_total",
    help: "Solves finished, by the run's status",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const modelRequests = new Counter({
    name: "precedent_model_requests_total",
    help: "Requests sent to the chat model",
    registers: [registry],
  });
  const samples = new Counter({
    name: "precedent_model_samples_total",
    help: "Chains of thought sampled",
    registers: [registry],
  });
  const tokens = new Counter({
    name: "precedent_model_tokens_total",
    help: "Model tokens, by kind (prompt, completion)",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "precedent_model_queue_depth",
    help: "Model requests waiting for a place under the concurrency limit",
    registers: [registry],
    collect() {
      this.set(sources.gate?.()?.load().queued ?? 0);
    },
  });
  new Gauge({
    name: "precedent_model_requests_in_flight",
    help: "Model requests being answered",
    registers: [registry],
    collect() {
      this.set(sources.gate?.()?.load().active ?? 0);
    },
  });
  // set at each scrape from the database of the scraping request (a Worker's connections are per request)
  const indexLag = new Gauge({
    name: "precedent_index_lag_memories",
    help: "Memories whose last change is committed to the records but not yet in the search index",
    registers: [registry],
  });

  return {
    registry,
    async scrape(db) {
      const [row] = await queryRows<{ n: number }>(
        db,
        // pending rows, and the rows of an import's claim (written as indexed ahead of their index write)
        sql`select ((select count(*) from memories where index_version < version)
          + (select count(*) from memories m join index_claims c
              on c.bank_id = m.bank_id and m.seq between c.first_seq and c.last_seq
             where m.index_version >= m.version))::int as n`,
      );
      indexLag.set(Number(row?.n ?? 0));
      return registry.metrics();
    },
    request(route, method, status, seconds) {
      requests.observe({ route, method, status: String(status) }, seconds);
    },
    sampled(facts) {
      modelRequests.inc(facts.requests);
      samples.inc(facts.samples);
      tokens.inc({ kind: "prompt" }, facts.usage.promptTokens);
      tokens.inc({ kind: "completion" }, facts.usage.completionTokens);
    },
    solved(status, timings) {
      solves.inc({ status });
      for (const stage of SOLVE_STAGES) {
        const ms = timings[`${stage}Ms`];
        if (ms !== undefined) stages.observe({ stage }, ms / 1000);
      }
    },
  };
}
