import { COMMON_WORDS, tokenize } from "../lexical/tokens.js";
import { type Embedder, type EmbedElsewhere, normalize } from "./embedder.js";

/**
 * The offline default embedder: signed feature hashing of word uni/bigrams and character n-grams over the
 * masked text (numbers `#`, proper names `@`: two problems with the same structure land close together),
 * plus the literal numbers and names themselves (the same problem reworded lands closer still). With
 * `elsewhere`, batches of OFF_THREAD_BATCH texts or more are embedded there (another thread), the same
 * vectors.
 */
export function createLocalEmbedder(
  dimensions: number,
  { elsewhere }: { elsewhere?: EmbedElsewhere } = {},
): Embedder {
  return {
    id: `local-hash-v2:${dimensions}`,
    dimensions,
    vectorWeight: LOCAL_VECTOR_WEIGHT,
    async embed(texts) {
      if (elsewhere && texts.length >= OFF_THREAD_BATCH) return elsewhere(texts, dimensions);
      return texts.map((t) => embedLocal(t, dimensions));
    },
  };
}

// a text takes about 0.1 ms here; the trip to another thread and back about as much as a few texts, and a
// write-back's single text is wanted at once
const OFF_THREAD_BATCH = 64;

// A hashed vector of 384 slots adds nothing that the lexicon's BM25 (with idf, no collisions) does not
// already say: on the analogue dev set (bench quality) weight 0.25 moved no figure up; recall does not
// search these vectors. They find near-duplicates at write-back.
const LOCAL_VECTOR_WEIGHT = 0;

const FNV_PRIME = 16777619;
const SLOT_SEED = 2166136261;
const SIGN_SEED = 0x9747b28c;

/** FNV-1a over a string's UTF-16 code units, from state `h`. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** FNV-1a over one code unit, from state `h`. */
function fnvUnit(h: number, unit: number): number {
  return Math.imul(h ^ unit, FNV_PRIME);
}

/** The murmur3 finalizer: spreads FNV's weak low bits. */
function finalize(h: number): number {
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

// each feature is a kind prefix and its text ("w:apples", "b:# apples", "c:<ap", "v:48"), hashed twice
// (slot and sign); the hashes are computed from the prefixes' states without building the strings
const prefix = (kind: string) => ({ slot: fnv(SLOT_SEED, `${kind}:`), sign: fnv(SIGN_SEED, `${kind}:`) });
const WORD = prefix("w");
const BIGRAM = prefix("b");
const CHARS = prefix("c");
const VALUE = prefix("v");
const SPACE = " ".charCodeAt(0);
const OPEN = "<".charCodeAt(0);
const CLOSE = ">".charCodeAt(0);

/**
 * A text's features with their counts, in order of first occurrence, in an open-addressing table over
 * typed arrays (a Map keyed by the features, strings or numbers, took most of the embedding's time). A
 * feature is known by its two 32-bit hashes: two different features of one text agreeing on both is a
 * chance of about 1 in 10^16, and would only merge their counts in a slot they already share.
 */
class FeatureCounts {
  private capacity = 0;
  private slotOf = new Uint32Array(0);
  private signOf = new Uint32Array(0);
  private entry = new Int32Array(0);
  // per distinct feature, in order of first occurrence
  slots = new Uint32Array(0);
  signs = new Uint32Array(0);
  weights = new Float64Array(0);
  counts = new Uint32Array(0);
  size = 0;

  /** Empties the table for a text of at most `features` features. */
  reset(features: number): void {
    if (features * 2 > this.capacity) {
      this.capacity = 1 << Math.ceil(Math.log2(features * 2 + 1));
      this.slotOf = new Uint32Array(this.capacity);
      this.signOf = new Uint32Array(this.capacity);
      this.entry = new Int32Array(this.capacity);
    }
    if (features > this.slots.length) {
      this.slots = new Uint32Array(features);
      this.signs = new Uint32Array(features);
      this.weights = new Float64Array(features);
      this.counts = new Uint32Array(features);
    }
    this.entry.fill(-1);
    this.size = 0;
  }

  add(slotState: number, signState: number, weight: number): void {
    const slot = finalize(slotState);
    const sign = finalize(signState);
    const mask = this.capacity - 1;
    for (let at = slot & mask; ; at = (at + 1) & mask) {
      const i = this.entry[at] as number;
      if (i < 0) {
        this.entry[at] = this.size;
        this.slotOf[at] = slot;
        this.signOf[at] = sign;
        this.slots[this.size] = slot;
        this.signs[this.size] = sign;
        this.weights[this.size] = weight;
        this.counts[this.size] = 1;
        this.size++;
        return;
      }
      if (this.slotOf[at] === slot && this.signOf[at] === sign) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

const features = new FeatureCounts();

/** At most how many features a text of these tokens can have. */
function featureBound(tokens: { masked: string }[]): number {
  let bound = tokens.length * 3;
  for (const t of tokens) bound += 3 * (t.masked.length + 2);
  return bound;
}

function wordWeight(word: string): number {
  return COMMON_WORDS.has(word) || word === "#" || word === "@" ? FUNCTION_WORD_WEIGHT : WORD_WEIGHT;
}

// `<word>` as code units, reused from word to word
let padded = new Uint16Array(64);

/** Adds the character 3- to 5-grams of `<word>`. */
function addCharGrams(features: FeatureCounts, word: string): void {
  const length = word.length + 2;
  if (length > padded.length) padded = new Uint16Array(length * 2);
  const units = padded;
  units[0] = OPEN;
  for (let i = 0; i < word.length; i++) units[i + 1] = word.charCodeAt(i);
  units[length - 1] = CLOSE;
  for (let n = 3; n <= 5; n++) {
    for (let j = 0; j + n <= length; j++) {
      let slot = CHARS.slot;
      let sign = CHARS.sign;
      for (let k = j; k < j + n; k++) {
        slot = Math.imul(slot ^ (units[k] as number), FNV_PRIME);
        sign = Math.imul(sign ^ (units[k] as number), FNV_PRIME);
      }
      features.add(slot, sign, CHAR_WEIGHT);
    }
  }
}

/** Embeds one text deterministically into an L2-normalized vector. */
export function embedLocal(text: string, dimensions: number): Float32Array {
  const all = tokenize(text);
  features.reset(featureBound(all));
  for (const t of all)
    if (t.kind === "number" || t.kind === "name")
      features.add(fnv(VALUE.slot, t.literal), fnv(VALUE.sign, t.literal), VALUE_WEIGHT);
  let previous: string | undefined;
  for (const { masked: t } of all) {
    features.add(fnv(WORD.slot, t), fnv(WORD.sign, t), wordWeight(t));
    if (previous !== undefined) {
      const slot = fnv(fnvUnit(fnv(BIGRAM.slot, previous), SPACE), t);
      const sign = fnv(fnvUnit(fnv(BIGRAM.sign, previous), SPACE), t);
      features.add(slot, sign, BIGRAM_WEIGHT);
    }
    if (t.length > 2 && !COMMON_WORDS.has(t)) addCharGrams(features, t);
    previous = t;
  }
  const v = new Float32Array(dimensions);
  const { slots, signs, weights, counts } = features;
  for (let i = 0; i < features.size; i++) {
    const slot = (slots[i] as number) % dimensions;
    const sign = (signs[i] as number) & 1 ? 1 : -1;
    // sublinear term frequency: a word said ten times is not ten times the evidence
    v[slot] = (v[slot] as number) + sign * (weights[i] as number) * (1 + Math.log(counts[i] as number));
  }
  return normalize(v);
}
