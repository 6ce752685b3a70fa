import { beforeAll, describe, expect, it } from "vitest";
import { createBank } from "../src/memory/banks.js";
import {
  type AnalogueQuery,
  analogueQueries,
  evaluateRanker,
  type KindFigures,
  recallRanker,
  seedGsm8kTrainAndTest,
} from "./support/analogues.js";
import { INDEX_KINDS, useTestContext } from "./support/context.js";

// Floors a little under what `npm run bench quality` measures (paraphrase @1 0.994, variant @1 0.912 and
// @3 0.956, off-topic abstained 0.987, dev set 0.003), so a regression of recall fails the suite.
const FLOORS = { paraphraseAt1: 0.98, variantAt1: 0.89, variantAt3: 0.94, offTopicAbstained: 0.95 };
const MAX_DEV_ABSTAINED = 0.01;

describe.each(INDEX_KINDS)("recall of true analogues over the %s index", (kind) => {
  const t = useTestContext({ shared: true, index: kind });
  const { dev, offTopic } = analogueQueries();
  let figures: KindFigures[] = [];
  const of = (name: string) => figures.find((f) => f.kind === name) as KindFigures;
  const share = (queries: AnalogueQuery[], at: (f: KindFigures) => number) => {
    const kinds = new Set(queries.map((q) => q.kind));
    const fs = figures.filter((f) => kinds.has(f.kind));
    return fs.reduce((s, f) => s + at(f) * f.n, 0) / fs.reduce((s, f) => s + f.n, 0);
  };

  beforeAll(async () => {
    const ctx = t.ctx();
    const bank = await createBank({ ctx, input: { id: "gsm8k", domain: "number" } });
    await seedGsm8kTrainAndTest(ctx, bank);
    figures = await evaluateRanker(recallRanker(ctx, bank, 3), [...dev, ...offTopic]);
  }, 120_000);

  it("finds the problem a paraphrase was written from first", () => {
    expect(of("paraphrase").at1).toBeGreaterThanOrEqual(FLOORS.paraphraseAt1);
  });

  it("finds the problem a variant (new names, numbers, objects, an extra clause) was written from", () => {
    expect(of("variant").at1).toBeGreaterThanOrEqual(FLOORS.variantAt1);
    expect(of("variant").at3).toBeGreaterThanOrEqual(FLOORS.variantAt3);
  });

  it("abstains on questions that are not math word problems, near misses included", () => {
    expect(share(offTopic, (f) => f.abstained)).toBeGreaterThanOrEqual(FLOORS.offTopicAbstained);
    expect(of("off-topic near-miss").abstained).toBeGreaterThanOrEqual(0.9);
  });

  it("hardly ever abstains on a rewritten problem of the bank", () => {
    expect(share(dev, (f) => f.abstained)).toBeLessThanOrEqual(MAX_DEV_ABSTAINED);
  });
});
