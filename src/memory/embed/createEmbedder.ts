import type { EmbedderConfig } from "../../config.js";
import type { Database } from "../../db/database.js";
import { databaseEmbeddingCache } from "./cache.js";
import type { Embedder } from "./embedder.js";
import { createLocalEmbedder } from "./local.js";

/** Builds the configured embedder; remote ones cache their vectors in the database. */
export async function createEmbedder(config: EmbedderConfig, db: Database): Promise<Embedder> {
  if (config.kind === "local") return createLocalEmbedder(config.dimensions);
  // the SDK is loaded only when an endpoint embeds
  const { createOpenAIEmbedder } = await import("./openai.js");
  return createOpenAIEmbedder({
    model: config.model,
    baseURL: config.baseURL,
    apiKey: config.apiKey,
    dimensions: config.dimensions,
    cache: databaseEmbeddingCache(db),
  });
}
