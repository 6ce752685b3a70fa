import { sql } from "drizzle-orm";
import { queryRows } from "../src/db/database.js";
import { createBank } from "../src/memory/banks.js";
import type { Embedder } from "../src/memory/embed/embedder.js";
import { createOpenAIEmbedder } from "../src/memory/embed/openai.js";
import {
  analogueQueries,
  evaluateRanker,
  type KindFigures,
  recallRanker,
  seedGsm8kTrainAndTest,
} from "../test/support/analogues.js";
import { startFakeOpenAI } from "../test/support/fakeOpenAI.js";
import { bm25Ranker, maskedBm25Ranker, tfidfRanker } from "./quality/baselines.js";
import { benchContext, report } from "./support.js";

const K = 3;
const INDEXES = ["lance", "postgres"] as const;

function row(name: string, f: KindFigures, withRecallFigures: boolean): string {
  const cells = [f.at1, f.at3, f.mrr10].map((x) => x.toFixed(3).padStart(6));
  const extra = withRecallFigures
    ? `${(f.abstained * 100).toFixed(1).padStart(6)} %  ${f.p50Ms.toFixed(2).padStart(7)} ms`
    : `${"–".padStart(8)}  ${"–".padStart(10)}`;
  return `  ${name.padEnd(22)} ${f.kind.padEnd(24)} ${cells.join(" ")}  ${extra}`;
}

/**
 * Recall quality on the analogue dev set (data/analogues): a bank of GSM8K train + test, the 320 rewrites
 * (paraphrase, variant) and 150 off-topic queries, k = 3, on each index; beside it the simple lexical
 * baselines on the same bank. `npm run bench quality [--embeddings openai]` (openai: the test server's
 * bag-of-words vectors over real HTTP, to show the lexical evidence holds whatever the embedder).
 */
export async function benchQuality(args: string[] = []) {
  const viaOpenAI = args.includes("--embeddings") && args[args.indexOf("--embeddings") + 1] === "openai";
  const fake = viaOpenAI ? await startFakeOpenAI({ seed: 1 }) : undefined;
  const { dev, offTopic } = analogueQueries();
  const figures = [];
  const recall: Record<string, KindFigures[]> = {};
  let texts: string[] = [];
  try {
    for (const index of INDEXES) {
      const embedder: Embedder | undefined = fake
        ? await createOpenAIEmbedder({ model: "fake-embed", baseURL: fake.url, dimensions: 384 })
        : undefined;
      const ctx = await benchContext({ index, embedder });
      try {
        const bank = await createBank({ ctx, input: { id: "gsm8k", domain: "number" } });
        await seedGsm8kTrainAndTest(ctx, bank);
        if (texts.length === 0) {
          const rows = await queryRows<{ problem: string }>(
            ctx.db,
            sql`select problem from memories order by seq`,
          );
          texts = rows.map((r) => r.problem);
        }
        const ranker = recallRanker(ctx, bank, K);
        await evaluateRanker(ranker, dev.slice(0, 20)); // warm: the lexicon is built on the first recall
        const atK = await evaluateRanker(ranker, [...dev, ...offTopic]);
        const mrr = await evaluateRanker(recallRanker(ctx, bank, 10), dev);
        recall[index] = atK.map((f) => ({
          ...f,
          mrr10: mrr.find((m) => m.kind === f.kind)?.mrr10 ?? f.mrr10,
        }));
      } finally {
        await ctx.close();
      }
    }
  } finally {
    await fake?.close();
  }
  const baselines: [string, KindFigures[]][] = [
    ["TF-IDF word+bigram", await evaluateRanker(tfidfRanker(texts), dev)],
    ["BM25 word+bigram", await evaluateRanker(bm25Ranker(texts), dev)],
    ["BM25 masked", await evaluateRanker(maskedBm25Ranker(texts), dev)],
  ];

  console.log(
    `\nrecall quality: ${texts.length.toLocaleString()} GSM8K train + test problems, k = ${K}, embedder ${viaOpenAI ? "openai (test server)" : "local"}`,
  );
  console.log(`  ${"ranker".padEnd(22)} ${"kind".padEnd(24)}     @1     @3 MRR@10  abstained  recall p50`);
  for (const index of INDEXES)
    for (const f of recall[index] ?? []) console.log(row(`precedent (${index})`, f, true));
  for (const [name, fs] of baselines) for (const f of fs) console.log(row(name, f, false));

  for (const index of INDEXES) {
    const of = (kind: string) => (recall[index] ?? []).find((f) => f.kind === kind) as KindFigures;
    const best = (kind: string, at: "at1" | "at3") =>
      Math.max(...baselines.map(([, fs]) => (fs.find((f) => f.kind === kind) as KindFigures)[at]));
    const label = (s: string) => `  ${index}: ${s}`;
    figures.push(
      report(label("paraphrase @1"), of("paraphrase").at1, "", { op: "≥", value: 0.99 }, 3),
      report(label("variant @1"), of("variant").at1, "", { op: "≥", value: 0.87 }, 3),
      report(label("variant @3"), of("variant").at3, "", { op: "≥", value: 0.95 }, 3),
    );
    for (const kind of ["paraphrase", "variant"]) {
      for (const at of ["at1", "at3"] as const) {
        figures.push(
          report(
            label(`${kind} ${at === "at1" ? "@1" : "@3"} − best baseline`),
            of(kind)[at] - best(kind, at),
            "",
            { op: "≥", value: -0.01 },
            3,
          ),
        );
      }
    }
    const offTopicFigures = (recall[index] ?? []).filter((f) => f.kind.startsWith("off-topic"));
    const offAbstained =
      offTopicFigures.reduce((s, f) => s + f.abstained * f.n, 0) /
      offTopicFigures.reduce((s, f) => s + f.n, 0);
    const devAbstained =
      (of("paraphrase").abstained * of("paraphrase").n + of("variant").abstained * of("variant").n) /
      dev.length;
    figures.push(
      report(label("off-topic abstained"), offAbstained, "", { op: "≥", value: 0.95 }, 3),
      report(label("dev set abstained"), devAbstained, "", { op: "≤", value: 0.01 }, 3),
    );
  }
  return figures;
}
