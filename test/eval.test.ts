import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memories, runRecalls } from "../src/db/schema.js";
import { type ArmName, DEFAULT_ARMS, type PerArm } from "../src/eval/arms.js";
import { formatSummary } from "../src/eval/format.js";
import type { EvalOptions } from "../src/eval/options.js";
import { writeEvalReport } from "../src/eval/report.js";
import { type EvalResult, runEvaluation } from "../src/eval/runEvaluation.js";
import {
  binomialHalfCdf,
  mcnemarExact,
  pairedBootstrap,
  pairedSignTest,
  wilsonInterval,
} from "../src/eval/statistics.js";
import { compareArms } from "../src/eval/summarize.js";
import { listBanks } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
import { cliEnvironment, runCli } from "./support/cli.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { DATA_DIR } from "./support/data.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";
import {
  EXAMPLE_AWARE,
  familyOf,
  familyStream,
  PROMPT_INDEPENDENT,
  type Problem,
  SEEDED,
  SPLIT,
  SPLIT_FIELDS,
  splitFile,
} from "./support/familyProblems.js";

const t = useTestContext({ shared: true });

/** What the evaluation holds for an arm it ran (it fails the test when the arm is missing). */
function armOf<T>(perArm: PerArm<T>, arm: ArmName): T {
  const value = perArm[arm];
  if (value === undefined) throw new Error(`no ${arm} arm`);
  return value;
}
const work = mkdtempSync(join(tmpdir(), "precedent-eval-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function evaluate(
  fake: FakeOpenAI,
  bankId: string,
  split: Problem[],
  options: Partial<EvalOptions> = {},
): Promise<EvalResult> {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: bankId, domain: "number" }, SEEDED);
  return runEvaluation({
    ctx,
    options: {
      bank: bankId,
      from: splitFile(mkdtempSync(join(work, "split-")), split),
      fields: SPLIT_FIELDS,
      dataDir: DATA_DIR,
      samples: 8,
      ...options,
    },
  });
}

describe("statistics", () => {
  it("computes the Wilson 95% interval of known proportions", () => {
    const w = wilsonInterval(8, 10);
    expect(w.rate).toBe(0.8);
    expect(w.low).toBeCloseTo(0.4902, 4);
    expect(w.high).toBeCloseTo(0.9433, 4);
    const none = wilsonInterval(0, 20);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.1611, 4);
    expect(wilsonInterval(0, 0)).toMatchObject({ low: 0, high: 1 });
  });

  it("computes McNemar's exact p from the discordant pairs", () => {
    // 10 vs 2 discordant: 2 · P(X ≤ 2), X ~ Bin(12, 1/2) = 2 · 79/4096
    expect(mcnemarExact(10, 2)).toBeCloseTo(0.0385742, 6);
    expect(mcnemarExact(2, 10)).toBeCloseTo(0.0385742, 6);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(6, 0)).toBeCloseTo(0.03125, 6);
    expect(binomialHalfCdf(1500, 3000)).toBeGreaterThan(0.5);
    expect(binomialHalfCdf(1500, 3000)).toBeLessThan(0.52);
  });

  it("tests paired scores per problem and bootstraps the difference reproducibly", () => {
    const a = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0];
    const b = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0];
    expect(pairedSignTest(a, b)).toEqual({ aBetter: 10, bBetter: 2, ties: 2, pValue: mcnemarExact(10, 2) });
    // shares of repetitions right count once per problem, ties drop out
    expect(pairedSignTest([1, 0.5, 2 / 3], [0.5, 0.5, 1])).toMatchObject({ aBetter: 1, bBetter: 1, ties: 1 });
    const d = a.map((x, i) => x - (b[i] as number));
    const once = pairedBootstrap(d, { seed: 1 });
    expect(pairedBootstrap(d, { seed: 1 })).toEqual(once);
    expect(once.estimate).toBeCloseTo(8 / 14, 10);
    expect(once.low).toBeGreaterThan(0);
    expect(once.high).toBeLessThanOrEqual(1);
  });
});

describe("an evaluation against a model that does better with a same-family example", () => {
  let fake: FakeOpenAI;
  let result: EvalResult;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ seed: 11, behavior: EXAMPLE_AWARE });
    result = await evaluate(fake, "arith", SPLIT, { seeds: 2, shuffle: true });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("shows the memory arm above the control arm, significantly, learning families the bank lacked", async () => {
    expect(result.stream).toMatchObject({ evaluated: 36, leaked: 0, duplicates: 0, rejected: [] });
    expect(result.records).toHaveLength(72);
    expect(armOf(result.arms, "memory").accuracy.mean).toBeGreaterThan(
      armOf(result.arms, "control").accuracy.mean + 0.2,
    );
    const primary = result.comparisons.find((c) => c.a === "memory" && c.b === "control");
    expect(primary?.significant).toBe(true);
    expect(primary?.test.pValue).toBeLessThan(0.01);
    expect(primary?.difference.low).toBeGreaterThan(0);
    // the families the seeded bank lacks: the static arm never has an example of them (it may show an
    // analogue of another family), while the memory arm has one from its first right answer of the family
    // on (its gold-verified write-back)
    const recalledIds = result.records.flatMap((r) => [
      ...armOf(r.arms, "static").recalled,
      ...armOf(r.arms, "memory").recalled,
    ]);
    const rows = await t.ctx().db.select().from(memories).where(inArray(memories.id, recalledIds));
    const familyOfMemory = new Map(rows.map((m) => [m.id, familyOf(m.problem)]));
    const shows = (ids: string[], family: string) => ids.some((id) => familyOfMemory.get(id) === family);
    for (const seed of [1, 2]) {
      for (const family of ["3", "4", "5"]) {
        const rs = result.records.filter((r) => r.seed === seed && familyOf(r.problem.problem) === family);
        expect(rs.some((r) => shows(armOf(r.arms, "static").recalled, family))).toBe(false);
        const first = rs.findIndex((r) => armOf(r.arms, "memory").correct);
        if (first >= 0)
          expect(rs.slice(first + 1).every((r) => shows(armOf(r.arms, "memory").recalled, family))).toBe(
            true,
          );
      }
    }
    // the arms saw the same problems in the same order; the repetitions in different orders
    for (const r of result.records)
      expect(new Set(DEFAULT_ARMS.map((a) => armOf(r.arms, a).runId)).size).toBe(3);
    const order = (seed: number) => result.records.filter((r) => r.seed === seed).map((r) => r.problem.index);
    expect(order(1)).not.toEqual(order(2));
    expect([...order(1)].sort((x, y) => x - y)).toEqual([...order(2)].sort((x, y) => x - y));
    // the control arm never shows an example; cost and curves are reported per arm
    expect(result.records.every((r) => armOf(r.arms, "control").recalled.length === 0)).toBe(true);
    for (const arm of DEFAULT_ARMS) {
      const s = armOf(result.arms, arm);
      expect(s.curve.cumulative).toHaveLength(36);
      expect(s.curve.cumulative.at(-1)).toBeCloseTo(s.accuracy.mean, 3);
      expect(s.samplesPerProblem).toBeGreaterThan(0);
      expect(s.tokensPerProblem.total).toBeGreaterThan(0);
      expect(s.accuracy.perSeed).toHaveLength(2);
    }
  });

  it("keeps the static arm away from the memory arm's write-backs, and the evaluated bank untouched", async () => {
    const db = t.ctx().db;
    const written = result.records.flatMap((r) => {
      const wrote = armOf(r.arms, "memory").wrote;
      return wrote ? [wrote] : [];
    });
    expect(written.length).toBeGreaterThan(10);
    const recalledBy = async (arm: "memory" | "static") => {
      const runIds = result.records.map((r) => armOf(r.arms, arm).runId);
      const rows = await db.select().from(runRecalls).where(inArray(runRecalls.runId, runIds));
      return new Set(rows.map((r) => r.memoryId));
    };
    const staticRecalls = await recalledBy("static");
    expect(staticRecalls.size).toBeGreaterThan(0);
    for (const id of written) expect(staticRecalls.has(id)).toBe(false);
    const staticRows = await db
      .select()
      .from(memories)
      .where(inArray(memories.id, [...staticRecalls]));
    expect(staticRows.every((m) => m.source === "import")).toBe(true);
    const seededProblems = new Set(SEEDED.map((p) => p.problem));
    expect(staticRows.every((m) => seededProblems.has(m.problem))).toBe(true);
    // the memory arm did recall its own write-backs (so the check above is not vacuous)
    const memoryRecalls = await recalledBy("memory");
    expect(written.some((id) => memoryRecalls.has(id))).toBe(true);
    // nothing was written to the static copies or to the evaluated bank
    for (const s of result.scratchBanks) {
      const rows = await db.select().from(memories).where(eq(memories.bankId, s.static));
      expect(rows).toHaveLength(SEEDED.length);
    }
    const original = await db.select().from(memories).where(eq(memories.bankId, "arith"));
    expect(original).toHaveLength(SEEDED.length);
    expect(original.every((m) => m.recalledCount === 0)).toBe(true);
  });

  it("writes result.json and a self-contained report.html with one learning curve per arm", async () => {
    const dir = join(work, "report");
    const paths = await writeEvalReport(result, dir);
    const json = JSON.parse(readFileSync(paths.json, "utf8")) as EvalResult;
    expect(armOf(json.arms, "memory").accuracy.mean).toBe(armOf(result.arms, "memory").accuracy.mean);
    expect(json.comparisons).toHaveLength(3);
    expect(json.records[0]?.arms.memory?.runId).toMatch(/^run_/);
    const html = readFileSync(paths.html, "utf8");
    const cumulative = html.match(/<svg id="curve-cumulative"[\s\S]*?<\/svg>/)?.[0] ?? "";
    for (const arm of DEFAULT_ARMS) {
      expect(cumulative.match(new RegExp(`<polyline class="curve" data-arm="${arm}"`, "g"))).toHaveLength(1);
    }
    expect(cumulative.match(/<polyline /g)).toHaveLength(3);
    const points = cumulative.match(/data-arm="memory"[^>]*points="([^"]*)"/)?.[1]?.split(" ") ?? [];
    expect(points).toHaveLength(36);
    // no external asset: no src or href attributes, no script
    expect(html).not.toMatch(/\s(src|href)=/);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("memory vs control");
  });
});

describe("an evaluation against a model that ignores the prompt", () => {
  let fake: FakeOpenAI;
  afterAll(async () => {
    await fake?.close();
  });

  it("finds no significant difference between the arms: it does not invent gains", async () => {
    fake = await startFakeOpenAI({ seed: 23, behavior: PROMPT_INDEPENDENT });
    const result = await evaluate(fake, "arith-null", SPLIT, { seeds: 2, shuffle: true });
    // memory vs control is the question asked; the other pairs are reported too, each at α = 0.05
    const primary = result.comparisons.find((c) => c.a === "memory" && c.b === "control");
    expect(primary?.significant).toBe(false);
    expect(primary?.test.pValue).toBeGreaterThan(0.05);
    expect(primary?.difference.low).toBeLessThan(0);
    expect(primary?.difference.high).toBeGreaterThan(0);
    // the memory arm still wrote back and recalled: the examples just do not matter to this model
    expect(result.records.some((r) => armOf(r.arms, "memory").wrote)).toBe(true);
  });
});

describe("an evaluation of prompting strategies", () => {
  let fake: FakeOpenAI;
  afterAll(async () => {
    await fake?.close();
  });

  it("finds each strategy's gain on the family it helps and none where it does not, Holm-adjusted", async () => {
    // apples (0) and trains (1) are helped by worked examples, pencils (2) by a stated principle, cookies
    // (3) by analogies the model writes itself; the seeded bank knows apples, trains and pencils
    const split = [...familyStream([2], 12), ...familyStream([3], 12), ...familyStream([0], 12)];
    const answers = new Map(split.map((p) => [p.problem, p.answer]));
    fake = await startFakeOpenAI({
      seed: 41,
      behavior: {
        kind: "strategyAware",
        answerFor: (q) => answers.get(q) ?? "0",
        family: familyOf,
        principleFor: () => "Principle: take away what is given away from what there was.",
        accuracy: { plain: 0.2, withExample: 0.9, withPrinciple: 0.9, withAnalogies: 0.9 },
        helpedBy: { example: ["0", "1"], principle: ["2"], analogies: ["3"] },
        // wrong samples agree on one wrong answer, so an unhelped arm is wrong most of the time
        wrongAnswer: (q) => String(Number(answers.get(q) ?? 0) + 1),
      },
    });
    const result = await evaluate(fake, "arith-strategies", split, {
      arms: ["static", "control", "step-back", "analogical"],
      samples: 4,
      adaptive: false,
    });
    expect(Object.keys(result.arms).sort()).toEqual(["analogical", "control", "static", "step-back"]);
    // more than two arms: every verdict uses the Holm-adjusted p, never below the raw one
    for (const c of result.comparisons) expect(c.pAdjusted).toBeGreaterThanOrEqual(c.test.pValue);
    expect(formatSummary(result)).toContain("Holm-adjusted");
    const onFamily = (family: string) => result.records.filter((r) => familyOf(r.problem.problem) === family);
    const compare = (a: ArmName, b: ArmName, family: string) => compareArms(a, b, onFamily(family), 0.05);
    // step-back beats exemplars alone on pencils; on apples the examples do the work either way
    const stepBackPencils = compare("step-back", "static", "2");
    expect(stepBackPencils.difference.estimate).toBeGreaterThan(0.4);
    expect(stepBackPencils.test.pValue).toBeLessThan(0.01);
    expect(compare("step-back", "static", "0").significant).toBe(false);
    // analogical beats exemplars on cookies (the bank has no cookie problem); on apples it is no better than no help
    const analogicalCookies = compare("analogical", "static", "3");
    expect(analogicalCookies.difference.estimate).toBeGreaterThan(0.4);
    expect(analogicalCookies.test.pValue).toBeLessThan(0.01);
    expect(compare("analogical", "control", "0").significant).toBe(false);
  });
});

describe("the leakage guard", () => {
  it("skips and counts problems the bank already holds, and repeats, before applying the limit", async () => {
    const fake = await startFakeOpenAI({ seed: 5, behavior: PROMPT_INDEPENDENT });
    try {
      const fresh = familyStream([0, 3], 3);
      const leaked = [
        SEEDED[0] as Problem,
        // the same problem up to case and spacing is the same problem
        { ...(SEEDED[1] as Problem), problem: `  ${(SEEDED[1] as Problem).problem.toUpperCase()}` },
        SEEDED[2] as Problem,
      ];
      const split = [
        leaked[0],
        fresh[0],
        leaked[1],
        fresh[1],
        fresh[1],
        leaked[2],
        ...fresh.slice(2),
      ] as Problem[];
      const result = await evaluate(fake, "arith-leak", split, { limit: 4, samples: 4, discard: true });
      expect(result.stream).toMatchObject({ leaked: 3, duplicates: 1, evaluated: 4, read: 8 });
      const seeded = new Set(SEEDED.map((p) => p.problem.toLowerCase().trim()));
      for (const r of result.records) expect(seeded.has(r.problem.problem.toLowerCase().trim())).toBe(false);
      expect(result.records.map((r) => r.problem.problem)).toEqual(fresh.slice(0, 4).map((p) => p.problem));
      // --discard: the scratch banks are gone, the evaluated bank stays
      const banks = (await listBanks(t.ctx().db)).map((bank) => bank.id);
      expect(banks).toContain("arith-leak");
      expect(result.scratchBanks[0]?.discarded).toBe(true);
      expect(banks).not.toContain(result.scratchBanks[0]?.memory);
      expect(banks).not.toContain(result.scratchBanks[0]?.static);
    } finally {
      await fake.close();
    }
  });
});

describe("precedent eval", () => {
  let fake: FakeOpenAI;
  let place: Awaited<ReturnType<typeof cliEnvironment>>;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ seed: 3, behavior: EXAMPLE_AWARE });
    place = await cliEnvironment();
  });
  afterAll(async () => {
    await fake?.close();
    await place?.drop();
  });

  it("runs the arms as a real process against an OpenAI-compatible endpoint and writes its report", async () => {
    const bankFile = join(place.home, "bank.jsonl");
    writeFileSync(bankFile, SEEDED.map((p) => JSON.stringify(p)).join("\n"));
    expect((await runCli(["seed", "arith", "--from", bankFile], place.env)).code).toBe(0);
    const split = splitFile(place.home, SPLIT);
    const out = join(place.home, "out");
    const args = [
      "eval",
      "--bank",
      "arith",
      "--from",
      split,
      "--question-field",
      "question",
      "--answer-field",
      "final",
    ];

    const noModel = await runCli(args, place.env);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain("precedent eval: no model is configured: set PRECEDENT_MODEL");

    const run = await runCli(
      [...args, "--limit", "6", "--samples", "4", "--seeds", "2", "--shuffle", "--out", out],
      {
        ...place.env,
        PRECEDENT_MODEL: "fake-model",
        OPENAI_BASE_URL: fake.url,
      },
    );
    expect(run.stderr).toMatch(/^eval: 6 problems × 2 repetitions; leakage guard skipped 0/m);
    expect(run.stderr).toMatch(/^eval: \[2\] 6\/6 memory [✓✗] static [✓✗] control [✓✗]/m);
    expect(run.code).toBe(0);
    for (const arm of DEFAULT_ARMS) expect(run.stdout).toMatch(new RegExp(`^${arm} +\\d\\.\\d{3} +\\[`, "m"));
    expect(run.stdout).toContain("memory vs control:");
    expect(run.stdout).toContain(join(out, "report.html"));
    const json = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as EvalResult;
    expect(json).toMatchObject({ bank: "arith", model: "fake-model", stream: { evaluated: 6 } });
    expect(json.records).toHaveLength(12);
    expect(json.scratchBanks.map((b) => b.memory)).toEqual([
      expect.stringMatching(/^arith--eval-[0-9a-f]{6}-s1-memory$/),
      expect.stringMatching(/^arith--eval-[0-9a-f]{6}-s2-memory$/),
    ]);
    expect(existsSync(join(out, "report.html"))).toBe(true);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain('<svg id="curve-cumulative"');
  });
});
