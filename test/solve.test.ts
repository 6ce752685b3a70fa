import { readFileSync } from "node:fs";
import { and, count, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memories } from "../src/db/schema.js";
import { domainOf } from "../src/domains/domain.js";
import { solveGame24 } from "../src/domains/game24.js";
import type { Bank } from "../src/memory/banks.js";
import { recallAnalogues } from "../src/memory/recall.js";
import type { MemoryStatus } from "../src/memory/trust.js";
import { createModelClient } from "../src/reasoning/model.js";
import { solve } from "../src/reasoning/pipeline.js";
import { getRun } from "../src/reasoning/runs.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { GSM8K_TEST, GSM8K_TRAIN } from "./support/data.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
let fake: FakeOpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI({ seed: 7 });
  t.ctx().model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
});
afterEach(async () => {
  await fake.close();
});

const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { question: string; answer: string });
const goldOf = (answer: string) => answer.match(/####\s*(.+)$/)?.[1]?.trim() as string;
const train = readJsonl(GSM8K_TRAIN).slice(0, 300);
const test = readJsonl(GSM8K_TEST);

async function gsm8kBank(): Promise<Bank> {
  return bankWithProblems(
    t.ctx(),
    { id: "gsm8k", domain: "number" },
    train.map((r) => ({
      problem: r.question,
      reasoning: r.answer.replace(/\n####.*$/, ""),
      answer: goldOf(r.answer),
    })),
  );
}

async function memoryCount(bankId: string, status?: MemoryStatus) {
  const [row] = await t
    .ctx()
    .db.select({ n: count() })
    .from(memories)
    .where(and(eq(memories.bankId, bankId), status ? eq(memories.status, status) : undefined));
  return row?.n ?? 0;
}

/** A GSM8K test question (the `skip`-th such) with at least two analogues among the seeded problems. */
async function questionWithAnalogues(bank: Bank, skip: number): Promise<{ query: string; gold: string }> {
  let seen = 0;
  for (const row of test) {
    const r = await recallAnalogues({ ctx: t.ctx(), bank, query: row.question });
    if (r.memories.length >= 2 && seen++ === skip) return { query: row.question, gold: goldOf(row.answer) };
  }
  throw new Error("no test question has analogues in the seeded bank");
}

const chatRequests = () => fake.requests.filter((r) => r.path === "/v1/chat/completions");

describe("solving with memory, end to end", () => {
  it("recalls seeded memories, injects them, votes, verifies against gold and writes back one memory", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    const { query, gold } = await questionWithAnalogues(bank, 0);
    fake.setBehavior({ kind: "answers", answerFor: () => gold, accuracy: 0.8 });
    const before = await memoryCount("gsm8k");

    const result = await solve({ ctx, bank, query, options: { gold, samples: 8 } });

    expect(result).toMatchObject({ status: "completed", verification: "gold", verdict: "correct" });
    expect(result.answerCanonical).toBe(domainOf("number").canonicalize(gold));
    expect(result.recalled.length).toBeGreaterThanOrEqual(2);
    expect(await memoryCount("gsm8k")).toBe(before + 1);
    expect(result.writtenMemory).toMatchObject({ action: "created", status: "active" });

    const [written] = await ctx.db
      .select()
      .from(memories)
      .where(eq(memories.id, result.writtenMemory?.memoryId as string));
    expect(written).toMatchObject({
      problem: query,
      source: "run",
      runId: result.runId,
      model: "fake-model",
      verification: "gold",
      status: "active",
      answerCanonical: result.answerCanonical,
    });
    expect(written?.reasoning).not.toMatch(/####/);

    // the exact messages the model saw are the stored prompt, with each recalled memory as a worked example
    const run = await getRun(ctx.db, result.runId);
    const sent = chatRequests()[0]?.body as { messages: { role: string; content: string }[] };
    expect(run?.prompt).toEqual(sent.messages);
    expect(sent.messages.at(-1)).toEqual({ role: "user", content: query });
    const recalledRows = await ctx.db.select().from(memories).where(eq(memories.bankId, "gsm8k"));
    for (const recall of result.recalled) {
      const m = recalledRows.find((r) => r.id === recall.memoryId);
      const at = sent.messages.findIndex((msg) => msg.role === "user" && msg.content === m?.problem);
      expect(at).toBeGreaterThan(0);
      expect(sent.messages[at + 1]).toEqual({
        role: "assistant",
        content: `${m?.reasoning}\n#### ${m?.answer}`,
      });
      expect(m).toMatchObject({ recalledCount: 1, helpedCount: 1, hurtCount: 0 });
    }

    // the run shows every recall with its scores and every sample with its answer and confidence
    expect(run?.recalls).toEqual(result.recalled);
    expect(run?.samples).toHaveLength(result.samples);
    expect(result.samples).toBeGreaterThanOrEqual(3);
    for (const s of run?.samples ?? []) {
      expect(s.text).toMatch(/#### /);
      expect(s.answerCanonical).toBeDefined();
      expect(s.confidence).toBeGreaterThan(0);
      expect(s.tokens).toBeGreaterThan(0);
    }
    expect(run).toMatchObject({ verdict: "correct", writtenMemoryId: result.writtenMemory?.memoryId });
    expect(Object.keys(run?.timings ?? {})).toEqual(
      expect.arrayContaining(["recallMs", "promptMs", "sampleMs", "verifyMs", "writeBackMs", "totalMs"]),
    );
    expect(run?.usage).toMatchObject({
      promptTokens: expect.any(Number),
      completionTokens: expect.any(Number),
    });
  });

  it("answers a problem it holds with a trusted answer from memory, without calling the model", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    const result = await solve({ ctx, bank, query: train[5]?.question as string });
    expect(result).toMatchObject({
      status: "memory_hit",
      verdict: "correct",
      answer: goldOf(train[5]?.answer as string),
    });
    expect(chatRequests()).toHaveLength(0);
  });

  it("solves with zero examples when nothing in memory is close enough, same scaffold", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    fake.setBehavior({ kind: "fixed", content: "Paris is the capital.\n#### 1" });
    const result = await solve({
      ctx,
      bank,
      query: "What is the capital of France?",
      options: { samples: 3 },
    });
    expect(result.recalled).toEqual([]);
    const sent = chatRequests()[0]?.body as { messages: { role: string; content: string }[] };
    expect(sent.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(sent.messages[0]?.content).toContain("#### <number>");
  });
});

describe("what gets written back", () => {
  it("never makes a wrong-but-consistent answer active without a verifier above consensus, and never recalls it", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    const { query, gold } = await questionWithAnalogues(bank, 1);
    fake.setBehavior({ kind: "fixed", content: "I am sure.\n#### 999999" });
    const first = await solve({ ctx, bank, query, options: { samples: 8 } });
    expect(first).toMatchObject({ verification: "consensus", verdict: "correct", answerCanonical: "999999" });
    expect(first.writtenMemory).toMatchObject({ action: "created", status: "quarantined" });
    expect(await memoryCount("gsm8k", "quarantined")).toBe(1);

    const recall = await recallAnalogues({ ctx, bank, query });
    expect(recall.memories.map((m) => m.id)).not.toContain(first.writtenMemory?.memoryId);

    // with the gold answer known, the same consistent model is refuted and nothing new is written
    const refuted = await solve({
      ctx,
      bank,
      query,
      options: { samples: 8, gold },
    });
    expect(refuted).toMatchObject({ verification: "gold", verdict: "incorrect" });
    expect(refuted.writtenMemory).toBeUndefined();
    expect(await memoryCount("gsm8k", "active")).toBe(300);
    const hurt = await ctx.db
      .select()
      .from(memories)
      .where(eq(memories.id, refuted.recalled[0]?.memoryId as string));
    expect(refuted.recalled.length).toBeGreaterThan(0);
    expect(hurt[0]?.hurtCount).toBe(1);
  });

  it("writes a Game of 24 solution the checker accepts as an active memory", async () => {
    const ctx = t.ctx();
    const puzzles = [
      [4, 9, 10, 13],
      [1, 1, 4, 6],
      [2, 3, 5, 12],
    ];
    const bank = await bankWithProblems(
      ctx,
      { id: "g24", domain: "game24" },
      puzzles.map((n) => ({
        problem: `Use the numbers ${n.join(" ")} exactly once each, with + - * / and parentheses, to make 24.`,
        answer: solveGame24(n)?.expression as string,
        verification: "checker",
      })),
    );
    const query = "Use the numbers 3 3 8 8 exactly once each, with + - * / and parentheses, to make 24.";
    fake.setBehavior({
      kind: "fixed",
      content: "8 / 3 = 8/3\n3 - 8/3 = 1/3\n8 / (1/3) = 24\nAnswer: 8 / (3 - 8 / 3)",
    });
    const result = await solve({ ctx, bank, query, options: { samples: 4 } });
    expect(result).toMatchObject({ verification: "checker", verdict: "correct", answer: "8 / (3 - 8 / 3)" });
    expect(result.writtenMemory).toMatchObject({ action: "created", status: "active" });
  });

  it("adds support to the memory of the same problem instead of writing a copy", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    const query = test[8]?.question as string;
    const gold = goldOf(test[8]?.answer as string);
    fake.setBehavior({ kind: "answers", answerFor: () => gold, accuracy: 1 });
    const first = await solve({ ctx, bank, query, options: { samples: 4, gold } });
    const second = await solve({
      ctx,
      bank,
      query: `  ${query.toUpperCase()} `,
      options: { samples: 4, gold },
    });
    expect(first.writtenMemory).toMatchObject({ action: "created" });
    expect(second.writtenMemory).toMatchObject({
      action: "supported",
      memoryId: first.writtenMemory?.memoryId,
    });
    const [m] = await ctx.db
      .select()
      .from(memories)
      .where(eq(memories.id, first.writtenMemory?.memoryId as string));
    expect(m?.supportCount).toBe(2);
  });
});

describe("failures", () => {
  it("records a failed run with the endpoint's reason when the model keeps failing", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    fake.failNext(10, 500);
    const result = await solve({ ctx, bank, query: test[1]?.question as string, options: { samples: 4 } });
    expect(result.status).toBe("failed");
    expect(result.reason).toMatch(/^the model endpoint failed: /);
    expect((await getRun(ctx.db, result.runId))?.status).toBe("failed");
  });

  it("refuses to solve without a model and says what to set", async () => {
    const ctx = t.ctx();
    const bank = await gsm8kBank();
    ctx.model = undefined;
    await expect(solve({ ctx, bank, query: "x" })).rejects.toThrow(/set PRECEDENT_MODEL/);
  });
});
