/** A reproducible random source in [0, 1). */
export type Random = () => number;

/** mulberry32 seeded through a string hash (FNV-1a): the same seed always gives the same sequence. */
export function seededRandom(seed: number | string): Random {
  let state = 0x811c9dc5;
  for (const ch of String(seed)) {
    state ^= ch.charCodeAt(0);
    state = Math.imul(state, 0x01000193) >>> 0;
  }
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `items` in a seeded Fisher-Yates order. */
export function seededShuffle<T>(items: readonly T[], seed: number | string): T[] {
  const random = seededRandom(`shuffle:${seed}`);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
