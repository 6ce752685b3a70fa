import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAnalyzer } from "../src/memory/lexical/analyze.js";
import { BankLexicon } from "../src/memory/lexical/bankLexicon.js";
import { memoryEvidence, memoryEvidenceAt, queryEvidence } from "../src/memory/lexical/evidence.js";
import { maskedTokens, tokenize } from "../src/memory/lexical/tokens.js";
import { wordNetAnalyzer } from "../src/memory/lexical/wordNetAnalyzer.js";
import { loadWordNet } from "../src/memory/lexical/wordnet.js";

function lexiconOf(texts: Record<string, string>, analyze = createAnalyzer()) {
  const lexicon = new BankLexicon();
  for (const [id, text] of Object.entries(texts)) lexicon.upsert(id, text, analyze(text));
  return { lexicon, search: (q: string, limit = 10) => lexicon.search(analyze(q), limit) };
}

describe("tokens", () => {
  it("keeps each token literally and masked: numbers as #, proper names as @", () => {
    const tokens = tokenize("Natalia sold 1,200 clips to Tom in May for $3.");
    expect(tokens.map((t) => t.literal)).toEqual([
      "natalia",
      "sold",
      "1200",
      "clips",
      "to",
      "tom",
      "in",
      "may",
      "for",
      "$",
      "3",
    ]);
    expect(tokens.map((t) => t.masked)).toEqual([
      "@",
      "sold",
      "#",
      "clips",
      "to",
      "@",
      "in",
      "may",
      "for",
      "$",
      "#",
    ]);
  });

  it("keeps a capitalized common word at the start of a sentence as a word", () => {
    expect(maskedTokens("How many? The cat. If Ann goes")).toEqual([
      "how",
      "many",
      "the",
      "cat",
      "if",
      "@",
      "goes",
    ]);
  });

  it("reads a possessive as the name it belongs to", () => {
    expect(tokenize("Nick's candies and James' hat").map((t) => t.literal)).toEqual([
      "nick",
      "candies",
      "and",
      "james",
      "hat",
    ]);
  });
});

describe("the analyzer", () => {
  it("gives literal terms with word pairs, and the values (numbers and names) apart", () => {
    const text = createAnalyzer()("Ann has 3 cats.");
    expect([...text.literal.keys()]).toEqual(["ann", "has", "ann has", "3", "has 3", "cats", "3 cats"]);
    expect([...text.values.keys()]).toEqual(["ann", "3"]);
    expect([...text.structure.keys()]).toEqual(["@", "has", "@ has", "#", "has #", "cats", "# cats"]);
  });

  it("generalizes each noun to its kind through WordNet, so pears meet apples and a coat meets boots", async () => {
    const analyze = await wordNetAnalyzer();
    const kinds = (text: string) => [...analyze(text).structure.keys()].filter((t) => t.startsWith("~"));
    expect(kinds("She bought pears")).toEqual(kinds("She bought apples"));
    expect(kinds("a new coat")).toEqual(kinds("new boots"));
    expect(kinds("She bought pears")).not.toEqual(kinds("She bought dollars"));
  });

  it("reads WordNet's kinds back from its cache file as the dictionary gives them", async () => {
    const cache = join(mkdtempSync(join(tmpdir(), "precedent-wordnet-")), "kinds.txt");
    const words = ["pears", "apples", "boots", "children", "dollars", "shelves", "berries", "marbles", "zzz"];
    const fromDictionary = await loadWordNet({ cache: null });
    const writing = await loadWordNet({ cache });
    expect(statSync(cache).size).toBeGreaterThan(500_000);
    const reading = await loadWordNet({ cache });
    for (const word of words) {
      expect(writing(word), word).toBe(fromDictionary(word));
      expect(reading(word), word).toBe(fromDictionary(word));
    }
    expect(reading("pears")).toBe("produce");
  });
});

describe("BM25 over a bank's lexicon", () => {
  it("finds a text holding any one of the query's words", () => {
    const { search } = lexiconOf({
      apples: "Tom picks apples in the orchard",
      trains: "A train travels fast",
    });
    expect(search("apples harvest").literal.map((h) => h.id)).toEqual(["apples"]);
    expect(
      search("train orchard")
        .literal.map((h) => h.id)
        .sort(),
    ).toEqual(["apples", "trains"]);
  });

  it("weighs a rare word above a common one", () => {
    const texts: Record<string, string> = { rare: "a lonely telescope" };
    for (let i = 0; i < 8; i++) texts[`c${i}`] = `marbles in box ${i}`;
    const hits = lexiconOf(texts).search("marbles telescope", 20).literal;
    expect(hits[0]?.id).toBe("rare");
    expect(hits).toHaveLength(9);
    expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score as number);
  });

  it("counts a word's repetitions and prefers the shorter of two texts", () => {
    const { search } = lexiconOf({
      once: "the garden has roses and tulips and daisies",
      twice: "the garden has roses and roses and daisies",
      short: "roses",
      other: "nothing of the sort here",
    });
    expect(search("roses").literal.map((h) => h.id)).toEqual(["short", "twice", "once"]);
  });

  it("scores any text exactly as its search does", () => {
    const analyze = createAnalyzer();
    const { lexicon, search } = lexiconOf(
      { a: "Kim has 3 red marbles", b: "Kim buys 5 blue marbles", c: "a train leaves at 9" },
      analyze,
    );
    const query = analyze("How many marbles does Kim have?");
    for (const hit of search("How many marbles does Kim have?").literal) {
      const text = { a: "Kim has 3 red marbles", b: "Kim buys 5 blue marbles", c: "a train leaves at 9" }[
        hit.id
      ] as string;
      expect(lexicon.literal.score(query.literal, analyze(text).literal)).toBeCloseTo(hit.score, 10);
    }
  });

  it("forgets a removed or replaced text, and says when removals have worn it enough to rebuild", () => {
    const { lexicon, search } = lexiconOf({ a: "zebra stripes", b: "lion mane" });
    lexicon.remove("a");
    expect(search("zebra").literal).toEqual([]);
    lexicon.upsert("b", "zebra hooves", createAnalyzer()("zebra hooves"));
    expect(search("lion").literal).toEqual([]);
    expect(search("zebra").literal.map((h) => h.id)).toEqual(["b"]);
    expect(lexicon.size).toBe(1);
    expect(lexicon.worn).toBe(false);
    for (let i = 0; i < 100; i++) lexicon.upsert(`n${i}`, `note ${i}`, createAnalyzer()(`note ${i}`));
    for (let i = 0; i < 90; i++) lexicon.remove(`n${i}`);
    expect(lexicon.worn).toBe(true);
  });
});

describe("the lexicon at scale", () => {
  it("finds exactly what a plain scan of every text finds, through pool growth and compaction", () => {
    const analyze = createAnalyzer();
    const texts = Array.from(
      { length: 3000 },
      (_, i) => `Box ${i % 97} holds ${i % 13} red and ${i % 7} blue marbles; crate ${i} is shelf ${i % 41}.`,
    );
    const lexicon = new BankLexicon();
    texts.forEach((t, i) => {
      lexicon.upsert(`t${i}`, t, analyze(t));
    });
    const query = analyze("crate 1234 holds 12 red marbles on shelf 4");
    const scanned = texts
      .map((t, i) => ({ id: `t${i}`, score: lexicon.literal.score(query.literal, analyze(t).literal) }))
      .sort((a, b) => b.score - a.score);
    const found = lexicon.search(query, 5).literal;
    expect(found.map((h) => h.id)).toEqual(scanned.slice(0, 5).map((h) => h.id));
    expect(found[0]?.id).toBe("t1234");
  });

  it("answers the same once its lists are packed end to end, and keeps growing after", () => {
    const analyze = createAnalyzer();
    const text = (i: number) =>
      `Shelf ${i % 41} has ${i % 13} jars of ${["jam", "honey", "salt"][i % 3]}; tray ${i}.`;
    const lexicon = new BankLexicon();
    for (let i = 0; i < 3000; i++) lexicon.upsert(`t${i}`, text(i), analyze(text(i)));
    const query = analyze("tray 2999 has 9 jars of salt on shelf 6");
    const before = lexicon.search(query, 8);
    lexicon.seal();
    // sealed, the lists lie end to end: the pool's used part holds exactly the postings
    const { literal } = lexicon.parts();
    const postings = literal.length.subarray(0, literal.terms.count).reduce((sum, n) => sum + n, 0);
    expect(literal.pool.length).toBe(postings);
    expect(lexicon.search(query, 8)).toEqual(before);
    for (let i = 3000; i < 4000; i++) lexicon.upsert(`t${i}`, text(i), analyze(text(i)));
    const scanned = Array.from({ length: 4000 }, (_, i) => ({
      id: `t${i}`,
      score: lexicon.literal.score(query.literal, analyze(text(i)).literal),
    })).sort((a, b) => b.score - a.score || Number(a.id.slice(1)) - Number(b.id.slice(1)));
    const exhaustive = lexicon.search(query, 5, { exhaustive: true }).literal;
    expect(exhaustive.map((h) => h.id)).toEqual(scanned.slice(0, 5).map((h) => h.id));
    exhaustive.forEach((h, i) => {
      expect(h.score).toBeCloseTo(scanned[i]?.score as number, 10);
    });
    expect(lexicon.search(query, 5).literal.map((h) => h.id)).toEqual(scanned.slice(0, 5).map((h) => h.id));
    // a bounded search completes its candidates exactly, from lists that grew since it last looked in them
    const late = analyze("tray 3999 has 6 jars of jam on shelf 2");
    const bounded = lexicon.search(late, 5).literal;
    const lateScanned = Array.from({ length: 4000 }, (_, i) => ({
      id: `t${i}`,
      score: lexicon.literal.score(late.literal, analyze(text(i)).literal),
    })).sort((a, b) => b.score - a.score || Number(a.id.slice(1)) - Number(b.id.slice(1)));
    expect(bounded.map((h) => h.id)).toEqual(lateScanned.slice(0, 5).map((h) => h.id));
    bounded.forEach((h, i) => {
      expect(h.score).toBeCloseTo(lateScanned[i]?.score as number, 10);
    });
  });
});

describe("scoring a memory by its slot, without its text", () => {
  const analyze = createAnalyzer();
  const text = (i: number) =>
    `${["Ann", "Bo", "Cy"][i % 3]} packs ${i % 17} boxes of ${["pears", "figs", "nuts"][i % 3]} on day ${i}, then sells ${i % 5}.`;
  const built = new BankLexicon();
  for (let i = 0; i < 2000; i++) built.upsert(`m${i}`, text(i), analyze(text(i)));
  built.seal();
  const queryText = analyze("Bo packs 12 boxes of figs on day 40 and sells 2 of them");

  it("gives the evidence an analysis of the memory's text gives, in a lexicon built or read back from its parts", () => {
    const readBack = new BankLexicon(built.parts());
    for (const lexicon of [built, readBack]) {
      const query = queryEvidence(lexicon, queryText, lexicon.search(queryText, 8));
      for (const i of [0, 40, 41, 1999]) {
        const slot = lexicon.slotOf(`m${i}`, text(i));
        expect(slot).toBeGreaterThanOrEqual(0);
        if (!lexicon.valuesOf(slot)) lexicon.learnValues(slot, analyze(text(i)));
        const bySlot = memoryEvidenceAt(lexicon, query, slot, lexicon.valuesOf(slot) as Int32Array);
        const byText = memoryEvidence(lexicon, query, analyze(text(i)));
        for (const key of Object.keys(byText) as (keyof typeof byText)[])
          expect(bySlot[key]).toBeCloseTo(byText[key], 12);
      }
    }
  });

  it("knows a memory by its slot only with the very text it holds, and a read-back lexicon its values only once told", () => {
    const readBack = new BankLexicon(built.parts());
    expect(built.slotOf("m7", text(7))).toBeGreaterThanOrEqual(0);
    expect(built.slotOf("m7", `${text(7)} Later edited.`)).toBe(-1);
    expect(built.slotOf("absent", text(7))).toBe(-1);
    const slot = readBack.slotOf("m7", text(7));
    expect(readBack.valuesOf(slot)).toBeUndefined();
    readBack.learnValues(slot, analyze(text(7)));
    expect([...(readBack.valuesOf(slot) as Int32Array)].sort()).toEqual(
      [...(built.valuesOf(built.slotOf("m7", text(7))) as Int32Array)].sort(),
    );
  });

  it("completes a bounded search the same way read back as built", () => {
    const readBack = new BankLexicon(built.parts());
    expect(readBack.search(queryText, 8)).toEqual(built.search(queryText, 8));
  });
});
