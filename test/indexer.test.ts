import { describe, expect, it } from "vitest";
import { createBank } from "../src/memory/banks.js";
import { startBackgroundIndexer } from "../src/memory/indexer.js";
import { writeBack } from "../src/memory/writeBack.js";
import { INDEX_KINDS, useTestContext } from "./support/context.js";

describe.each(INDEX_KINDS)("the background indexer over the %s index", (kind) => {
  const t = useTestContext({ index: kind });

  it("indexes single writes in a batch shortly after, without holding up the write", async () => {
    const ctx = t.ctx();
    const bank = await createBank(ctx.db, {
      id: "bg",
      domain: "number",
      settings: { writeBackTier: "consensus" },
    });
    ctx.indexer = startBackgroundIndexer(ctx, { delayMs: 60_000, optimizeEvery: 3 });
    try {
      const written = [];
      for (let i = 0; i < 5; i++) {
        written.push(
          await writeBack({
            ctx,
            bank,
            input: {
              problem: `Tia has ${i + 2} boxes of ${i + 3} pens. How many pens does she have? (${i})`,
              reasoning: "multiply",
              answer: String((i + 2) * (i + 3)),
              answerCanonical: String((i + 2) * (i + 3)),
              verification: "consensus",
              verificationDetail: {},
              runId: `run_${i}`,
              model: "m",
            },
          }),
        );
      }
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
});
