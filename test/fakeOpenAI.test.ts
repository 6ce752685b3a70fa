import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { GSM8K_TEST } from "./support/data.js";
import {
  type ChatBehavior,
  type FakeOpenAI,
  type FakeOpenAIOptions,
  GSM8K_MODEL_SOLUTIONS,
  SELECTION_MARKER,
  startFakeOpenAI,
} from "./support/fakeOpenAI.js";

const started: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI(options);
  started.push(fake);
  return fake;
}

const clientFor = (fake: FakeOpenAI, options: { maxRetries?: number; apiKey?: string } = {}) =>
  new OpenAI({ baseURL: fake.url, apiKey: options.apiKey ?? "test", maxRetries: options.maxRetries ?? 0 });

const ask = (question: string): OpenAI.ChatCompletionMessageParam[] => [
  { role: "system", content: "Solve the problem. End with a line '#### <answer>'." },
  { role: "user", content: question },
];

const finalAnswer = (content: string | null) => content?.match(/^#### (.+)$/m)?.[1];
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

// real GSM8K questions with their gold answers, for the answer-scripting behaviours
const gsm8k = readFileSync(GSM8K_TEST, "utf8")
  .trim()
  .split("\n")
  .slice(0, 20)
  .map((line) => JSON.parse(line) as { question: string; answer: string })
  .map(({ question, answer }) => ({ question, gold: answer.split("#### ")[1]?.trim() as string }));
const goldOf = new Map(gsm8k.map((q) => [q.question, q.gold]));
const answerFor = (question: string) => goldOf.get(question) ?? "0";

describe("embeddings", () => {
  it("answers the SDK's default base64 request with 64-dimension unit vectors, in input order", async () => {
    const fake = await start();
    const res = await clientFor(fake).embeddings.create({ model: "emb", input: ["one text", "another"] });
    expect(fake.requests[0]?.body).toMatchObject({ encoding_format: "base64" });
    expect(res.object).toBe("list");
    expect(res.model).toBe("emb");
    expect(res.data.map((d) => `${d.object}#${d.index}`)).toEqual(["embedding#0", "embedding#1"]);
    for (const { embedding } of res.data) {
      expect(embedding).toHaveLength(64);
      expect(norm(embedding)).toBeCloseTo(1, 5);
    }
  });

  it("honours the request's dimensions and encoding_format float, with the same values as base64", async () => {
    const fake = await start({ embeddingDimensions: 32 });
    const client = clientFor(fake);
    const float = await client.embeddings.create({
      model: "emb",
      input: "ducks lay eggs",
      dimensions: 16,
      encoding_format: "float",
    });
    const base64 = await client.embeddings.create({ model: "emb", input: "ducks lay eggs", dimensions: 16 });
    expect(float.data[0]?.embedding).toHaveLength(16);
    float.data[0]?.embedding.forEach((x, i) => {
      expect(base64.data[0]?.embedding[i]).toBeCloseTo(x, 6);
    });
    expect(float.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const fallback = await client.embeddings.create({ model: "emb", input: "x" });
    expect(fallback.data[0]?.embedding).toHaveLength(32);
  });

  it("is deterministic and puts texts that share words closer than unrelated texts", async () => {
    const fake = await start();
    const input = [
      "Janet's ducks lay 16 eggs per day and she sells them",
      "Janet's ducks lay 20 eggs per day and she sells them",
      "A train leaves the station at noon heading west",
    ];
    const client = clientFor(fake);
    const [a, b, c] = (await client.embeddings.create({ model: "emb", input })).data.map((d) => d.embedding);
    const again = await client.embeddings.create({ model: "emb", input: input[0] as string });
    expect(again.data[0]?.embedding).toEqual(a);
    expect(cosine(a as number[], b as number[])).toBeGreaterThan(0.8);
    expect(cosine(a as number[], c as number[])).toBeLessThan(0.5);
  });
});

describe("chat completions", () => {
  it("returns n=5 choices with the model echoed, id, created, finish_reason stop and usage", async () => {
    const fake = await start({ behavior: { kind: "fixed", content: "It is 4.\n#### 4" } });
    const res = await clientFor(fake).chat.completions.create({
      model: "fake-model",
      messages: ask("What is 2 + 2?"),
      n: 5,
      temperature: 0.8,
    });
    expect(res.choices).toHaveLength(5);
    expect(res.choices.map((c) => [c.index, c.finish_reason, c.message.content])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, "stop", "It is 4.\n#### 4"]),
    );
    expect(res).toMatchObject({ object: "chat.completion", model: "fake-model" });
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.created).toBeGreaterThan(1.7e9);
    // whitespace tokens: "It", " is", " 4.", "\n####", " 4"
    expect(res.usage?.completion_tokens).toBe(5 * 5);
    expect(res.usage?.prompt_tokens).toBeGreaterThan(10);
  });

  it("returns a single choice whatever n asks when the server does not support n", async () => {
    const fake = await start({ supportsN: false });
    const res = await clientFor(fake).chat.completions.create({ model: "m", messages: ask("q"), n: 5 });
    expect(res.choices).toHaveLength(1);
  });

  it("returns per-token logprobs that rebuild the content, the answer token carrying the confidence", async () => {
    const fake = await start({ behavior: { kind: "fixed", content: "Add them.\n#### 7", confidence: 0.8 } });
    const res = await clientFor(fake).chat.completions.create({
      model: "m",
      messages: ask("q"),
      logprobs: true,
    });
    const tokens = res.choices[0]?.logprobs?.content ?? [];
    expect(tokens.map((t) => t.token).join("")).toBe("Add them.\n#### 7");
    expect(tokens.map((t) => t.top_logprobs)).toEqual([[], [], [], []]);
    expect(tokens.at(-1)?.logprob).toBeCloseTo(Math.log(0.8), 6);
    for (const t of tokens.slice(0, -1)) expect(t.logprob).toBeGreaterThan(Math.log(0.9));
  });

  it("answers logprobs: null when the server does not support logprobs", async () => {
    const fake = await start({ supportsLogprobs: false });
    const res = await clientFor(fake).chat.completions.create({
      model: "m",
      messages: ask("q"),
      logprobs: true,
    });
    expect(res.choices[0]?.logprobs).toBeNull();
  });

  it("samples identical texts at temperature 0 and varied texts above it", async () => {
    const question = gsm8k[0]?.question as string;
    const fake = await start({ behavior: { kind: "answers", answerFor, accuracy: 0.5 } });
    const client = clientFor(fake);
    const sample = async (temperature: number) => {
      const res = await client.chat.completions.create({
        model: "m",
        messages: ask(question),
        n: 8,
        temperature,
      });
      return new Set(res.choices.map((c) => c.message.content)).size;
    };
    expect(await sample(0)).toBe(1);
    expect(await sample(1)).toBeGreaterThan(1);
  });
});

describe("behaviour: answers", () => {
  const behavior: ChatBehavior = { kind: "answers", answerFor, accuracy: 0.7 };

  async function sample400(fake: FakeOpenAI) {
    const client = clientFor(fake);
    const samples: { gold: string; content: string; answerLogprob: number }[] = [];
    for (let round = 0; round < 4; round++) {
      for (const { question, gold } of gsm8k) {
        const res = await client.chat.completions.create({
          model: "m",
          messages: ask(question),
          n: 5,
          temperature: 0.7,
          logprobs: true,
        });
        for (const c of res.choices) {
          const answerLogprob = c.logprobs?.content?.at(-1)?.logprob as number;
          samples.push({ gold, content: c.message.content as string, answerLogprob });
        }
      }
    }
    return samples;
  }

  it("ends in the right answer in about `accuracy` of 400 samples, wrong ones in a nearby other number", async () => {
    const samples = await sample400(await start({ behavior, seed: 1 }));
    expect(samples).toHaveLength(400);
    for (const s of samples) expect(s.content.split("\n").at(-1)).toMatch(/^#### -?\d+$/);
    const right = samples.filter((s) => finalAnswer(s.content) === s.gold);
    // binomial sd at p=0.7, n=400 is 0.023: ±0.07 is three of them
    expect(right.length / 400).toBeGreaterThan(0.63);
    expect(right.length / 400).toBeLessThan(0.77);
    for (const s of samples.filter((x) => finalAnswer(x.content) !== x.gold)) {
      const offset = Math.abs(Number(finalAnswer(s.content)) - Number(s.gold));
      expect(offset).toBeGreaterThanOrEqual(1);
      expect(offset).toBeLessThanOrEqual(3);
    }
  });

  it("gives right answers more probable answer tokens than wrong ones", async () => {
    const samples = await sample400(await start({ behavior, seed: 2 }));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const isRight = (s: (typeof samples)[number]) => finalAnswer(s.content) === s.gold;
    const right = mean(samples.filter(isRight).map((s) => s.answerLogprob));
    const wrong = mean(samples.filter((s) => !isRight(s)).map((s) => s.answerLogprob));
    expect(right).toBeGreaterThan(wrong + 0.5);
  });

  it("reproduces the same samples from the same seed, and other samples from another seed", async () => {
    const run = async (seed: number) =>
      (await sample400(await start({ behavior, seed }))).map((s) => s.content);
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
  });
});

describe("behaviour: exampleAware", () => {
  // the family is the topic before the colon: "eggs: ...", "trains: ..."
  const behavior: ChatBehavior = {
    kind: "exampleAware",
    answerFor: () => "42",
    family: (question) => question.split(":")[0] ?? "",
    accuracyWithExample: 0.9,
    accuracyWithout: 0.3,
  };

  async function accuracy(fake: FakeOpenAI, example: string | undefined) {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: "system", content: "Solve it." },
      ...(example
        ? ([
            { role: "user", content: example },
            { role: "assistant", content: "Worked solution.\n#### 5" },
          ] as const)
        : []),
      { role: "user", content: "eggs: how many eggs are left?" },
    ];
    let right = 0;
    for (let i = 0; i < 40; i++) {
      const res = await clientFor(fake).chat.completions.create({ model: "m", messages, n: 5 });
      right += res.choices.filter((c) => finalAnswer(c.message.content) === "42").length;
    }
    return right / 200;
  }

  it("is accurate with a worked example of the same family, and not with none or another family's", async () => {
    const fake = await start({ behavior, seed: 3 });
    expect(await accuracy(fake, "eggs: a hen lays 3 eggs a day; how many in 5 days?")).toBeGreaterThan(0.8);
    expect(await accuracy(fake, "trains: a train goes 60 km/h; how far in 2 hours?")).toBeLessThan(0.4);
    expect(await accuracy(fake, undefined)).toBeLessThan(0.4);
  });
});

describe("behaviour: replay", () => {
  // the file's second question, with its four real model solutions in the file's column order
  const row = JSON.parse(readFileSync(GSM8K_MODEL_SOLUTIONS, "utf8").split("\n")[1] as string);
  const question = row.question as string;
  const solutions = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"].map(
    (key) => row[key].solution as string,
  );

  it("returns the file's four real model solutions for the question in turn, then cycles", async () => {
    const fake = await start({ behavior: { kind: "replay" } });
    const client = clientFor(fake);
    const contents: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await client.chat.completions.create({ model: "m", messages: ask(question) });
      contents.push(res.choices[0]?.message.content ?? null);
    }
    expect(contents).toEqual([...solutions, solutions[0]]);
    const batch = await client.chat.completions.create({ model: "m", messages: ask(question), n: 4 });
    expect(new Set(batch.choices.map((c) => c.message.content))).toEqual(new Set(solutions));
  });

  it("finds the question inside a prompt that wraps it", async () => {
    const fake = await start({ behavior: { kind: "replay", file: GSM8K_MODEL_SOLUTIONS } });
    const wrapped = `Question:\n${question}\nThink step by step.`;
    const res = await clientFor(fake).chat.completions.create({ model: "m", messages: ask(wrapped) });
    expect(res.choices[0]?.message.content).toBe(solutions[0]);
  });

  it("answers 400 naming the replay when the question is not in the file", async () => {
    const fake = await start({ behavior: { kind: "replay" } });
    const request = clientFor(fake).chat.completions.create({ model: "m", messages: ask("What is love?") });
    await expect(request).rejects.toThrow(OpenAI.BadRequestError);
    await expect(request).rejects.toThrow(/replay: no model solutions/);
  });
});

describe("behaviour: script", () => {
  it("passes the request, the sample index and a seeded random source to respond", async () => {
    const fake = await start({
      behavior: {
        kind: "script",
        respond: (request, index, rng) => `${request.messages.length}:${index}:${rng() < 1}`,
      },
    });
    const res = await clientFor(fake).chat.completions.create({ model: "m", messages: ask("q"), n: 3 });
    expect(res.choices.map((c) => c.message.content)).toEqual(["2:0:true", "2:1:true", "2:2:true"]);
    fake.setBehavior({ kind: "fixed", content: "switched" });
    const after = await clientFor(fake).chat.completions.create({ model: "m", messages: ask("q") });
    expect(after.choices[0]?.message.content).toBe("switched");
  });
});

describe("behaviour: freeText", () => {
  const behavior: ChatBehavior = {
    kind: "freeText",
    answers: () => ["Paris", "Lyon", "It is Paris"],
    meaningOf: (a) => (/paris/i.test(a) ? "Paris" : "Lyon"),
  };
  const selectionOf = (responses: string[]): OpenAI.ChatCompletionMessageParam[] => [
    { role: "system", content: `Pick the response ${SELECTION_MARKER}.` },
    {
      role: "user",
      content: `Question: q\n\n${responses.map((r, i) => `Response ${i}:\n${r}`).join("\n\n")}`,
    },
  ];

  it("answers sample after sample with the next scripted answer, across requests", async () => {
    const fake = await start({ behavior });
    const client = clientFor(fake);
    const first = await client.chat.completions.create({ model: "m", messages: ask("q"), n: 2 });
    const second = await client.chat.completions.create({ model: "m", messages: ask("q"), n: 2 });
    const answers = [...first.choices, ...second.choices].map((c) => c.message.content?.split("Answer: ")[1]);
    expect(answers).toEqual(["Paris", "Lyon", "It is Paris", "Paris"]);
  });

  it("selects a response of the meaning most responses share, and botches it when scripted to", async () => {
    const fake = await start({ behavior });
    const messages = selectionOf(["Answer: Lyon", "Answer: Paris", "Answer: It is Paris"]);
    const reply = await clientFor(fake).chat.completions.create({ model: "m", messages });
    const json = JSON.parse(reply.choices[0]?.message.content?.replace(/```(json)?/g, "") ?? "");
    expect(json).toMatchObject({ response: 1, agreeing: [1, 2] });
    fake.setBehavior({ ...behavior, selection: "out-of-range" });
    const wrong = await clientFor(fake).chat.completions.create({ model: "m", messages });
    expect(wrong.choices[0]?.message.content).toContain('"response":99');
    fake.setBehavior({ ...behavior, selection: "unparsable" });
    const prose = await clientFor(fake).chat.completions.create({ model: "m", messages });
    expect(prose.choices[0]?.message.content).not.toContain("{");
  });
});

describe("behaviour: branching, top_logprobs and assistant prefixes", () => {
  const behavior: ChatBehavior = {
    kind: "branching",
    branches: () => [
      { token: "Five", probability: 0.6, continuation: " it is.\n#### 5", confidence: 0.4 },
      { token: "Nine", probability: 0.4, continuation: " it is.\n#### 9", confidence: 0.9 },
    ],
  };

  it("lists the branches as the first token's top_logprobs, most likely first, and stops at max_tokens", async () => {
    const fake = await start({ behavior });
    const res = await clientFor(fake).chat.completions.create({
      model: "m",
      messages: ask("q"),
      logprobs: true,
      top_logprobs: 5,
      max_tokens: 1,
    });
    expect(res.choices[0]?.message.content).toBe("Five");
    const top = res.choices[0]?.logprobs?.content?.[0]?.top_logprobs ?? [];
    expect(top.map((t) => t.token)).toEqual(["Five", "Nine"]);
    expect(Math.exp(top[1]?.logprob ?? 0)).toBeCloseTo(0.4, 6);
  });

  it("continues a final assistant message from its branch, with the answer tokens' alternatives", async () => {
    const fake = await start({ behavior });
    const res = await clientFor(fake).chat.completions.create({
      model: "m",
      messages: [...ask("q"), { role: "assistant", content: "Nine" }],
      logprobs: true,
      top_logprobs: 2,
      // vLLM's field for continuing the assistant prefix; the SDK passes it through
      ...({ continue_final_message: true } as object),
    });
    expect(res.choices[0]?.message.content).toBe(" it is.\n#### 9");
    const answer = res.choices[0]?.logprobs?.content?.at(-1);
    expect(answer?.token).toBe(" 9");
    const [p1, p2] = (answer?.top_logprobs ?? []).map((t) => Math.exp(t.logprob));
    expect(p1).toBeCloseTo(0.9, 6);
    expect(p2).toBeCloseTo(0.09, 6);
  });

  it("refuses continue_final_message with 400 when told it cannot continue a prefix", async () => {
    const fake = await start({ behavior, supportsPrefix: false });
    const request = clientFor(fake).chat.completions.create({
      model: "m",
      messages: [...ask("q"), { role: "assistant", content: "Nine" }],
      ...({ continue_final_message: true } as object),
    });
    await expect(request).rejects.toMatchObject({ status: 400 });
    expect(
      (await clientFor(fake).chat.completions.create({ model: "m", messages: ask("q") })).choices,
    ).toHaveLength(1);
  });
});

describe("streaming", () => {
  it("streams deltas per choice that concatenate to the content, then stop, usage and [DONE]", async () => {
    const question = gsm8k[1]?.question as string;
    const fake = await start({ behavior: { kind: "answers", answerFor, accuracy: 0.5 } });
    const client = clientFor(fake);
    // temperature 0 makes the streamed and the plain request sample the same text
    const params = { model: "m", messages: ask(question), n: 2, temperature: 0, logprobs: true } as const;
    const plain = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    const text = ["", ""];
    const finish: (string | null)[] = [];
    let logprobTokens = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      for (const c of chunk.choices) {
        text[c.index] += c.delta.content ?? "";
        logprobTokens += c.logprobs?.content?.length ?? 0;
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
      usage = chunk.usage ?? usage;
    }
    expect(text).toEqual(plain.choices.map((c) => c.message.content));
    expect(finish).toEqual(["stop", "stop"]);
    expect(logprobTokens).toBe(plain.usage?.completion_tokens);
    expect(usage).toEqual(plain.usage);

    const raw = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ ...params, stream: true }),
    });
    expect(raw.headers.get("content-type")).toBe("text/event-stream");
    expect(await raw.text()).toMatch(/^data: \{.*\}\n\n(data: \{.*\}\n\n)*data: \[DONE\]\n\n$/);
  });
});

describe("failures, auth and latency", () => {
  it("fails the next 2 requests with 500 so an SDK with maxRetries 2 succeeds on the third", async () => {
    const fake = await start({ behavior: { kind: "fixed", content: "ok" } });
    fake.failNext(2);
    const res = await clientFor(fake, { maxRetries: 2 }).chat.completions.create({
      model: "m",
      messages: ask("q"),
    });
    expect(res.choices[0]?.message.content).toBe("ok");
    expect(fake.requests.map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("surfaces the injected status and an OpenAI error body when the SDK has no retries left", async () => {
    const fake = await start();
    fake.failNext(1, 429);
    const request = clientFor(fake).embeddings.create({ model: "emb", input: "x" });
    await expect(request).rejects.toMatchObject({ status: 429, error: { type: "rate_limit_error" } });
    await expect(request).rejects.toThrow(OpenAI.RateLimitError);
  });

  it("answers 401 without the required bearer key, and serves the right key", async () => {
    const fake = await start({ requireApiKey: "sk-right" });
    const wrong = clientFor(fake, { apiKey: "sk-wrong" }).embeddings.create({ model: "emb", input: "x" });
    await expect(wrong).rejects.toThrow(OpenAI.AuthenticationError);
    const right = await clientFor(fake, { apiKey: "sk-right" }).embeddings.create({
      model: "emb",
      input: "x",
    });
    expect(right.data).toHaveLength(1);
    expect(fake.requests.map((r) => [r.path, r.authorization, r.status])).toEqual([
      ["/v1/embeddings", "Bearer sk-wrong", 401],
      ["/v1/embeddings", "Bearer sk-right", 200],
    ]);
  });

  it("answers unknown routes with 404 and malformed JSON with 400, both as OpenAI error JSON", async () => {
    const fake = await start();
    const missing = await fetch(`${fake.url}/completions`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: "not_found_error" } });
    const malformed = await fetch(`${fake.url}/chat/completions`, { method: "POST", body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { message: expect.stringMatching(/JSON/) } });
    expect(fake.requests[1]?.body).toBe("{not json");
  });

  it("delays each answer by latencyMs", async () => {
    const fake = await start({ latencyMs: 200 });
    const client = clientFor(fake);
    const begin = performance.now();
    await Promise.all(
      [1, 2, 3, 4].map(() => client.chat.completions.create({ model: "m", messages: ask("q") })),
    );
    const elapsed = performance.now() - begin;
    // a lower bound only: it proves the delay happened, whatever the machine's load
    expect(elapsed).toBeGreaterThanOrEqual(190);
  });
});
