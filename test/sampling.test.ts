import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { domainOf } from "../src/domains/domain.js";
import type { AdaptiveOptions } from "../src/reasoning/adaptive.js";
import { answerConfidence, type ChainSample, sampleChains } from "../src/reasoning/sample.js";
import { vote } from "../src/reasoning/vote.js";
import {
  type ChatBehavior,
  type FakeOpenAI,
  type FakeOpenAIOptions,
  startFakeOpenAI,
} from "./support/fakeOpenAI.js";

const number = domainOf("number");

const started: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function start(options: FakeOpenAIOptions): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI(options);
  started.push(fake);
  return fake;
}

const clientFor = (fake: FakeOpenAI) => new OpenAI({ baseURL: fake.url, apiKey: "test", maxRetries: 0 });

const ask = (question: string): OpenAI.ChatCompletionMessageParam[] => [
  { role: "system", content: `Solve the problem step by step. ${number.formatInstruction}` },
  { role: "user", content: question },
];

/** Synthetic problems with known answers: "What is 17 plus 25?" → 42, all distinct. */
const problems = Array.from({ length: 500 }, (_, i) => {
  const a = 12 + i;
  const b = 7 + ((i * 37) % 89);
  return { question: `What is ${a} plus ${b}?`, gold: String(a + b) };
});
const answerFor = (question: string) => {
  const [a, b] = (question.match(/\d+/g) ?? []).map(Number);
  return String((a ?? 0) + (b ?? 0));
};
const answers = (accuracy: number): ChatBehavior => ({ kind: "answers", answerFor, accuracy });
const agreeing: ChatBehavior = { kind: "fixed", content: "Add them up.\n#### 42", confidence: 0.8 };
// every request's choices alternate between two answers, so no batch ever has a leader
const splitEvenly: ChatBehavior = { kind: "script", respond: (_, index) => `Hmm.\n#### ${index % 2}` };

const base = { model: "fake-model", messages: ask("What is 17 plus 25?"), domain: number } as const;
const askedN = (fake: FakeOpenAI) => fake.requests.map((r) => (r.body as { n?: number }).n);
const askedLogprobs = (fake: FakeOpenAI) =>
  fake.requests.map((r) => (r.body as { logprobs?: boolean }).logprobs);

describe("batching with n", () => {
  it("asks for 10 samples in batches of 4 as requests of n = 4, 4, 2 with logprobs at the temperature", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 1 });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 10, adaptive: false });
    expect(askedN(fake)).toEqual([4, 4, 2]);
    expect(fake.requests[0]?.body).toMatchObject({ model: "fake-model", temperature: 0.7, logprobs: true });
    expect(result.samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result).toMatchObject({ requests: 3, batches: 3, nSupported: true, logprobsSupported: true });
    expect(result).toMatchObject({ stoppedEarly: false, stopProbability: undefined });
  });

  it("reads each chain's answer, canonical form and token count, and sums the usage", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 2 });
    const result = await sampleChains({
      ...base,
      client: clientFor(fake),
      maxSamples: 6,
      batchSize: 3,
      adaptive: false,
    });
    for (const sample of result.samples) {
      expect(sample.text).toMatch(/\n#### \d+$/);
      expect(sample.answer).toBe(sample.text.split("#### ")[1]);
      expect(sample.answerCanonical).toBe(sample.answer);
      // the fake's tokens are whitespace-led words
      expect(sample.tokens).toBe(sample.text.match(/\s*\S+/g)?.length);
    }
    expect(result.usage.completionTokens).toBe(result.samples.reduce((sum, s) => sum + s.tokens, 0));
    expect(result.usage.promptTokens).toBeGreaterThan(2 * 10);
  });

  it("calls onSample once per sample, in order, as the samples arrive", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 3 });
    const seen: ChainSample[] = [];
    const result = await sampleChains({
      ...base,
      client: clientFor(fake),
      maxSamples: 7,
      adaptive: false,
      onSample: (sample) => seen.push(sample),
    });
    expect(seen).toHaveLength(7);
    expect(seen).toEqual(result.samples);
  });

  it("stops between batches when the signal is aborted, and sends nothing when aborted before", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 4 });
    const controller = new AbortController();
    const run = sampleChains({
      ...base,
      client: clientFor(fake),
      maxSamples: 8,
      adaptive: false,
      signal: controller.signal,
      onSample: () => controller.abort(),
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(fake.requests).toHaveLength(1);
    const again = sampleChains({
      ...base,
      client: clientFor(fake),
      maxSamples: 8,
      adaptive: false,
      signal: controller.signal,
    });
    await expect(again).rejects.toThrow(/abort/i);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("endpoints without n", () => {
  it("fills each batch with single-sample requests, records nSupported false and returns every sample", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 5, supportsN: false });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 6, adaptive: false });
    expect(result.samples).toHaveLength(6);
    // the first request learns that n is ignored; the rest ask for one sample each
    expect(askedN(fake)).toEqual([4, 1, 1, 1, 1, 1]);
    expect(result).toMatchObject({ requests: 6, batches: 2, nSupported: false });
    expect(new Set(result.samples.map((s) => s.text)).size).toBeGreaterThan(1);
  });
});

describe("endpoints without logprobs", () => {
  it("records logprobsSupported false, leaves confidences undefined and the vote unweighted", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 6, supportsLogprobs: false });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 8, adaptive: false });
    expect(result.logprobsSupported).toBe(false);
    expect(result.samples.map((s) => s.confidence)).toEqual(Array(8).fill(undefined));
    expect(vote(result.samples, number).weighted).toBe(false);
    // no logprobs to count tokens with: the reported usage is shared out by length
    const counted = result.samples.reduce((sum, s) => sum + s.tokens, 0);
    expect(Math.abs(counted - result.usage.completionTokens)).toBeLessThanOrEqual(result.samples.length);
  });

  it("retries a request rejected with 400 once without logprobs, and asks for none afterwards", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 7 });
    fake.failNext(1, 400);
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 8, adaptive: false });
    expect(fake.requests.map((r) => r.status)).toEqual([400, 200, 200]);
    expect(askedLogprobs(fake)).toEqual([true, undefined, undefined]);
    expect(result).toMatchObject({ requests: 3, logprobsSupported: false });
    expect(result.samples).toHaveLength(8);
  });

  it("does not retry other failures without logprobs", async () => {
    const fake = await start({ behavior: answers(0.7), seed: 8 });
    fake.failNext(1, 500);
    const run = sampleChains({ ...base, client: clientFor(fake), maxSamples: 4, adaptive: false });
    await expect(run).rejects.toThrow(OpenAI.InternalServerError);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("answer confidence from logprobs", () => {
  const tokens = (pieces: [string, number][]) => pieces.map(([token, logprob]) => ({ token, logprob }));

  it("is the model's probability of the answer token on the fake", async () => {
    const fake = await start({ behavior: agreeing });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 2, adaptive: false });
    for (const sample of result.samples) expect(sample.confidence).toBeCloseTo(0.8, 10);
  });

  it("is higher for right answers than for wrong ones on the fake", async () => {
    const fake = await start({ behavior: answers(0.6), seed: 9 });
    const right: number[] = [];
    const wrong: number[] = [];
    for (const { question, gold } of problems.slice(0, 20)) {
      const result = await sampleChains({
        ...base,
        client: clientFor(fake),
        messages: ask(question),
        maxSamples: 8,
        adaptive: false,
      });
      for (const s of result.samples)
        (s.answerCanonical === gold ? right : wrong).push(s.confidence as number);
    }
    expect(wrong.length).toBeGreaterThan(20);
    // the fake gives right answers 0.75–0.95 and wrong ones 0.25–0.55
    expect(Math.min(...right)).toBeGreaterThan(Math.max(...wrong));
  });

  it("averages the log probabilities of every token of an answer split by the tokenizer", () => {
    const split = tokens([
      ["So", -0.1],
      [" it", -0.1],
      ["\n###", -0.1],
      ["#", -0.1],
      [" 4", Math.log(0.5)],
      ["2", Math.log(0.8)],
    ]);
    expect(answerConfidence(split)).toBeCloseTo(Math.sqrt(0.5 * 0.8), 12);
  });

  it("reads the tokens after an Answer: marker up to the end of its line, without decoration", () => {
    const marked = tokens([
      ["**Answer:**", -0.01],
      [" 7", Math.log(0.6)],
      [".", -3],
      ["\n", -0.01],
      ["Done", -2],
    ]);
    expect(answerConfidence(marked)).toBeCloseTo(0.6, 12);
  });

  it("falls back to the tokens spelling the extracted answer, and is undefined when it cannot find them", () => {
    const unmarked = tokens([
      ["She", -0.1],
      [" has", -0.1],
      [" 12", Math.log(0.7)],
      [" apples", -0.1],
    ]);
    expect(answerConfidence(unmarked, "12")).toBeCloseTo(0.7, 12);
    expect(answerConfidence(unmarked, "13")).toBeUndefined();
    expect(answerConfidence(unmarked)).toBeUndefined();
  });
});

describe("adaptive stopping", () => {
  it("stops after the first batch when every sample agrees", async () => {
    const fake = await start({ behavior: agreeing });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 16, adaptive: {} });
    expect(result).toMatchObject({ requests: 1, batches: 1, stoppedEarly: true });
    // four votes of confidence 0.8 weigh 3.2: P(X > ½) for X ~ Beta(4.2, 1) = 1 − ½^4.2
    expect(result.stopProbability).toBeCloseTo(1 - 0.5 ** 4.2, 6);
    expect(result.samples).toHaveLength(4);
  });

  it("draws up to the cap when the answers stay split", async () => {
    const fake = await start({ behavior: splitEvenly });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 16, adaptive: {} });
    expect(result).toMatchObject({ batches: 4, stoppedEarly: false });
    expect(result.samples).toHaveLength(16);
    expect(result.stopProbability).toBeCloseTo(0.5, 12);
  });

  it("draws the cap without adaptive, however much the samples agree", async () => {
    const fake = await start({ behavior: agreeing });
    const result = await sampleChains({ ...base, client: clientFor(fake), maxSamples: 16, adaptive: false });
    expect(result.samples).toHaveLength(16);
    expect(result.stoppedEarly).toBe(false);
  });
});

describe("adaptive consistency on 500 problems (acceptance)", () => {
  const SEED = 11;

  /** Samples and votes every problem on a fresh fake, one at a time: the fake's draws follow request order. */
  async function runArm(adaptive: false | AdaptiveOptions, behavior: ChatBehavior = answers(0.7)) {
    const fake = await start({ behavior, seed: SEED });
    const client = clientFor(fake);
    let samples = 0;
    let right = 0;
    for (const { question, gold } of problems) {
      const result = await sampleChains({
        client,
        model: "fake-model",
        messages: ask(question),
        domain: number,
        maxSamples: 16,
        batchSize: 4,
        adaptive,
      });
      samples += result.samples.length;
      if (vote(result.samples, number).winner?.answer === gold) right++;
    }
    return { samples, accuracy: right / problems.length };
  }

  it("draws at least 40% fewer samples than a fixed 16 at the same majority-vote accuracy (±1 point)", async () => {
    const fixed = await runArm(false);
    const adaptive = await runArm({});
    const saved = 1 - adaptive.samples / fixed.samples;
    console.log(
      `fixed 16: ${fixed.samples} samples, accuracy ${(fixed.accuracy * 100).toFixed(1)}%; ` +
        `adaptive (cap 16): ${adaptive.samples} samples, accuracy ${(adaptive.accuracy * 100).toFixed(1)}%; ` +
        `${(saved * 100).toFixed(1)}% fewer samples`,
    );
    expect(fixed.samples).toBe(500 * 16);
    expect(saved).toBeGreaterThanOrEqual(0.4);
    expect(Math.abs(adaptive.accuracy - fixed.accuracy)).toBeLessThanOrEqual(0.01);
  });

  it("keeps that accuracy when every wrong sample agrees on the same wrong answer", async () => {
    // the hard case for early stopping: a wrong answer can lead a small batch
    const oneWrongAnswer: ChatBehavior = {
      kind: "answers",
      answerFor,
      accuracy: 0.7,
      wrongAnswer: (question) => String(Number(answerFor(question)) + 1),
    };
    const fixed = await runArm(false, oneWrongAnswer);
    const adaptive = await runArm({}, oneWrongAnswer);
    const saved = 1 - adaptive.samples / fixed.samples;
    console.log(
      `one wrong answer: fixed 16 accuracy ${(fixed.accuracy * 100).toFixed(1)}%, adaptive ` +
        `${(adaptive.accuracy * 100).toFixed(1)}% with ${(saved * 100).toFixed(1)}% fewer samples`,
    );
    expect(saved).toBeGreaterThanOrEqual(0.4);
    expect(Math.abs(adaptive.accuracy - fixed.accuracy)).toBeLessThanOrEqual(0.01);
  });
});
