import { createHash } from "node:crypto";
import OpenAI from "openai";
import { type Embedder, normalize } from "./embedder.js";

/** Where remote embeddings already paid for are kept (the embedding_cache table in production). */
export interface EmbeddingCache {
  get(model: string, hashes: string[]): Promise<Map<string, Float32Array>>;
  put(model: string, entries: { hash: string; vector: Float32Array }[]): Promise<void>;
}

export interface OpenAIEmbedderOptions {
  model: string;
  baseURL?: string;
  apiKey?: string;
  /** Asked of the endpoint when set (OpenAI v3 models); otherwise learnt from its first answer. */
  dimensions?: number;
  batchSize?: number;
  maxRetries?: number;
  timeoutMs?: number;
  cache?: EmbeddingCache;
}

// A semantic embedder meets words that differ ("pears" and "apples", "earns" and "makes"); its cosine,
// over the best of the vector search, counts as much as the literal evidence. Not measured on a real
// model here (no weights can be reached from this machine); with the test server's bag-of-words vectors
// the analogue dev set keeps its figures (bench quality --embeddings openai).
const OPENAI_VECTOR_WEIGHT = 0.5;

export function textHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 40);
}

/**
 * Any OpenAI-compatible /embeddings endpoint, in batches, with the SDK's retries (exponential backoff on
 * 429, 5xx and connection errors), and a cache by (model, text hash) so a rebuild does not pay twice.
 */
export async function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Promise<Embedder> {
  const client = new OpenAI({
    baseURL: options.baseURL,
    apiKey: options.apiKey ?? "unused",
    maxRetries: options.maxRetries ?? 4,
    timeout: options.timeoutMs ?? 60_000,
  });
  const batchSize = options.batchSize ?? 128;
  const cache = options.cache;

  async function request(texts: string[]): Promise<Float32Array[]> {
    const response = await client.embeddings.create({
      model: options.model,
      input: texts,
      ...(options.dimensions ? { dimensions: options.dimensions } : {}),
    });
    const byIndex = [...response.data].sort((a, b) => a.index - b.index);
    if (byIndex.length !== texts.length) {
      throw new Error(`embeddings endpoint returned ${byIndex.length} vectors for ${texts.length} inputs`);
    }
    return byIndex.map((d) => normalize(Float32Array.from(d.embedding)));
  }

  const dimensions = options.dimensions ?? ((await request(["dimension probe"]))[0]?.length as number);

  return {
    id: `openai:${options.model}:${dimensions}`,
    dimensions,
    vectorWeight: OPENAI_VECTOR_WEIGHT,
    async embed(texts) {
      const hashes = texts.map(textHash);
      const cached = cache ? await cache.get(options.model, [...new Set(hashes)]) : new Map();
      const missing = [...new Set(hashes.filter((h) => !cached.has(h)))];
      const textOf = new Map(hashes.map((h, i) => [h, texts[i] as string]));
      for (let i = 0; i < missing.length; i += batchSize) {
        const batch = missing.slice(i, i + batchSize);
        const vectors = await request(batch.map((h) => textOf.get(h) as string));
        for (const [j, v] of vectors.entries()) {
          if (v.length !== dimensions) {
            throw new Error(`embeddings endpoint returned ${v.length} dimensions, expected ${dimensions}`);
          }
          cached.set(batch[j] as string, v);
        }
        await cache?.put(
          options.model,
          batch.map((hash, j) => ({ hash, vector: vectors[j] as Float32Array })),
        );
      }
      return hashes.map((h) => cached.get(h) as Float32Array);
    },
  };
}
