import { COMMON_WORDS, tokenize } from "../lexical/tokens.js";
import { type Embedder, normalize } from "./embedder.js";

/**
 * The offline default embedder: signed feature hashing of word uni/bigrams and character n-grams over the
 * masked text (numbers `#`, proper names `@`: two problems with the same structure land close together),
 * plus the literal numbers and names themselves (the same problem reworded lands closer still).
 */
export function createLocalEmbedder(dimensions: number): Embedder {
  return {
    id: `local-hash-v2:${dimensions}`,
    dimensions,
    vectorWeight: LOCAL_VECTOR_WEIGHT,
    async embed(texts) {
      return texts.map((t) => embedLocal(t, dimensions));
    },
  };
}

// A hashed vector of 384 slots adds nothing that the lexicon's BM25 (with idf, no collisions) does not
// already say: on the analogue dev set (bench quality) weight 0.25 moved no figure up; recall does not
// search these vectors. They find near-duplicates at write-back.
const LOCAL_VECTOR_WEIGHT = 0;

function hash32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  // murmur3 finalizer: spreads FNV's weak low bits
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const WORD_WEIGHT = 1;
const FUNCTION_WORD_WEIGHT = 0.1;
const BIGRAM_WEIGHT = 1;
const CHAR_WEIGHT = 0.5;
const VALUE_WEIGHT = 1;

function featureWeight(feature: string): number {
  if (feature.startsWith("c:")) return CHAR_WEIGHT;
  if (feature.startsWith("b:")) return BIGRAM_WEIGHT;
  if (feature.startsWith("v:")) return VALUE_WEIGHT;
  const word = feature.slice(2);
  return COMMON_WORDS.has(word) || word === "#" || word === "@" ? FUNCTION_WORD_WEIGHT : WORD_WEIGHT;
}

/** Embeds one text deterministically into an L2-normalized vector. */
export function embedLocal(text: string, dimensions: number): Float32Array {
  const counts = new Map<string, number>();
  const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  const all = tokenize(text);
  for (const t of all) if (t.kind === "number" || t.kind === "name") add(`v:${t.literal}`);
  const tokens = all.map((t) => t.masked);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    add(`w:${t}`);
    if (i > 0) add(`b:${tokens[i - 1]} ${t}`);
    if (t.length > 2 && !COMMON_WORDS.has(t)) {
      const padded = `<${t}>`;
      for (let n = 3; n <= 5; n++) {
        for (let j = 0; j + n <= padded.length; j++) add(`c:${padded.slice(j, j + n)}`);
      }
    }
  }
  const v = new Float32Array(dimensions);
  for (const [feature, count] of counts) {
    const slot = hash32(feature, 2166136261) % dimensions;
    const sign = hash32(feature, 0x9747b28c) & 1 ? 1 : -1;
    // sublinear term frequency: a word said ten times is not ten times the evidence
    v[slot] = (v[slot] ?? 0) + sign * featureWeight(feature) * (1 + Math.log(count));
  }
  return normalize(v);
}
