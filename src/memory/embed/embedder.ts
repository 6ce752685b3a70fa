/** Turns texts into L2-normalized vectors of a fixed dimension. */
export interface Embedder {
  /** Names the model and dimension: a different id means the index must be rebuilt. */
  readonly id: string;
  readonly dimensions: number;
  /**
   * How much recall's ranking weighs this embedder's cosine similarity next to the lexical evidence
   * (0: its vectors are not searched at recall, only used to find near-duplicates at write-back).
   */
  readonly vectorWeight: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Scales a vector to unit length (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / norm;
  return v;
}

/** Dot product; equals cosine similarity for normalized vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Embeds a batch of texts with the local embedder somewhere other than the calling thread. */
export type EmbedElsewhere = (texts: string[], dimensions: number) => Promise<Float32Array[]>;
