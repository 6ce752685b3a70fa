import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { count, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { indexClaims, indexState, memories } from "../src/db/schema.js";
import { createBank } from "../src/memory/banks.js";
import { createLocalEmbedder } from "../src/memory/embed/local.js";
import { importProblems } from "../src/memory/importProblems.js";
import { openLanceIndex } from "../src/memory/index/lance.js";
import { hnswEf, maxVectorSegments } from "../src/memory/index/lanceAnn.js";
import type { IndexRow } from "../src/memory/index/memoryIndex.js";
import { openPostgresIndex } from "../src/memory/index/postgres.js";
import { wordNetAnalyzer } from "../src/memory/lexical/wordNetAnalyzer.js";
import { checkIndex, reconcileIndex, reindex } from "../src/memory/reconcile.js";
import { warmLexicons } from "../src/memory/warmLexicons.js";
import { createMetrics } from "../src/metrics/metrics.js";
import { INDEX_KINDS, useTestContext } from "./support/context.js";

const problems = Array.from({ length: 30 }, (_, i) => ({
  line: i + 1,
  value: {
    problem: `Kim has ${i + 3} red marbles and buys ${i + 5} blue ones. How many marbles now? (${i})`,
    answer: String(2 * i + 8),
  },
}));

// the same contract for every index implementation
describe("LanceDB's HNSW search effort", () => {
  it("explores 128 candidates up to 100k memories and more as a bank grows, within a cap", () => {
    expect([0, 5_000, 100_000].map(hnswEf)).toEqual([128, 128, 128]);
    const sizes = [200_000, 500_000, 1_000_000, 5_000_000, 1e9];
    const efs = sizes.map(hnswEf);
    expect(efs[0]).toBe(256);
    for (let i = 1; i < efs.length; i++) expect(efs[i]).toBeGreaterThanOrEqual(efs[i - 1] as number);
    // the 1M setting measured recall@10 0.968 at ef 512 and 0.973 at 640
    expect(hnswEf(1_000_000)).toBeGreaterThanOrEqual(512);
    expect(Math.max(...efs)).toBe(1024);
  });

  it("keeps the vector index to a few segments however many small batches are folded into it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "precedent-segments-"));
    const index = await openLanceIndex({
      uri: dir,
      dimensions: 384,
      annThreshold: 200,
      hotTierLimit: 0,
      analyzer: wordNetAnalyzer,
    });
    const embedder = createLocalEmbedder(384);
    let n = 0;
    const batch = async (size: number) => {
      // numbers embed alike: each text gets a word of its own, spelled from its number
      const word = (k: number) =>
        [...k.toString(26)].map((c) => "abcdefghijklmnopqrstuvwxyz"[parseInt(c, 26)]).join("");
      const texts = Array.from({ length: size }, () => `Crate ${word(n)}${word(n++ * 7)} holds jars of jam.`);
      const vectors = await embedder.embed(texts);
      return texts.map((text, i) => ({
        id: `m${n - size + i}`,
        bank: "seg",
        status: "active",
        trust: 3,
        text,
        vector: vectors[i] as Float32Array,
      }));
    };
    try {
      await index.upsert("seg", await batch(240));
      await index.optimize("seg");
      const table = await (await lancedb.connect(dir)).openTable("bank_seg");
      const segments: number[] = [];
      let last: IndexRow[] = [];
      for (let round = 0; round < 14; round++) {
        last = await batch(4);
        await index.upsert("seg", last);
        await index.optimize("seg");
        await table.checkoutLatest();
        segments.push((await table.indexStats("vector_idx"))?.numIndices ?? 0);
      }
      // one more segment per fold, until the index is rebuilt whole
      expect(segments.slice(0, 7)).toEqual([2, 3, 4, 5, 6, 7, 8]);
      expect(Math.max(...segments)).toBeLessThanOrEqual(8);
      expect(segments).toContain(1);
      // a large bank, whose rebuild takes long, is rebuilt less often
      expect([maxVectorSegments(300), maxVectorSegments(200_000), maxVectorSegments(1_000_000)]).toEqual([
        8, 8, 40,
      ]);
      expect((await table.indexStats("vector_idx"))?.numIndexedRows).toBe(240 + 14 * 4);
      const [hit] = await index.searchVector("seg", last[0]?.vector as Float32Array, 1);
      expect(hit?.id).toBe(last[0]?.id);
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(INDEX_KINDS)("the %s index", (kind) => {
  const t = useTestContext({ index: kind });

  async function seedSmallBank(id = "small") {
    const ctx = t.ctx();
    const bank = await createBank({ ctx, input: { id, domain: "number" } });
    await importProblems({ ctx, input: { bankId: bank.id, rows: problems, source: "import" } });
    return bank;
  }

  async function pendingCount(): Promise<number> {
    const [row] = await t
      .ctx()
      .db.select({ n: count() })
      .from(memories)
      .where(sql`${memories.indexVersion} < ${memories.version}`);
    return row?.n ?? 0;
  }

  describe("the index follows the records", () => {
    it("holds every active memory after an import, with nothing left pending", async () => {
      await seedSmallBank();
      expect(await t.ctx().index.count("small")).toBe(30);
      expect(await pendingCount()).toBe(0);
    });

    it("picks up memories written to the records but never indexed (a crash before the index write)", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      // as if the process died after the records committed: the index has never seen these rows
      await ctx.index.drop("small");
      await ctx.db.update(memories).set({ indexVersion: 0 });
      const restarted = await ctx.reopenIndex();
      expect(await restarted.count("small")).toBe(0);
      await checkIndex({ ctx });
      expect(await restarted.count("small")).toBe(30);
      expect(await pendingCount()).toBe(0);
    });

    it("leaves nothing open once an import is done: its claims on the index are dropped", async () => {
      await seedSmallBank();
      expect(await t.ctx().db.select().from(indexClaims)).toEqual([]);
    });

    it("writes what an import claimed but never indexed (a failure between its records and the index)", async () => {
      const ctx = t.ctx();
      const bank = await createBank({ ctx, input: { id: "small", domain: "number" } });
      const failing = {
        ...ctx,
        fault: (point: string) => {
          if (point === "before-index-upsert") throw new Error("index write failed");
        },
      };
      await expect(
        importProblems({ ctx: failing, input: { bankId: bank.id, rows: problems, source: "import" } }),
      ).rejects.toThrow("index write failed");
      // the records hold the rows as indexed, under the import's claim; the index has none of them
      expect(await pendingCount()).toBe(0);
      expect(await ctx.db.select().from(indexClaims)).toHaveLength(1);
      expect(await ctx.index.count("small")).toBe(0);
      const lag = await createMetrics({ processMetrics: false }).scrape(ctx.db);
      expect(lag).toMatch(/^precedent_index_lag_memories 30$/m);

      const result = await reconcileIndex({ ctx });
      expect(result.upserted).toBe(30);
      expect(await ctx.index.count("small")).toBe(30);
      expect(await ctx.db.select().from(indexClaims)).toEqual([]);
      expect(await createMetrics({ processMetrics: false }).scrape(ctx.db)).toMatch(
        /^precedent_index_lag_memories 0$/m,
      );
    });

    it("leaves the repair to the next writer when a command only reads, unless the embedder changed", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      await ctx.index.drop("small");
      await ctx.db.update(memories).set({ indexVersion: 0 });
      expect(await checkIndex({ ctx, embedderOnly: true })).toEqual([]);
      expect(await ctx.index.count("small")).toBe(0);
      expect(await pendingCount()).toBe(30);
      // vectors of another embedder cannot be searched: even a reader rebuilds them
      await ctx.db.update(indexState).set({ embedder: "another-embedder:384" });
      await checkIndex({ ctx, embedderOnly: true });
      expect(await ctx.index.count("small")).toBe(30);
      expect(await pendingCount()).toBe(0);
    });

    it("upserts once when the index write landed but its acknowledgement did not", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      await ctx.db.update(memories).set({ indexVersion: 0 });
      const result = await reconcileIndex({ ctx });
      expect(result.upserted).toBe(30);
      expect(await ctx.index.count("small")).toBe(30);
      expect(new Set(await ctx.index.ids("small")).size).toBe(30);
    });

    it("removes index rows whose memory no longer exists in the records", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      const [gone] = await ctx.db.select({ id: memories.id }).from(memories).limit(1);
      await ctx.db.delete(memories).where(eq(memories.id, gone?.id as string));
      await checkIndex({ ctx });
      expect(await ctx.index.count("small")).toBe(29);
      expect(await ctx.index.ids("small")).not.toContain(gone?.id);
    });

    // how each implementation's own storage can fail: LanceDB's files on disk...
    if (kind === "lance") {
      it("rebuilds a bank whose index files were torn by a hard stop", async () => {
        const ctx = t.ctx();
        await seedSmallBank();
        await ctx.index.close();
        // a truncated manifest: what an unsynced write can leave behind after a power cut
        const versions = join(ctx.lanceDir, "bank_small.lance", "_versions");
        for (const f of readdirSync(versions)) writeFileSync(join(versions, f), "torn");
        await ctx.reopenIndex();
        const found = await checkIndex({ ctx });
        expect(found.map((f) => [f.bank, f.problem])).toEqual([["small", "unreadable"]]);
        expect(await ctx.index.count("small")).toBe(30);
      });

      it("rebuilds a bank whose index folder was deleted", async () => {
        const ctx = t.ctx();
        await seedSmallBank();
        await ctx.index.close();
        rmSync(join(ctx.lanceDir, "bank_small.lance"), { recursive: true, force: true });
        await ctx.reopenIndex();
        await checkIndex({ ctx });
        expect(await ctx.index.count("small")).toBe(30);
      });
    }

    // ...and the Postgres index's table, when something other than precedent deletes from it
    if (kind === "postgres") {
      it("rebuilds a bank whose index rows were deleted behind its back", async () => {
        const ctx = t.ctx();
        await seedSmallBank();
        await ctx.db.execute(sql`delete from memory_index where memory_id in
          (select memory_id from memory_index where bank_id = 'small' order by memory_id limit 10)`);
        await ctx.reopenIndex();
        const found = await checkIndex({ ctx });
        expect(found.map((f) => [f.bank, f.problem])).toEqual([["small", "count-mismatch"]]);
        expect(await ctx.index.count("small")).toBe(30);
        expect(new Set(await ctx.index.ids("small")).size).toBe(30);
      });

      it("sees what another process wrote to or removed from a bank since it last searched it", async () => {
        const ctx = t.ctx();
        await seedSmallBank();
        const other = await openPostgresIndex({
          db: ctx.db,
          dimensions: ctx.embedder.dimensions,
          analyzer: wordNetAnalyzer,
        });
        try {
          const [query] = await ctx.embedder.embed([problems[0]?.value.problem as string]);
          const q = query as Float32Array;
          // this process now holds the bank's vectors in memory
          const [top] = await ctx.index.searchVector("small", q, 1);
          const id = top?.id as string;
          expect((await ctx.index.lexicon("small")).lexicon.has(id)).toBe(true);
          await other.remove("small", [id]);
          const after = await ctx.index.searchVector("small", q, 30);
          expect(after.map((h) => h.id)).not.toContain(id);
          expect(after).toHaveLength(29);
          expect((await ctx.index.lexicon("small")).lexicon.has(id)).toBe(false);
          const probe = new Float32Array(ctx.embedder.dimensions);
          probe[0] = 1;
          await other.upsert("small", [
            { id: "fresh", bank: "small", status: "active", trust: 5, text: "zebras", vector: probe },
          ]);
          expect((await ctx.index.searchVector("small", probe, 1))[0]?.id).toBe("fresh");
          const { analyze, lexicon } = await ctx.index.lexicon("small");
          expect(lexicon.search(analyze("zebras"), 5).literal.map((h) => h.id)).toEqual(["fresh"]);
        } finally {
          await other.close();
        }
      });
    }

    it("re-embeds everything when the embedder changes", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      const [before] = await ctx.db.select().from(indexState);
      expect(before?.embedder).toBe(ctx.embedder.id);
      ctx.embedder = createLocalEmbedder(128);
      // the restarted process opens its index for 128 dimensions, over what the 384-dimension one wrote
      await ctx.reopenIndex();
      await checkIndex({ ctx });
      const [after] = await ctx.db.select().from(indexState);
      expect(after).toMatchObject({ embedder: "local-hash-v2:128", dimensions: 128 });
      expect(await ctx.index.count("small")).toBe(30);
      const hits = await ctx.index.searchVector(
        "small",
        (await ctx.embedder.embed([problems[0]?.value.problem as string]))[0] as Float32Array,
        1,
      );
      expect(hits[0]?.vector.length).toBe(128);
    });

    it("reindex rebuilds one bank from the records and leaves the others alone", async () => {
      const ctx = t.ctx();
      await seedSmallBank("one");
      await seedSmallBank("two");
      await ctx.index.remove("one", (await ctx.index.ids("one")).slice(0, 10));
      expect(await ctx.index.count("one")).toBe(20);
      const result = await reindex({ ctx, bankId: "one" });
      expect(result.upserted).toBe(30);
      expect(await ctx.index.count("one")).toBe(30);
      expect(await ctx.index.count("two")).toBe(30);
    });
  });

  describe("this process's writes and its lexicon", () => {
    const indexRow = (id: string, text: string) => ({
      id,
      bank: "turns",
      status: "active",
      trust: 5,
      text,
      vector: Float32Array.from({ length: t.ctx().embedder.dimensions }, (_, i) => (i === 0 ? 1 : 0)),
    });

    it("keeps its lexicon through writes started together, and through a write started while it is read", async () => {
      const index = t.ctx().index;
      await index.upsert("turns", [indexRow("a", "Kim has 3 red marbles")]);
      const built = (await index.lexicon("turns")).lexicon;
      // two writes in flight at once (a write-back and the background indexer): each brought in place
      await Promise.all([
        index.upsert("turns", [indexRow("b", "Ann buys 5 blue pens")]),
        index.upsert("turns", [indexRow("c", "A train leaves at 9")]),
      ]);
      const after = (await index.lexicon("turns")).lexicon;
      expect(after).toBe(built);
      expect(after.has("b") && after.has("c")).toBe(true);
      // a write started while another bank state is being read waits for the read, then is applied
      await index.drop("turns");
      await index.upsert("turns", [indexRow("a", "Kim has 3 red marbles")]);
      const reading = index.lexicon("turns");
      const writing = index.upsert("turns", [indexRow("d", "Bo sells 7 figs")]);
      await Promise.all([reading, writing]);
      const read = (await index.lexicon("turns")).lexicon;
      expect(read.has("d")).toBe(true);
      await index.upsert("turns", [indexRow("e", "Cy packs 2 boxes")]);
      expect((await index.lexicon("turns")).lexicon).toBe(read);
    });
    it("keeps its lexicon when a search reads the generation its own write has just committed", async () => {
      const index = t.ctx().index;
      await index.upsert("turns", [indexRow("a", "Kim has 3 red marbles")]);
      const built = (await index.lexicon("turns")).lexicon;
      for (let i = 0; i < 5; i++) {
        let done = false;
        const writing = index
          .upsert("turns", [indexRow(`w${i}`, `Lee packs ${i + 2} crates of figs`)])
          .then(() => {
            done = true;
          });
        // searches all through the write: some read the store's generation after the write committed and
        // before it was brought into the lexicon; they wait for it rather than read the bank again
        const reads = [];
        while (!done) {
          reads.push(index.lexicon("turns"));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await writing;
        for (const view of await Promise.all(reads)) expect(view.lexicon).toBe(built);
      }
      expect(built.has("w4")).toBe(true);
    });
  });

  describe("lexicons kept between processes", () => {
    const fileOf = (bank: string) =>
      join(t.ctx().lexiconDir, kind === "lance" ? "lancedb" : "postgres", `${bank}.lexicon`);
    const query = "Kim has 9 red marbles and buys 11 blue ones";
    const zebra = (dimensions: number): IndexRow => ({
      id: "zebra",
      bank: "small",
      status: "active",
      trust: 5,
      text: "Zebras graze on the savanna.",
      vector: new Float32Array(dimensions).fill(0.1),
    });
    /** the same index opened by another process: it shares the store, not this one's lexicons or files */
    const otherProcess = () => {
      const ctx = t.ctx();
      return kind === "postgres"
        ? openPostgresIndex({ db: ctx.db, dimensions: ctx.embedder.dimensions, analyzer: wordNetAnalyzer })
        : openLanceIndex({
            uri: ctx.lanceDir,
            dimensions: ctx.embedder.dimensions,
            analyzer: wordNetAnalyzer,
          });
    };

    it("reads a bank's lexicon back from its file at the next start, answering as the one that built it", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      const built = await ctx.index.lexicon("small");
      const answer = built.lexicon.search(built.analyze(query), 5);
      const written = statSync(fileOf("small")).mtimeMs;
      const restarted = await (await ctx.reopenIndex()).lexicon("small");
      expect(restarted.lexicon).not.toBe(built.lexicon);
      expect(restarted.lexicon.search(restarted.analyze(query), 5)).toEqual(answer);
      expect(restarted.lexicon.fingerprint).toBe(built.lexicon.fingerprint);
      // read, not built and written again
      expect(statSync(fileOf("small")).mtimeMs).toBe(written);
    });

    it("keeps this process's own writes in the file when the index closes", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      await ctx.index.lexicon("small");
      await ctx.index.upsert("small", [zebra(ctx.embedder.dimensions)]);
      await ctx.index.remove("small", [
        (await ctx.index.ids("small")).find((id) => id !== "zebra") as string,
      ]);
      const restarted = await (await ctx.reopenIndex()).lexicon("small");
      expect(restarted.lexicon.size).toBe(30);
      expect(restarted.lexicon.search(restarted.analyze("zebras"), 1).literal[0]?.id).toBe("zebra");
    });

    it("reads every text back as it was written, accents and symbols included, when another process builds the lexicon", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      await ctx.index.lexicon("small");
      await ctx.index.upsert("small", [
        {
          ...zebra(ctx.embedder.dimensions),
          text: "Zoë paid €5 for a crème brûlée — how much is 3 of them?",
        },
      ]);
      const here = await ctx.index.lexicon("small");
      const elsewhere = await (await otherProcess()).lexicon("small");
      // the fingerprint sums a hash of every id and text: one character read back wrong would change it
      expect(elsewhere.lexicon.fingerprint).toBe(here.lexicon.fingerprint);
      expect(elsewhere.lexicon.search(elsewhere.analyze("crème brûlée"), 1).literal[0]?.id).toBe("zebra");
    });

    it("builds the lexicon again when another process changed the bank since the file was written", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      await ctx.index.lexicon("small");
      await ctx.index.close();
      const other = await otherProcess();
      await other.upsert("small", [zebra(ctx.embedder.dimensions)]);
      await other.close();
      const restarted = await (await ctx.reopenIndex()).lexicon("small");
      expect(restarted.lexicon.size).toBe(31);
      expect(restarted.lexicon.search(restarted.analyze("zebras"), 1).literal[0]?.id).toBe("zebra");
    });

    it("builds the lexicon again from a file that is damaged or cut short", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      const built = await ctx.index.lexicon("small");
      const answer = built.lexicon.search(built.analyze(query), 5);
      const whole = readFileSync(fileOf("small"));
      for (const damaged of [whole.subarray(0, whole.length - 100), Buffer.from("not a lexicon")]) {
        writeFileSync(fileOf("small"), damaged);
        const restarted = await (await ctx.reopenIndex()).lexicon("small");
        expect(restarted.lexicon.search(restarted.analyze(query), 5)).toEqual(answer);
      }
    });
  });

  describe("index search", () => {
    it("reads free text as words only, so no characters of a query can break a search", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      const { analyze, lexicon } = await ctx.index.lexicon("small");
      for (const query of ['marbles" OR 1=1 --', "(blue AND red):*", "\\u0000 ' \" ; ", "∑∫ marbles!!"]) {
        expect(lexicon.search(analyze(query), 5).literal).toBeInstanceOf(Array);
      }
      expect(lexicon.search(analyze("∑∫ marbles!!"), 5).literal).toHaveLength(5);
      expect(lexicon.search(analyze(""), 5)).toEqual({ literal: [], structure: [] });
    });

    it("answers empty for a bank that has no index yet", async () => {
      const ctx = t.ctx();
      expect(await ctx.index.searchVector("nothing", new Float32Array(ctx.embedder.dimensions), 3)).toEqual(
        [],
      );
      const { analyze, lexicon } = await ctx.index.lexicon("nothing");
      expect(lexicon.search(analyze("marbles"), 3)).toEqual({ literal: [], structure: [] });
      expect(await ctx.index.count("nothing")).toBe(0);
    });

    it("builds every bank's lexicon ahead of its first recall when warmed", async () => {
      const ctx = t.ctx();
      await seedSmallBank("one");
      await seedSmallBank("two");
      await warmLexicons(ctx, { stopped: false });
      for (const bank of ["one", "two"]) expect((await ctx.index.lexicon(bank)).lexicon.size).toBe(30);
    });

    it("keeps a bank's lexicon in step with this process's own writes, without reading the bank again", async () => {
      const ctx = t.ctx();
      await seedSmallBank();
      const before = await ctx.index.lexicon("small");
      const probe = new Float32Array(ctx.embedder.dimensions);
      probe[0] = 1;
      await ctx.index.upsert("small", [
        { id: "zebra", bank: "small", status: "active", trust: 5, text: "Zebras graze.", vector: probe },
      ]);
      const [gone] = await ctx.index.ids("small");
      await ctx.index.remove("small", [gone as string]);
      await ctx.index.optimize("small");
      const after = await ctx.index.lexicon("small");
      // the same lexicon, brought along by each write (a rebuild would be a new one)
      expect(after.lexicon).toBe(before.lexicon);
      expect(after.lexicon.has("zebra")).toBe(true);
      expect(after.lexicon.has(gone as string)).toBe(false);
      expect(after.lexicon.size).toBe(30);
      expect(after.lexicon.search(after.analyze("zebras"), 1).literal[0]?.id).toBe("zebra");
    });
  });
});
