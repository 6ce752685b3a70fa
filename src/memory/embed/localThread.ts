import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { EmbedElsewhere } from "./embedder.js";

/** A request to the embedding thread: texts to embed at a dimension, answered under the same id. */
export interface EmbedRequest {
  id: number;
  texts: string[];
  dimensions: number;
}

/** The thread run from the sources (tests, benchmarks): it loads TypeScript as its parent does, with tsx. */
function fromSources(entry: URL): Worker {
  // tsx's "./esm/api" export, its `import` condition (an eval'd thread resolves bare names from the cwd)
  const tsxPackage = createRequire(import.meta.url).resolve("tsx/package.json");
  const tsx = pathToFileURL(join(dirname(tsxPackage), "dist", "esm", "api", "index.mjs")).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * The local embedder's batches on a thread of their own, started at the first batch: a seed's embedding
 * (a fifth of its time on the main thread) then runs beside its database writes, and a server's event
 * loop keeps answering while an import embeds. The thread holds the process open only while it has work.
 */
export function embedOnThread(): EmbedElsewhere {
  let worker: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<
    number,
    { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void; dimensions: number }
  >();

  function start(): Worker {
    const entry = new URL(`./localWorker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
    const started = entry.pathname.endsWith(".ts") ? fromSources(entry) : new Worker(entry);
    started.unref();
    started.on("message", ({ id, flat }: { id: number; flat: Float32Array }) => {
      const request = waiting.get(id);
      if (!request) return;
      waiting.delete(id);
      if (waiting.size === 0) started.unref();
      const vectors: Float32Array[] = [];
      for (let at = 0; at < flat.length; at += request.dimensions)
        vectors.push(flat.subarray(at, at + request.dimensions));
      request.resolve(vectors);
    });
    const fail = (error: Error) => {
      for (const request of waiting.values()) request.reject(error);
      waiting.clear();
      worker = undefined;
    };
    started.on("error", fail);
    started.on("exit", (code) => fail(new Error(`the embedding thread exited (code ${code})`)));
    return started;
  }

  return (texts, dimensions) => {
    worker ??= start();
    const id = nextId++;
    const request: EmbedRequest = { id, texts, dimensions };
    const result = new Promise<Float32Array[]>((resolve, reject) => {
      waiting.set(id, { resolve, reject, dimensions });
    });
    worker.ref();
    worker.postMessage(request);
    return result;
  };
}
