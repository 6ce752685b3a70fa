import { parentPort } from "node:worker_threads";
import { embedLocal } from "./local.js";
import type { EmbedRequest } from "./localThread.js";

// the thread's whole job: each batch comes back as one flat buffer, moved rather than copied
parentPort?.on("message", ({ id, texts, dimensions }: EmbedRequest) => {
  const flat = new Float32Array(texts.length * dimensions);
  texts.forEach((text, i) => {
    flat.set(embedLocal(text, dimensions), i * dimensions);
  });
  parentPort?.postMessage({ id, flat }, [flat.buffer]);
});
