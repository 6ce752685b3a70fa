import { readFileSync } from "node:fs";
import { join } from "node:path";
import { seedBank } from "../seed/seedBank.js";
import { loadConfig } from "../src/config.js";
import { getBank } from "../src/memory/banks.js";
import { startBackgroundIndexer } from "../src/memory/indexer.js";
import { createModelClient } from "../src/reasoning/model.js";
import { solve } from "../src/reasoning/pipeline.js";
import { startFakeOpenAI } from "../test/support/fakeOpenAI.js";
import { benchContext, percentile, report } from "./support.js";

/**
 * What a solve costs beyond the model: recall, prompt, vote, verification, write-back, credit and the
 * stored run, measured as wall time minus the sampling stage, against a fake model that answers at once.
 */
export async function benchSolve(queries = 200) {
  const ctx = await benchContext();
  const fake = await startFakeOpenAI({ seed: 1 });
  try {
    const { dataDir } = loadConfig();
    await seedBank({ ctx, input: { bankId: "gsm8k", from: "gsm8k", dataDir } });
    const bank = await getBank(ctx.db, "gsm8k");
    ctx.model = createModelClient({ name: "fake", baseURL: fake.url, maxRetries: 0 });
    // as in the server: write-backs reach the index in batches, off the request path
    ctx.indexer = startBackgroundIndexer(ctx);
    const tests = readFileSync(join(dataDir, "gsm8k", "test.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { question: string; answer: string })
      .slice(0, queries + 20);
    const gold = new Map(tests.map((r) => [r.question, r.answer.match(/####\s*(.+)$/)?.[1]?.trim() ?? ""]));
    fake.setBehavior({ kind: "answers", answerFor: (q) => gold.get(q) ?? "0", accuracy: 0.8 });
    const overheads: number[] = [];
    const beyondRecall: number[] = [];
    const stages: Record<string, number[]> = {};
    for (const [i, row] of tests.entries()) {
      const started = performance.now();
      const result = await solve({
        ctx,
        bank,
        query: row.question,
        options: { k: 4, samples: 8, adaptive: false, gold: gold.get(row.question) },
      });
      const overhead = performance.now() - started - (result.timings.sampleMs ?? 0);
      if (i >= 20) {
        overheads.push(overhead); // the first solves warm up caches and the JIT
        beyondRecall.push(overhead - (result.timings.recallMs ?? 0));
        for (const [stage, ms] of Object.entries(result.timings)) {
          stages[stage] = [...(stages[stage] ?? []), ms];
        }
      }
    }
    console.log(
      `\nsolve: orchestration beyond model time, k=4, 8 samples, ${overheads.length} GSM8K test questions on ${ctx.label}`,
    );
    for (const [stage, ms] of Object.entries(stages))
      report(`    stage ${stage} p50`, percentile(ms, 0.5), "ms");
    return [
      report("  orchestration overhead p50", percentile(overheads, 0.5), "ms", { op: "≤", value: 5 }),
      report("  orchestration overhead p99", percentile(overheads, 0.99), "ms"),
      // for reading the figure above: how much of it is recall
      report("  overhead beyond model time and recall p50", percentile(beyondRecall, 0.5), "ms"),
    ];
  } finally {
    await ctx.indexer?.close();
    await fake.close();
    await ctx.close();
  }
}
