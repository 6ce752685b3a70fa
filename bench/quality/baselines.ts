import { tokenize } from "../../src/memory/lexical/tokens.js";
import type { Ranker } from "../../test/support/analogues.js";

// The simple lexical baselines the analogue figures are read against: what a short script does with no
// knowledge of the domain. Each ranks every text of the bank for a query (no abstention).

type Counts = Map<string, number>;

const words = (text: string) => (text.toLowerCase().match(/[a-z]+|\d+(?:[.,]\d+)*/g) ?? []) as string[];
const masked = (text: string) => tokenize(text).map((t) => t.masked);

function uniAndBigrams(tokens: string[]): Counts {
  const counts: Counts = new Map();
  const add = (t: string) => counts.set(t, (counts.get(t) ?? 0) + 1);
  tokens.forEach((t, i) => {
    add(t);
    if (i > 0) add(`${tokens[i - 1]} ${t}`);
  });
  return counts;
}

/** Word + bigram TF-IDF (sublinear tf, smoothed idf), cosine similarity. */
export function tfidfRanker(texts: string[]): Ranker {
  const docs = texts.map((t) => uniAndBigrams(words(t)));
  const df: Counts = new Map();
  for (const d of docs) for (const t of d.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const idf = (t: string) => Math.log((1 + docs.length) / (1 + (df.get(t) ?? 0))) + 1;
  const unit = (d: Counts) => {
    const v = new Map([...d].map(([t, tf]) => [t, (1 + Math.log(tf)) * idf(t)]));
    const norm = Math.sqrt([...v.values()].reduce((s, w) => s + w * w, 0)) || 1;
    return new Map([...v].map(([t, w]) => [t, w / norm]));
  };
  const vectors = docs.map(unit);
  return rankBy(texts, (query) => {
    const q = unit(uniAndBigrams(words(query)));
    return vectors.map((v) => [...q].reduce((s, [t, w]) => s + w * (v.get(t) ?? 0), 0));
  });
}

/** BM25 (k1 1.2, b 0.75) over word + bigram terms from `tokens`. */
export function bm25Ranker(texts: string[], tokens: (text: string) => string[] = words): Ranker {
  const docs = texts.map((t) => uniAndBigrams(tokens(t)));
  const df: Counts = new Map();
  for (const d of docs) for (const t of d.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const lengths = docs.map((d) => [...d.values()].reduce((s, c) => s + c, 0));
  const avg = lengths.reduce((s, l) => s + l, 0) / docs.length;
  const idf = (t: string) => {
    const n = df.get(t) ?? 0;
    return Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
  };
  return rankBy(texts, (query) => {
    const q = [...uniAndBigrams(tokens(query)).keys()].map((t) => [t, idf(t)] as const);
    return docs.map((d, i) => {
      const norm = 1.2 * (0.25 + (0.75 * (lengths[i] as number)) / avg);
      return q.reduce((s, [t, w]) => {
        const tf = d.get(t) ?? 0;
        return tf ? s + (w * tf * 2.2) / (tf + norm) : s;
      }, 0);
    });
  });
}

/** BM25 over word + bigram terms with numbers masked as `#` and proper names as `@`. */
export function maskedBm25Ranker(texts: string[]): Ranker {
  return bm25Ranker(texts, masked);
}

function rankBy(texts: string[], scores: (query: string) => number[]): Ranker {
  return async (query) => {
    const s = scores(query);
    const order = [...s.keys()].sort((a, b) => (s[b] as number) - (s[a] as number) || a - b).slice(0, 10);
    return { ranked: order.map((i) => texts[i] as string), abstained: false };
  };
}
