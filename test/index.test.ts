import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { count, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { indexState, memories } from "../src/db/schema.js";
import { createBank } from "../src/memory/banks.js";
import { createLocalEmbedder } from "../src/memory/embed/local.js";
import { importProblems } from "../src/memory/importProblems.js";
import { checkIndex, reconcileIndex, reindex } from "../src/memory/reconcile.js";
import { useTestContext } from "./support/context.js";

const t = useTestContext();

const problems = Array.from({ length: 30 }, (_, i) => ({
  line: i + 1,
  value: {
    problem: `Kim has ${i + 3} red marbles and buys ${i + 5} blue ones. How many marbles now? (${i})`,
    answer: String(2 * i + 8),
  },
}));

async function seedSmallBank(id = "small") {
  const ctx = t.ctx();
  const bank = await createBank(ctx.db, { id, domain: "number" });
  await importProblems({ ctx, bank, rows: problems, source: "import" });
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

  it("re-embeds everything when the embedder changes", async () => {
    const ctx = t.ctx();
    await seedSmallBank();
    const [before] = await ctx.db.select().from(indexState);
    expect(before?.embedder).toBe(ctx.embedder.id);
    ctx.embedder = createLocalEmbedder(128);
    await ctx.index.close();
    rmSync(ctx.lanceDir, { recursive: true, force: true });
    const { openLanceIndex } = await import("../src/memory/index/lance.js");
    ctx.index = await openLanceIndex({ uri: ctx.lanceDir, dimensions: 128 });
    await checkIndex({ ctx });
    const [after] = await ctx.db.select().from(indexState);
    expect(after).toMatchObject({ embedder: "local-hash-v1:128", dimensions: 128 });
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

describe("index search", () => {
  it("reads free text as words only, so query syntax characters cannot break a search", async () => {
    const ctx = t.ctx();
    await seedSmallBank();
    for (const query of ['marbles" OR 1=1 --', "(blue AND red):*", "\\u0000 ' \" ; ", "∑∫ marbles!!"]) {
      await expect(ctx.index.searchText("small", query, 5)).resolves.toBeInstanceOf(Array);
    }
    expect(await ctx.index.searchText("small", "", 5)).toEqual([]);
  });

  it("answers empty for a bank that has no index yet", async () => {
    const ctx = t.ctx();
    expect(await ctx.index.searchVector("nothing", new Float32Array(ctx.embedder.dimensions), 3)).toEqual([]);
    expect(await ctx.index.searchText("nothing", "marbles", 3)).toEqual([]);
    expect(await ctx.index.count("nothing")).toBe(0);
  });
});
