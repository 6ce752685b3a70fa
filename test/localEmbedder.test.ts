import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dot, normalize } from "../src/memory/embed/embedder.js";
import { createLocalEmbedder, embedLocal } from "../src/memory/embed/local.js";
import { embedOnThread } from "../src/memory/embed/localThread.js";
import { COMMON_WORDS, tokenize } from "../src/memory/lexical/tokens.js";
import { DATA_DIR } from "./support/data.js";

/**
 * What `local-hash-v2` vectors are, written plainly: each feature a string, counted in a Map, hashed
 * twice (FNV-1a + murmur3's finalizer) for its slot and sign. Banks embedded under that id keep their
 * vectors only while the embedder computes exactly these.
 */
function referenceVector(text: string, dimensions: number): Float32Array {
  const hash = (s: string, seed: number) => {
    let h = seed >>> 0;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const weight = (f: string) => {
    if (f.startsWith("c:")) return 0.5;
    if (f.startsWith("b:") || f.startsWith("v:")) return 1;
    const word = f.slice(2);
    return COMMON_WORDS.has(word) || word === "#" || word === "@" ? 0.1 : 1;
  };
  const counts = new Map<string, number>();
  const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
  const all = tokenize(text);
  for (const t of all) if (t.kind === "number" || t.kind === "name") add(`v:${t.literal}`);
  const masked = all.map((t) => t.masked);
  masked.forEach((t, i) => {
    add(`w:${t}`);
    if (i > 0) add(`b:${masked[i - 1]} ${t}`);
    if (t.length > 2 && !COMMON_WORDS.has(t))
      for (let n = 3; n <= 5; n++)
        for (let j = 0; j + n <= t.length + 2; j++) add(`c:${`<${t}>`.slice(j, j + n)}`);
  });
  const v = new Float32Array(dimensions);
  for (const [f, count] of counts) {
    const slot = hash(f, 2166136261) % dimensions;
    const sign = hash(f, 0x9747b28c) & 1 ? 1 : -1;
    v[slot] = (v[slot] as number) + sign * weight(f) * (1 + Math.log(count));
  }
  return normalize(v);
}

const natalia =
  "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?";
const renamed =
  "Gregor sold clips to 36 of her friends in April, and then she sold half as many clips in May. How many clips did Gregor sell altogether in April and May?";

describe("the local embedder", () => {
  it("is deterministic and L2-normalized", async () => {
    const embedder = createLocalEmbedder(384);
    const [a, b] = await embedder.embed([natalia, natalia]);
    expect(a).toEqual(b);
    expect(dot(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 5);
    expect(a).toHaveLength(384);
    expect(embedder.id).toBe("local-hash-v2:384");
  });

  it("masks numbers and proper names, so the same problem with other values lands close, but not on the same point", () => {
    const similarity = dot(embedLocal(natalia, 384), embedLocal(renamed, 384));
    expect(similarity).toBeGreaterThan(0.8);
    // its own numbers and names keep the problem itself nearest
    expect(similarity).toBeLessThan(0.99);
  });

  it("scores a related problem above an unrelated question", () => {
    const related =
      "Lena sold 30 muffins in June and half as many in July. How many muffins did she sell in both months?";
    const unrelated = "Who painted the Mona Lisa and where does it hang today?";
    const q = embedLocal(natalia, 384);
    expect(dot(q, embedLocal(related, 384))).toBeGreaterThan(dot(q, embedLocal(unrelated, 384)) + 0.1);
  });

  it("computes exactly the vectors its id names, for every GSM8K training problem", () => {
    const problems = readFileSync(join(DATA_DIR, "gsm8k", "train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { question: string }).question);
    const differing = problems.filter((p) => {
      const a = embedLocal(p, 384);
      const b = referenceVector(p, 384);
      return a.some((x, i) => x !== b[i]);
    });
    expect(problems).toHaveLength(7473);
    expect(differing).toEqual([]);
  });

  it("embeds an empty text as the zero vector instead of failing", () => {
    expect([...embedLocal("", 16)].every((x) => x === 0)).toBe(true);
  });
});

describe("the local embedder on a thread of its own", () => {
  it("embeds a large batch there with the same vectors, and a small one at once", async () => {
    const calls: number[] = [];
    const onThread = embedOnThread();
    const elsewhere = (texts: string[], dimensions: number) => {
      calls.push(texts.length);
      return onThread(texts, dimensions);
    };
    const embedder = createLocalEmbedder(384, { elsewhere });
    const texts = Array.from({ length: 200 }, (_, i) => `${natalia} (${i})`);
    const vectors = await embedder.embed(texts);
    expect(calls).toEqual([200]);
    expect(vectors).toHaveLength(200);
    vectors.forEach((v, i) => {
      expect([...v]).toEqual([...embedLocal(texts[i] as string, 384)]);
    });
    await embedder.embed([natalia]);
    expect(calls).toEqual([200]);
  });
});
