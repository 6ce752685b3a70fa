import { readFileSync } from "node:fs";
import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { seedBank } from "../seed/seedBank.js";
import { LOCAL_EMBEDDING_DIMENSIONS } from "../src/config.js";
import { memories } from "../src/db/schema.js";
import { type Bank, getBank } from "../src/memory/banks.js";
import { createLocalEmbedder } from "../src/memory/embed/local.js";
import { recallAnalogues } from "../src/memory/recall.js";
import { reconcileIndex } from "../src/memory/reconcile.js";
import { bankWithProblems, INDEX_KINDS, useTestContext } from "./support/context.js";
import { DATA_DIR, GSM8K_TEST, GSM8K_TRAIN } from "./support/data.js";

const readQuestions = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).question as string);
const train = readQuestions(GSM8K_TRAIN);
// every 11th question: a spread over the whole file, the same on every run
const sample = train.filter((_, i) => i % 11 === 0);

const OTHER_NAMES = ["Priya", "Tobias", "Ingrid", "Mateo", "Yuki", "Oluwaseun", "Chen", "Dmitri"];
const NOT_NAMES = new Set(
  "I A The If How What When After Each Every In On At For From She He They It There This That Then But And So On Of To All One Two Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October November December".split(
    " ",
  ),
);

/** The same wording with every number changed and every person renamed. */
function renumberAndRename(question: string): string {
  const names = new Map<string, string>();
  const renamed = question.replace(/\b[A-Z][a-z]+\b/g, (word, offset: number) => {
    const sentenceStart = offset === 0 || /[.!?]\s*$/.test(question.slice(0, offset));
    const looksLikeName =
      !NOT_NAMES.has(word) && (!sentenceStart || question.slice(offset + word.length).includes(word));
    if (!looksLikeName) return word;
    if (!names.has(word)) names.set(word, OTHER_NAMES[names.size % OTHER_NAMES.length] as string);
    return names.get(word) as string;
  });
  return renamed.replace(/\d+(?:,\d{3})*(?:\.\d+)?/g, (n) => String(Number(n.replaceAll(",", "")) * 3 + 7));
}

// one recall contract, whichever index serves it
describe.each(INDEX_KINDS)("recall over the %s index", (kind) => {
  const t = useTestContext({ shared: true, index: kind });
  let gsm8k: Bank;

  beforeAll(async () => {
    await seedBank({ ctx: t.ctx(), input: { bankId: "gsm8k", from: "gsm8k", dataDir: DATA_DIR } });
    gsm8k = await getBank(t.ctx().db, "gsm8k");
  });

  describe("recall of a known problem", () => {
    it("returns the problem's own memory first, flagged exact, when the text matches", async () => {
      for (const question of sample) {
        const result = await recallAnalogues({
          ctx: t.ctx(),
          bank: gsm8k,
          query: question,
          options: { k: 4 },
        });
        expect(result.memories[0]?.problem).toBe(question);
        expect(result.memories[0]?.exact).toBe(true);
      }
    });

    it("finds the original among the top 3 when only the numbers and names differ", async () => {
      let misses = 0;
      for (const question of sample.filter((q) => /\d/.test(q))) {
        const variant = renumberAndRename(question);
        expect(variant).not.toBe(question);
        const result = await recallAnalogues({
          ctx: t.ctx(),
          bank: gsm8k,
          query: variant,
          options: { k: 3 },
        });
        if (!result.memories.some((m) => m.problem === question)) {
          misses++;
          console.log(`missed: ${variant}`);
        }
      }
      console.log(`renamed and renumbered: original in top 3 for ${sample.length - misses}/${sample.length}`);
      expect(misses).toBe(0);
    });
  });

  describe("abstention", () => {
    const offTopic = [
      "What is the capital of France?",
      "Who wrote the novel Pride and Prejudice?",
      "Explain how photosynthesis works in plants.",
      "Translate 'good morning' into Spanish.",
      "What year did the Second World War end?",
      "Write a haiku about the ocean.",
      "How do I reset my router password?",
      "Summarize the plot of Hamlet.",
      "Which planet is known as the Red Planet?",
      "Who painted the Mona Lisa?",
      "Why is the sky blue?",
      "Define the word 'ephemeral'.",
    ];

    it("abstains on questions unrelated to the bank rather than inject an unrelated example", async () => {
      for (const query of offTopic) {
        const result = await recallAnalogues({ ctx: t.ctx(), bank: gsm8k, query });
        expect(result.memories, query).toEqual([]);
        expect(result.abstained).toBe(true);
        expect(result.considered).toBeGreaterThan(0);
        // with no floor the same memories come back, each with the match that kept it out
        const unfloored = await recallAnalogues({
          ctx: t.ctx(),
          bank: gsm8k,
          query,
          options: { matchFloor: 0 },
        });
        expect(unfloored.memories.length).toBeGreaterThan(0);
        for (const m of unfloored.memories) expect(m.scores.match).toBeLessThan(result.matchFloor);
      }
    });

    it("still recalls analogues for nearly every unseen GSM8K test question", async () => {
      const test = readQuestions(GSM8K_TEST).filter((_, i) => i % 5 === 0);
      let recalled = 0;
      for (const query of test) {
        const result = await recallAnalogues({ ctx: t.ctx(), bank: gsm8k, query });
        if (result.memories.length > 0) recalled++;
      }
      console.log(`unseen GSM8K test questions with at least one analogue: ${recalled}/${test.length}`);
      expect(recalled / test.length).toBeGreaterThanOrEqual(0.97);
    });
  });

  describe("recall scores", () => {
    it("gives every recalled memory each signal it was ranked by, final never rising", async () => {
      const result = await recallAnalogues({
        ctx: t.ctx(),
        bank: gsm8k,
        query: sample[3] as string,
        options: { k: 6 },
      });
      expect(result.memories.length).toBeGreaterThanOrEqual(3);
      expect(result.memories.length).toBeLessThanOrEqual(6);
      result.memories.forEach((m, i) => {
        expect(m.rank).toBe(i + 1);
        for (const signal of ["literal", "structure", "values", "match"] as const) {
          expect(m.scores[signal]).toBeGreaterThanOrEqual(0);
          expect(m.scores[signal]).toBeLessThanOrEqual(1);
        }
        expect(m.scores.match).toBeGreaterThanOrEqual(result.matchFloor);
        // the local embedder's vectors carry no weight in the ranking: none is reported
        expect(m.scores.vector).toBeNull();
        expect(m.scores.relevance).toBeCloseTo(
          (m.scores.structure as number) +
            0.5 * (m.scores.literal as number) +
            (m.exact ? 4 : 2 * (m.scores.reworded as number)),
          3,
        );
        expect(m.scores.utility).toBe(0.5);
        if (i > 0) expect(m.scores.final).toBeLessThanOrEqual(result.memories[i - 1]?.scores.final as number);
      });
      // the query's own problem first, exact; the best structure match of the rest scores 1
      expect(result.memories[0]?.exact).toBe(true);
      expect(result.memories.some((m) => m.scores.structure === 1)).toBe(true);
    });

    it("returns nothing for k = 0", async () => {
      const result = await recallAnalogues({
        ctx: t.ctx(),
        bank: gsm8k,
        query: sample[0] as string,
        options: { k: 0 },
      });
      expect(result.memories).toEqual([]);
    });
  });

  describe("what may be recalled", () => {
    it("never recalls quarantined or retired memories, even before the index has caught up", async () => {
      const ctx = t.ctx();
      const [quarantined, retired] = [sample[10] as string, sample[11] as string];
      await ctx.db
        .update(memories)
        .set({ status: "quarantined", version: sql`${memories.version} + 1` })
        .where(eq(memories.problem, quarantined));
      await ctx.db
        .update(memories)
        .set({ status: "retired", version: sql`${memories.version} + 1` })
        .where(eq(memories.problem, retired));
      for (const q of [quarantined, retired]) {
        const before = await recallAnalogues({ ctx, bank: gsm8k, query: q });
        expect(before.memories.map((m) => m.problem)).not.toContain(q);
      }
      const reconciled = await reconcileIndex({ ctx, bankId: "gsm8k" });
      expect(reconciled.removed).toBe(2);
      expect(await ctx.index.count("gsm8k")).toBe(7471);
      for (const q of [quarantined, retired]) {
        const after = await recallAnalogues({ ctx, bank: gsm8k, query: q });
        expect(after.memories.map((m) => m.problem)).not.toContain(q);
      }
    });

    it("skips memories verified below the bank's trust floor", async () => {
      const ctx = t.ctx();
      const problem = "Lena bakes 12 muffins and sells 5. How many muffins are left?";
      const bank = await bankWithProblems(
        ctx,
        { id: "floor", domain: "number", settings: { trustFloor: "checker" } },
        [
          { problem, answer: "7", verification: "consensus" },
          { problem: "Omar bakes 20 muffins and sells 8. How many muffins are left?", answer: "12" },
        ],
      );
      const result = await recallAnalogues({ ctx, bank, query: problem });
      expect(result.memories.map((m) => m.answer)).toEqual(["12"]);
    });
  });

  describe("reranking", () => {
    const query =
      "Maya buys 4 packs of stickers with 10 stickers each and gives away 15. How many stickers are left?";
    const twinA =
      "Noah buys 6 packs of stickers with 12 stickers each and gives away 20. How many stickers are left?";
    const twinB =
      "Iris buys 3 packs of stickers with 25 stickers each and gives away 9. How many stickers are left?";
    const cousin =
      "Maya buys 4 packs of stickers with 10 stickers each and loses 15 of them. How many stickers does she keep?";

    it("prefers the memory that helped before when two analogues are equally close", async () => {
      const ctx = t.ctx();
      const bank = await bankWithProblems(ctx, { id: "utility", domain: "number" }, [
        { problem: twinA, answer: "52" },
        { problem: twinB, answer: "66" },
      ]);
      const first = await recallAnalogues({ ctx, bank, query, options: { k: 1 } });
      const other = first.memories[0]?.problem === twinA ? twinB : twinA;
      await ctx.db
        .update(memories)
        .set({ recalledCount: 10, helpedCount: 9 })
        .where(eq(memories.problem, other));
      const after = await recallAnalogues({ ctx, bank, query, options: { k: 1 } });
      expect(after.memories[0]?.problem).toBe(other);
      expect(after.memories[0]?.scores.utility).toBeCloseTo(10 / 12, 3);
    });

    it("diversifies: after one of two near-identical memories, a different analogue comes next", async () => {
      const ctx = t.ctx();
      const bank = await bankWithProblems(ctx, { id: "mmr", domain: "number" }, [
        { problem: twinA, answer: "52" },
        { problem: twinB, answer: "66" },
        { problem: cousin, answer: "25" },
      ]);
      const result = await recallAnalogues({ ctx, bank, query, options: { k: 2 } });
      expect(result.memories).toHaveLength(2);
      expect(result.memories.map((m) => m.problem)).toContain(cousin);
    });
  });
});

describe.each(INDEX_KINDS)("how many memories recall returns, over the %s index", (kind) => {
  // vectors that carry weight, so the vector search (and LanceDB's HNSW graph) serves every recall
  const weighted = () => ({ ...createLocalEmbedder(LOCAL_EMBEDDING_DIMENSIONS), vectorWeight: 0.5 });
  const t = useTestContext({ shared: true, index: kind, annThreshold: 200, embedder: weighted });
  let large: Bank;
  let small: Bank;

  beforeAll(async () => {
    const ctx = t.ctx();
    large = await bankWithProblems(
      ctx,
      { id: "large", domain: "number" },
      train.slice(0, 400).map((problem, i) => ({ problem, answer: String(i) })),
    );
    await ctx.index.optimize("large");
    small = await bankWithProblems(ctx, { id: "small", domain: "number" }, [
      { problem: "Ann has 3 cats and 2 dogs. How many pets?", answer: "5" },
      { problem: "Bo has 4 cats and 5 dogs. How many pets?", answer: "9" },
      { problem: "Cy reads 12 pages a day for 3 days. How many pages?", answer: "36" },
    ]);
  });

  it("answers every k from 0 to 50 on a bank with an ANN index, with at most k memories", async () => {
    const query = "Lee has 6 cats and 7 dogs. How many pets does Lee have?";
    for (const k of [0, 1, 16, 17, 33, 50]) {
      const result = await recallAnalogues({
        ctx: t.ctx(),
        bank: large,
        query: train[5] as string,
        options: { k },
      });
      expect(result.memories.length).toBeLessThanOrEqual(k);
      if (k > 0) expect(result.memories[0]?.exact).toBe(true);
      const other = await recallAnalogues({
        ctx: t.ctx(),
        bank: large,
        query,
        options: { k, matchFloor: 0 },
      });
      expect(other.memories).toHaveLength(k);
      expect(new Set(other.memories.map((m) => m.id)).size).toBe(k);
    }
    // the vector search itself, asked for more than its graph explores by default
    const [vector] = await t.ctx().embedder.embed([query]);
    expect(await t.ctx().index.searchVector("large", vector as Float32Array, 400)).toHaveLength(400);
  });

  it("returns every memory of a bank smaller than k", async () => {
    const result = await recallAnalogues({
      ctx: t.ctx(),
      bank: small,
      query: "Dee has 2 cats and 6 dogs. How many pets?",
      options: { k: 50, matchFloor: 0 },
    });
    expect(result.memories).toHaveLength(3);
    expect(result.memories.every((m) => m.scores.vector !== null)).toBe(true);
  });
});
