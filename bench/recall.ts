import { loadConfig } from "../src/config.js";
import { type Bank, createBank } from "../src/memory/banks.js";
import { importProblems, type SourceRow } from "../src/memory/importProblems.js";
import { recallAnalogues } from "../src/memory/recall.js";
import { seededRng } from "../test/support/fakeOpenAI/random.js";
import { benchContext, gsm8kText, lexicalAgreement, percentile, report } from "./support.js";

/**
 * Synthetic problems with the statistics of real ones: two to four sentences drawn from the pool of all
 * GSM8K train sentences, with fresh numbers, so the bank is large, varied and realistic for both searches.
 */
export function* syntheticProblems(count: number, sentences: string[], seed: number): Generator<SourceRow> {
  // the fake model's seeded source: every run builds the same synthetic bank
  const random = seededRng("synthetic bank", seed);
  for (let i = 0; i < count; i++) {
    const n = 2 + Math.floor(random() * 3);
    const parts = Array.from(
      { length: n },
      () => sentences[Math.floor(random() * sentences.length)] as string,
    );
    const problem = `${parts.join(" ").replace(/\d+/g, () => String(1 + Math.floor(random() * 500)))} (#${i})`;
    yield { line: i + 1, value: { problem, answer: String(Math.floor(random() * 1000)) } };
  }
}

async function measure(size: number, sentences: string[], queries: string[]) {
  const ctx = await benchContext();
  try {
    const bank: Bank = await createBank({ ctx, input: { id: `synthetic-${size}`, domain: "number" } });
    const building = performance.now();
    await importProblems({ ctx, bank, rows: syntheticProblems(size, sentences, size), source: "import" });
    const buildSeconds = (performance.now() - building) / 1000;
    const indexing = performance.now();
    await ctx.index.optimize(bank.id);
    const annSeconds = (performance.now() - indexing) / 1000;
    for (const q of queries.slice(0, 20)) await recallAnalogues({ ctx, bank, query: q });
    const times: number[] = [];
    for (const q of queries) {
      const started = performance.now();
      await recallAnalogues({ ctx, bank, query: q, options: { k: 4 } });
      times.push(performance.now() - started);
    }
    const agreement = lexicalAgreement(await ctx.index.lexicon(bank.id), queries);
    console.log(
      `\nrecall: ${size.toLocaleString()} synthetic memories on ${ctx.label}, k=4, ${queries.length} GSM8K test questions`,
    );
    const strict = size >= 100_000;
    return [
      report(`  build ${size / 1000}k (records + searchable index)`, buildSeconds, "s"),
      report(`  then HNSW vector index build`, annSeconds, "s"),
      report(
        `  recall p50 @ ${size / 1000}k`,
        percentile(times, 0.5),
        "ms",
        strict ? { op: "≤", value: 10 } : undefined,
      ),
      report(
        `  recall p99 @ ${size / 1000}k`,
        percentile(times, 0.99),
        "ms",
        strict ? { op: "≤", value: 30 } : undefined,
      ),
      report(`  lexical best 8 found, of an exhaustive search's`, agreement, ""),
    ];
  } finally {
    await ctx.close();
  }
}

/** Recall latency (embed + hybrid search + records + rerank) at 10k and 100k memories. */
export async function benchRecall(sizes = [10_000, 100_000]) {
  const { dataDir } = loadConfig();
  const { sentences, testQuestions } = gsm8kText(dataDir);
  const queries = testQuestions.slice(0, 300);
  const results = [];
  for (const size of sizes) results.push(...(await measure(size, sentences, queries)));
  return results;
}
