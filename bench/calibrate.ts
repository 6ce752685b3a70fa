import { z } from "zod";
import { createBank } from "../src/memory/banks.js";
import { memoryEvidence, queryEvidence } from "../src/memory/lexical/evidence.js";
import { MATCH_WEIGHTS, type MatchFeature, matchFeatures } from "../src/memory/lexical/match.js";
import { recallAnalogues } from "../src/memory/recall.js";
import { analogueQueries, seedGsm8kTrainAndTest } from "../test/support/analogues.js";
import { GSM8K_TEST, readJsonl } from "../test/support/data.js";
import { benchContext } from "./support.js";

const POSITIVES = 400;
const FOLDS = 5;
const NAMES = Object.keys(MATCH_WEIGHTS).filter((n) => n !== "bias") as MatchFeature[];

type Example = { x: number[]; y: 0 | 1 };

/** Logistic regression, classes weighted equally, inputs standardized; returns weights on raw inputs. */
function fitLogistic(examples: Example[], l2 = 1e-3, steps = 4000, rate = 2): { bias: number; w: number[] } {
  const d = NAMES.length;
  const mean = Array.from(
    { length: d },
    (_, j) => examples.reduce((s, e) => s + (e.x[j] as number), 0) / examples.length,
  );
  const sd = mean.map(
    (m, j) =>
      Math.sqrt(examples.reduce((s, e) => s + ((e.x[j] as number) - m) ** 2, 0) / examples.length) || 1,
  );
  const z = examples.map((e) => e.x.map((v, j) => (v - (mean[j] as number)) / (sd[j] as number)));
  const positives = examples.filter((e) => e.y === 1).length;
  const weightOf = (y: number) => 0.5 / (y === 1 ? positives : examples.length - positives);
  let w = new Array<number>(d).fill(0);
  let b = 0;
  for (let step = 0; step < steps; step++) {
    const g = new Array<number>(d).fill(0);
    let gb = 0;
    z.forEach((x, i) => {
      const y = (examples[i] as Example).y;
      const p = 1 / (1 + Math.exp(-(b + x.reduce((s, v, j) => s + v * (w[j] as number), 0))));
      const e = (p - y) * weightOf(y);
      x.forEach((v, j) => {
        g[j] = (g[j] as number) + e * v;
      });
      gb += e;
    });
    w = w.map((v, j) => v - rate * ((g[j] as number) + l2 * v));
    b -= rate * gb;
  }
  const raw = w.map((v, j) => v / (sd[j] as number));
  return { bias: b - raw.reduce((s, v, j) => s + v * (mean[j] as number), 0), w: raw };
}

const predict = (m: { bias: number; w: number[] }, x: number[]) =>
  m.bias + x.reduce((s, v, j) => s + v * (m.w[j] as number), 0) >= 0;

/**
 * `npm run bench calibrate`: fits recall's match model (src/memory/lexical/match.ts) and prints its
 * weights and what they do at the 0.5 floor, cross-validated, and on the dev set (never fitted on).
 */
export async function benchCalibrate() {
  const ctx = await benchContext({ index: "postgres" });
  try {
    const bank = await createBank({ ctx, input: { id: "gsm8k", domain: "number" } });
    await seedGsm8kTrainAndTest(ctx, bank);
    const { dev, offTopic } = analogueQueries();
    const devOriginals = new Set(dev.map((d) => d.original));
    const test = readJsonl(GSM8K_TEST, z.object({ question: z.string() })).map((r) => r.question);
    const others = test.filter((q) => !devOriginals.has(q));
    const positives = others
      .filter((_, i) => i % Math.floor(others.length / POSITIVES) === 0)
      .slice(0, POSITIVES);

    // the inputs for the memory recall ranks first, its own problem set aside
    const features = async (query: string): Promise<number[] | undefined> => {
      const result = await recallAnalogues({ ctx, bank, query, options: { k: 2, matchFloor: 0 } });
      const top = result.memories.find((m) => !m.exact);
      if (!top) return undefined;
      const view = await ctx.index.lexicon(bank.id);
      const text = view.analyze(query);
      const q = queryEvidence(view.lexicon, text, view.lexicon.search(text, 16));
      const f = matchFeatures(q, memoryEvidence(view.lexicon, q, view.analyze(top.problem)));
      return NAMES.map((n) => f[n]);
    };
    const examples: Example[] = [];
    for (const q of positives) {
      const x = await features(q);
      if (x) examples.push({ x, y: 1 });
    }
    for (const q of offTopic) {
      const x = await features(q.query);
      if (x) examples.push({ x, y: 0 });
    }
    let offKept = 0;
    let positivesDropped = 0;
    for (let fold = 0; fold < FOLDS; fold++) {
      const model = fitLogistic(examples.filter((_, i) => i % FOLDS !== fold));
      examples.forEach((e, i) => {
        if (i % FOLDS !== fold) return;
        const kept = predict(model, e.x);
        if (e.y === 0 && kept) offKept++;
        if (e.y === 1 && !kept) positivesDropped++;
      });
    }
    const model = fitLogistic(examples);
    let devDropped = 0;
    for (const d of dev) {
      const x = await features(d.query);
      if (!x || !predict(model, x)) devDropped++;
    }
    const nOff = examples.filter((e) => e.y === 0).length;
    const nPos = examples.length - nOff;
    console.log(
      "\nmatch model fitted on",
      nPos,
      "GSM8K test problems (own memory aside) and",
      nOff,
      "off-topic queries",
    );
    console.log(
      `  weights: { bias: ${model.bias.toFixed(3)}, ${NAMES.map((n, j) => `${n}: ${(model.w[j] as number).toFixed(3)}`).join(", ")} }`,
    );
    console.log(
      `  at match ≥ 0.5, ${FOLDS}-fold cross-validated: off-topic abstained ${(1 - offKept / nOff).toFixed(3)}, ` +
        `new in-domain problems abstained ${(positivesDropped / nPos).toFixed(3)}; ` +
        `dev set (not fitted on) abstained ${(devDropped / dev.length).toFixed(3)}`,
    );
    return [];
  } finally {
    await ctx.close();
  }
}
