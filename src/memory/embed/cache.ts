import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../../db/database.js";
import { embeddingCache } from "../../db/schema.js";
import type { EmbeddingCache } from "./openai.js";

const CHUNK = 1000;

/**
 * The embedding cache kept in the database, so it survives restarts and rebuilds; usable while the
 * database is still starting (its reads and writes wait for it).
 */
export function databaseEmbeddingCache(database: Database | Promise<Database>): EmbeddingCache {
  return {
    async get(model, hashes) {
      const db = await database;
      const found = new Map<string, Float32Array>();
      for (let i = 0; i < hashes.length; i += CHUNK) {
        const rows = await db
          .select({ hash: embeddingCache.textHash, vector: embeddingCache.vector })
          .from(embeddingCache)
          .where(
            and(
              eq(embeddingCache.model, model),
              inArray(embeddingCache.textHash, hashes.slice(i, i + CHUNK)),
            ),
          );
        for (const r of rows) found.set(r.hash, Float32Array.from(r.vector));
      }
      return found;
    },
    async put(model, entries) {
      if (entries.length === 0) return;
      const db = await database;
      await db
        .insert(embeddingCache)
        .values(entries.map((e) => ({ model, textHash: e.hash, vector: Array.from(e.vector) })))
        .onConflictDoNothing();
    },
  };
}
