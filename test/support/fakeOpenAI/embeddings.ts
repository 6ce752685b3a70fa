import type OpenAI from "openai";
import { FakeRequestError } from "./errors.js";
import { fnv1a } from "./random.js";

/**
 * Bag-of-words feature hashing: every lower-cased word adds ±1 to a hashed slot, so texts that share words
 * point the same way (cosine ~ word overlap) and an identical text always gets the identical vector.
 */
export function embedText(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = fnv1a(word);
    const slot = h % dimensions;
    vector[slot] = (vector[slot] as number) + (h & 0x80000000 ? -1 : 1);
  }
  let norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  // an empty text still has to be a unit vector, or cosine similarity divides by zero downstream
  if (norm === 0) {
    vector[0] = 1;
    norm = 1;
  }
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] as number) / norm;
  return vector;
}

/** Little-endian float32 bytes in base64, which is what OpenAI sends and the SDK decodes by default. */
export function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    bytes.writeFloatLE(value, i * 4);
  });
  return bytes.toString("base64");
}

/** A rough token count (~4 characters a token), good enough for usage accounting in tests. */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The /v1/embeddings answer for a parsed request body, shaped exactly like OpenAI's. */
export function createEmbeddings(
  body: Record<string, unknown>,
  defaultDimensions: number,
): OpenAI.CreateEmbeddingResponse {
  const { input, dimensions, encoding_format: format = "float", model } = body;
  const texts = typeof input === "string" ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === "string")) {
    throw new FakeRequestError(400, "'input' must be a string or a non-empty array of strings");
  }
  if (typeof model !== "string") throw new FakeRequestError(400, "'model' is required");
  if (dimensions !== undefined && !(Number.isInteger(dimensions) && (dimensions as number) > 0)) {
    throw new FakeRequestError(400, "'dimensions' must be a positive integer");
  }
  if (format !== "float" && format !== "base64") {
    throw new FakeRequestError(400, "'encoding_format' must be 'float' or 'base64'");
  }
  const size = (dimensions as number | undefined) ?? defaultDimensions;
  const tokens = texts.reduce((sum, t) => sum + approxTokens(t), 0);
  return {
    object: "list",
    data: texts.map((text, index) => {
      const vector = embedText(text, size);
      // the SDK types `embedding` as number[] because it decodes base64 before the caller sees it
      const embedding = (format === "base64" ? toBase64(vector) : Array.from(vector)) as number[];
      return { object: "embedding", index, embedding };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
