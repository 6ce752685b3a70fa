import { describe, expect, it } from "vitest";
import { dot } from "../src/memory/embed/embedder.js";
import { createLocalEmbedder, embedLocal } from "../src/memory/embed/local.js";

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

  it("embeds an empty text as the zero vector instead of failing", () => {
    expect([...embedLocal("", 16)].every((x) => x === 0)).toBe(true);
  });
});
