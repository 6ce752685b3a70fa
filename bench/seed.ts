import { join } from "node:path";
import { seedBank } from "../seed/seedBank.js";
import { loadConfig } from "../src/config.js";
import { benchContext, report } from "./support.js";

/** Seeds GSM8K train (7,473 problems) into an empty bank with the local embedder: records + index. */
export async function benchSeed() {
  const ctx = await benchContext();
  try {
    const { dataDir } = loadConfig();
    const result = await seedBank({ ctx, input: { bankId: "gsm8k", from: "gsm8k", dataDir } });
    if (result.inserted !== 7473) throw new Error(`expected 7473 memories, seeded ${result.inserted}`);
    console.log(`\nseed: GSM8K train from ${join(dataDir, "gsm8k")} on ${ctx.label}`);
    return [
      // records written, embedded and searchable in the index (vector + full text)
      report(
        `seed throughput (${ctx.label}, local embedder)`,
        result.inserted / result.seconds,
        "memories/s",
        {
          op: "≥",
          value: 2000,
        },
      ),
      report("seed time (records + searchable index)", result.seconds, "s"),
      report("then compaction (and the HNSW index, past the hot tier)", result.indexSeconds, "s"),
    ];
  } finally {
    await ctx.close();
  }
}
