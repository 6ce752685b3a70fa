/** A random source in [0, 1), as Math.random, but reproducible from its seed. */
export type Rng = () => number;

/** 32-bit FNV-1a of a string: a cheap, stable hash for seeds and feature hashing. */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: tiny and fast, with good enough spread for sampling whether an answer is right. */
export function seededRng(...parts: (number | string)[]): Rng {
  let state = fnv1a(parts.join("\u0000"));
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
