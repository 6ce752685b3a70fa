import type { EmbedderConfig } from "../../config.js";
import type { Database } from "../../db/database.js";
import { databaseEmbeddingCache } from "./cache.js";
import type { Embedder, EmbedElsewhere } from "./embedder.js";
import { createLocalEmbedder } from "./local.js";

/**
 * Builds the configured embedder; remote ones cache their vectors in the database. `elsewhere` is where
 * the local embedder sends large batches (a thread of the Node process; none in a Worker). The database
 * may still be starting: only the cache uses it, and only once something is embedded.
 */
export async function createEmbedder(
  config: EmbedderConfig,
  db: Database | Promise<Database>,
  { elsewhere }: { elsewhere?: EmbedElsewhere } = {},
): Promise<Embedder> {
  if (config.kind === "local") return createLocalEmbedder(config.dimensions, { elsewhere });
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
