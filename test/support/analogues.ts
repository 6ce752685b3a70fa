import { join } from "node:path";
import { z } from "zod";
import { readGsm8k } from "../../seed/gsm8k.js";
import type { Bank } from "../../src/memory/banks.js";
import { importProblems } from "../../src/memory/importProblems.js";
import { problemHash } from "../../src/memory/problemHash.js";
import { recallAnalogues } from "../../src/memory/recall.js";
import type { CallContext } from "../../src/services.js";
import { DATA_DIR, GSM8K_TEST, GSM8K_TRAIN, readJsonl } from "./data.js";

/** The analogue dev set (data/analogues): rewrites of GSM8K test problems, and off-topic queries. */
export const ANALOGUES_DIR = join(DATA_DIR, "analogues");

const devSchema = z.object({
  kind: z.enum(["paraphrase", "variant"]),
  query: z.string(),
  answer: z.string(),
  original: z.number().int(),
});
const offTopicSchema = z.object({ kind: z.string(), query: z.string() });

/** One query of the dev set with the problem it was written from (undefined: off-topic, nothing to find). */
export interface AnalogueQuery {
  kind: string;
  query: string;
  /** the problem the bank should recall first */
  original?: string;
}

/** The 320 rewrites and the 150 off-topic queries, each with the problem text it should recall. */
export function analogueQueries(): { dev: AnalogueQuery[]; offTopic: AnalogueQuery[] } {
  const test = readJsonl(GSM8K_TEST, z.object({ question: z.string() })).map((r) => r.question);
  const dev = readJsonl(join(ANALOGUES_DIR, "dev.jsonl"), devSchema).map((d) => ({
    kind: d.kind,
    query: d.query,
    original: test[d.original] as string,
  }));
  const offTopic = readJsonl(join(ANALOGUES_DIR, "offtopic.jsonl"), offTopicSchema).map((o) => ({
    kind: `off-topic ${o.kind}`,
    query: o.query,
  }));
  return { dev, offTopic };
}

/** Seeds GSM8K train + test (8,792 problems, gold rationales) into the bank. */
export async function seedGsm8kTrainAndTest(ctx: CallContext, bank: Bank): Promise<void> {
  for (const path of [GSM8K_TRAIN, GSM8K_TEST]) {
    await importProblems({ ctx, input: { bankId: bank.id, rows: readGsm8k(path), source: "seed" } });
  }
}

/** Ranked problem texts for a query, and whether the ranker abstained. */
export type Ranker = (query: string) => Promise<{ ranked: string[]; abstained: boolean }>;

/** Recall as a ranker: the problems recallAnalogues gives for a query, best first. */
export function recallRanker(ctx: CallContext, bank: Bank, k: number): Ranker {
  return async (query) => {
    const result = await recallAnalogues({ ctx, bank, query, options: { k } });
    return { ranked: result.memories.map((m) => m.problem), abstained: result.memories.length === 0 };
  };
}

/** Per kind of query: the share with the original first, in the top 3, MRR@10, abstentions, latency. */
export interface KindFigures {
  kind: string;
  n: number;
  at1: number;
  at3: number;
  mrr10: number;
  abstained: number;
  p50Ms: number;
}

/** Runs every query through the ranker and scores it against its original (by normalized problem text). */
export async function evaluateRanker(ranker: Ranker, queries: AnalogueQuery[]): Promise<KindFigures[]> {
  const byKind = new Map<
    string,
    { n: number; at1: number; at3: number; rr: number; abstained: number; ms: number[] }
  >();
  for (const q of queries) {
    const started = performance.now();
    const { ranked, abstained } = await ranker(q.query);
    const ms = performance.now() - started;
    const e = byKind.get(q.kind) ?? { n: 0, at1: 0, at3: 0, rr: 0, abstained: 0, ms: [] };
    byKind.set(q.kind, e);
    e.n++;
    e.ms.push(ms);
    if (abstained) e.abstained++;
    if (q.original === undefined) continue;
    const target = problemHash(q.original);
    const rank = ranked.slice(0, 10).findIndex((p) => problemHash(p) === target) + 1;
    if (rank === 1) e.at1++;
    if (rank >= 1 && rank <= 3) e.at3++;
    if (rank >= 1) e.rr += 1 / rank;
  }
  return [...byKind].map(([kind, e]) => ({
    kind,
    n: e.n,
    at1: e.at1 / e.n,
    at3: e.at3 / e.n,
    mrr10: e.rr / e.n,
    abstained: e.abstained / e.n,
    p50Ms: [...e.ms].sort((a, b) => a - b)[Math.floor(e.ms.length / 2)] as number,
  }));
}
