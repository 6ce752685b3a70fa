import { describe, expect, it, vi } from "vitest";
import { type Bank, createBank } from "../src/memory/banks.js";
import { startBackgroundIndexer } from "../src/memory/indexer.js";
import { writeBack } from "../src/memory/writeBack.js";
import type { Services } from "../src/services.js";
import { INDEX_KINDS, useTestContext } from "./support/context.js";

/** A solve's write-back of problem `i`: Tia's pens, a new problem each time. */
function writePens(ctx: Services, bank: Bank, i: number) {
  return writeBack({
    ctx,
    input: {
      bank,
      problem: `Tia has ${i + 2} boxes of ${i + 3} pens. How many pens does she have? (${i})`,
      reasoning: "multiply",
      answer: String((i + 2) * (i + 3)),
      answerCanonical: String((i + 2) * (i + 3)),
      verification: "consensus",
      verificationDetail: {},
      runId: `run_${i}`,
      model: "m",
    },
  });
}

describe.each(INDEX_KINDS)("the background indexer over the %s index", (kind) => {
  const t = useTestContext({ index: kind });

  it("indexes single writes in a batch shortly after, without holding up the write", async () => {
    const ctx = t.ctx();
    const bank = await createBank({
      ctx,
      input: {
        id: "bg",
        domain: "number",
        settings: { writeBackTier: "consensus" },
      },
    });
    ctx.indexer = startBackgroundIndexer(ctx, { delayMs: 60_000, optimizeEvery: 3 });
    try {
      const written = [];
      for (let i = 0; i < 5; i++) written.push(await writePens(ctx, bank, i));
      expect(written.every((w) => w.action === "created" && w.status === "active")).toBe(true);
      // the writes returned before the index saw them (the batch waits a minute unless flushed)
      expect(await ctx.index.count("bg")).toBe(0);
      await ctx.indexer.flush();
      expect((await ctx.index.ids("bg")).sort()).toEqual(written.map((w) => w.memoryId).sort());
    } finally {
      await ctx.indexer.close();
      ctx.indexer = undefined;
    }
  });

  it("writes in one pass what was pending when the pass began; what lands meanwhile waits for the next", async () => {
    const ctx = t.ctx();
    const bank = await createBank({
      ctx,
      input: {
        id: "stream",
        domain: "number",
        settings: { writeBackTier: "consensus" },
      },
    });
    const write = (ctx: Services, i: number) => writePens(ctx, bank, i);
    // while the pass writes the index, another solve writes a memory: under load that happens on every
    // pass, and a pass that looped on for it wrote the index one record at a time, a LanceDB fragment each
    const index = ctx.index;
    const upserted: string[][] = [];
    const during = ctx as Services;
    const watched: Services = {
      ...ctx,
      index: {
        ...index,
        upsert: async (bankId, rows) => {
          upserted.push(rows.map((r) => r.id));
          if (upserted.length === 1) await write(during, 1);
          return index.upsert(bankId, rows);
        },
      },
    };
    watched.indexer = startBackgroundIndexer(watched, { delayMs: 60_000, optimizeEvery: 1_000 });
    during.indexer = watched.indexer;
    try {
      const first = await write(watched, 0);
      await watched.indexer.flush();
      expect(upserted).toEqual([[first.memoryId]]);
      await watched.indexer.flush();
      expect(upserted).toHaveLength(2);
      expect((await index.ids("stream")).length).toBe(2);
    } finally {
      await watched.indexer.close();
      during.indexer = undefined;
    }
  });

  it("retries a failed pass by itself, waiting longer after each failure, until the index takes the writes", async () => {
    const ctx = t.ctx();
    const bank = await createBank({
      ctx,
      input: { id: "flaky", domain: "number", settings: { writeBackTier: "consensus" } },
    });
    // the real index, whose storage refuses the first two writes (a disk or database gone for a moment)
    const index = ctx.index;
    const attempts: number[] = [];
    const failing = Object.create(index) as typeof index;
    failing.upsert = async (bankId, rows) => {
      attempts.push(Date.now());
      if (attempts.length <= 2) throw new Error("the index's storage is unavailable");
      return index.upsert(bankId, rows);
    };
    const indexer = startBackgroundIndexer({ ...ctx, index: failing }, { delayMs: 5, retryMs: 40 });
    ctx.indexer = indexer;
    try {
      const written = await writePens(ctx, bank, 0);
      // no further write and no flush: the indexer comes back to it on its own
      await vi.waitFor(
        async () => expect([attempts.length, await index.ids("flaky")]).toEqual([3, [written.memoryId]]),
        {
          timeout: 10_000,
          interval: 20,
        },
      );
      expect(attempts).toHaveLength(3);
      const [first = 0, second = 0, third = 0] = attempts;
      // backoff: the second retry waited at least twice the first wait
      expect(second - first).toBeGreaterThanOrEqual(40);
      expect(third - second).toBeGreaterThanOrEqual(80);
    } finally {
      await indexer.close();
      ctx.indexer = undefined;
    }
  });
});
