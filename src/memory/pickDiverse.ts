type Weights = Map<number | string, number>;

/** MMR trade-off: 1 is pure relevance, 0 pure diversity. */
const MMR_LAMBDA = 0.6;
// MMR weighs only near-identical examples (literal cosine from 0.8: the same template with other values):
// two examples that merely share a topic are both worth showing. Counting every similarity pushed true
// analogues out of the top 3 (dev set variant @3: 0.944 from 0; 0.956 from 0.8).
const NEAR_IDENTICAL = 0.8;

/** What MMR needs of a candidate: its relevance, utility prior and literal term weights (a unit vector). */
export interface DiversityCandidate {
  relevance: number;
  utility: number;
  literalWeights: () => Map<number | string, number>;
}

/**
 * Maximal marginal relevance: each pick maximizes λ·relevance·(0.5 + utility) − (1−λ)·redundancy, where
 * redundancy is its highest literal similarity (idf-weighted cosine) to a memory picked before it, when
 * that reaches NEAR_IDENTICAL (else 0).
 */
export function pickDiverse<S extends DiversityCandidate>(pool: S[], k: number): { s: S; final: number }[] {
  // redundancy takes at most 1 − λ off a value: past the best few, none could be picked before k are
  const left = pool
    .map((s) => ({ s, value: s.relevance * (0.5 + s.utility), redundancy: 0 }))
    .sort((a, b) => b.value - a.value)
    .slice(0, 4 * k)
    .map((c) => ({ ...c, weights: undefined as Weights | undefined, comparedTo: 0 }));
  // computed when first compared: most candidates never are
  const weightsOf = (c: (typeof left)[number]): Weights => {
    c.weights ??= c.s.literalWeights();
    return c.weights;
  };
  const picked: { s: S; final: number; weights: () => Weights }[] = [];
  while (picked.length < k && left.length > 0) {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < left.length; i++) {
      const c = left[i] as (typeof left)[number];
      // by value, best first: redundancy only lowers a score, so none past here can win (nor tie)
      if (MMR_LAMBDA * c.value < bestScore) break;
      // its highest similarity to the memories picked so far, brought up to date with the newest
      for (; c.comparedTo < picked.length; c.comparedTo++) {
        const p = picked[c.comparedTo] as (typeof picked)[number];
        c.redundancy = Math.max(c.redundancy, cosine(weightsOf(c), p.weights()));
      }
      const redundancy = c.redundancy < NEAR_IDENTICAL ? 0 : c.redundancy;
      const score = MMR_LAMBDA * c.value - (1 - MMR_LAMBDA) * redundancy;
      const tie = score === bestScore && c.s.relevance > (left[best] as (typeof left)[number]).s.relevance;
      if (score > bestScore || tie) {
        bestScore = score;
        best = i;
      }
    }
    const [chosen] = left.splice(best, 1);
    if (!chosen) break;
    picked.push({ s: chosen.s, final: bestScore, weights: () => weightsOf(chosen) });
  }
  return picked;
}

/** Weights scaled to a unit vector (in place), the form `pickDiverse` compares. */
export function unitWeights(weights: Map<number | string, number>): Map<number | string, number> {
  let norm = 0;
  for (const w of weights.values()) norm += w * w;
  norm = Math.sqrt(norm) || 1;
  for (const [term, w] of weights) weights.set(term, w / norm);
  return weights;
}

function cosine(a: Map<number | string, number>, b: Map<number | string, number>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let s = 0;
  for (const [term, w] of small) s += w * (large.get(term) ?? 0);
  return s;
}
