import { createApp } from "./api/app.js";
import { problemFromCode } from "./api/problem.js";
import { createRateLimiter } from "./api/rateLimit.js";
import { ConfigError } from "./config.js";
import { connectPostgres } from "./db/postgres.js";
import { createConsoleLogger } from "./log.js";
import { createEmbedder } from "./memory/embed/createEmbedder.js";
import { createPostgresIndexMemory, openPostgresIndex } from "./memory/index/postgres.js";
import { createAnalyzer } from "./memory/lexical/analyze.js";
import { reconcileIndex } from "./memory/reconcile.js";
import { createMetrics } from "./metrics/metrics.js";
import { createModelClient, type ModelClient } from "./reasoning/model.js";
import type { Services } from "./services.js";
import { type WorkerBindings, workerSettings } from "./worker/settings.js";

/** The part of the Workers runtime's ExecutionContext this entry uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

// Kept by the isolate between requests: the app (its key cache and rate limits with it) and its metrics, the
// banks' vectors of the Postgres index, the model client (its gate bounds the model requests of every
// request the isolate serves at once), and whether this isolate has already reconciled the index
// (repairing what an interrupted request left pending).
const plainAnalyzer = createAnalyzer();
const indexMemory = createPostgresIndexMemory();
let modelClient: ModelClient | undefined;
let app: ReturnType<typeof createApp> | undefined;
let reconciled = false;

/** What the isolate hands the app with each request: the services opened for it. */
interface RequestEnv {
  services: Services;
}

/**
 * Cloudflare Workers entry: the same hono app as the Node server, over Postgres (through Hyperdrive) and
 * the Postgres-backed index, built once per isolate. A Worker's sockets belong to one request, so each
 * request opens its own connection and services, hands them to the app, and closes them once its
 * response body has been sent (a streamed solve keeps using the database until its last event).
 * Migrations are not run here: `precedent migrate` applies them before a deploy (README, "Cloudflare
 * Workers").
 */
export default {
  async fetch(request: Request, bindings: WorkerBindings, execution: ExecutionContext): Promise<Response> {
    let settings: ReturnType<typeof workerSettings>;
    try {
      settings = workerSettings(bindings);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const problem = problemFromCode("unavailable", e.message, e.issues[0]?.variable);
      return new Response(JSON.stringify(problem), {
        status: problem.status,
        headers: { "content-type": "application/problem+json" },
      });
    }
    const log = createConsoleLogger(settings.logLevel);
    const connection = connectPostgres(settings.databaseUrl, { max: 5 });
    const embedder = await createEmbedder(settings.embedder, connection.db);
    const index = await openPostgresIndex({
      db: connection.db,
      dimensions: embedder.dimensions,
      log,
      memory: indexMemory,
      // WordNet's dictionary (34 MB of files) cannot ship in a Worker: nouns keep their own words here
      analyzer: () => Promise.resolve(plainAnalyzer),
    });
    if (settings.model && !modelClient) modelClient = createModelClient(settings.model);
    const model = settings.model ? modelClient : undefined;
    app ??= createApp((c) => (c.env as RequestEnv).services, {
      adminToken: settings.adminToken,
      rateLimiter: createRateLimiter(settings.rateLimit),
      // workerd has no process to measure (no process.cpuUsage)
      metrics: createMetrics({ gate: () => modelClient?.gate, processMetrics: false }),
    });
    const ctx: Services = { db: connection.db, index, embedder, log, model };
    const env: RequestEnv = { services: ctx };
    const response = await app.fetch(request, env);

    const background: Promise<unknown>[] = [];
    if (!reconciled) {
      reconciled = true;
      background.push(
        reconcileIndex({ ctx }).catch((err) => {
          reconciled = false;
          log.warn({ err }, "reconciling the index failed; the next request tries again");
        }),
      );
    }
    if (!response.body) {
      execution.waitUntil(Promise.allSettled(background).then(() => connection.close()));
      return response;
    }
    const { readable, writable } = new TransformStream();
    background.push(response.body.pipeTo(writable).catch(() => {}));
    execution.waitUntil(Promise.allSettled(background).then(() => connection.close()));
    return new Response(readable, response);
  },
};
