import { count } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openContext } from "../src/context.js";
import { embeddingCache } from "../src/db/schema.js";
import { createLogger } from "../src/log.js";
import { databaseEmbeddingCache } from "../src/memory/embed/cache.js";
import { dot } from "../src/memory/embed/embedder.js";
import { createOpenAIEmbedder } from "../src/memory/embed/openai.js";
import { recallAnalogues } from "../src/memory/recall.js";
import { cliEnvironment } from "./support/cli.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
const fakes: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(options: Parameters<typeof startFakeOpenAI>[0] = {}) {
  const f = await startFakeOpenAI(options);
  fakes.push(f);
  return f;
}

const embeddingRequests = (f: FakeOpenAI) => f.requests.filter((r) => r.path === "/v1/embeddings");
const texts = (n: number) =>
  Array.from({ length: n }, (_, i) => `problem number ${i} about apples and pears`);

describe("the OpenAI-compatible embedder", () => {
  it("learns the dimension from the endpoint and returns normalized vectors in input order", async () => {
    const f = await fake({ embeddingDimensions: 48 });
    const embedder = await createOpenAIEmbedder({ model: "nomic-embed-text", baseURL: f.url });
    expect(embedder.dimensions).toBe(48);
    expect(embedder.id).toBe("openai:nomic-embed-text:48");
    const [a, b] = await embedder.embed(["red apples", "blue pears"]);
    expect(dot(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 5);
    expect(dot(a as Float32Array, b as Float32Array)).toBeLessThan(0.99);
  });

  it("asks for the configured dimensions without a probe request", async () => {
    const f = await fake();
    const embedder = await createOpenAIEmbedder({
      model: "text-embedding-3-small",
      baseURL: f.url,
      dimensions: 32,
    });
    expect(embeddingRequests(f)).toHaveLength(0);
    const [v] = await embedder.embed(["x"]);
    expect(v).toHaveLength(32);
    expect(embeddingRequests(f)[0]?.body).toMatchObject({ dimensions: 32, model: "text-embedding-3-small" });
  });

  it("sends large inputs in batches", async () => {
    const f = await fake();
    const embedder = await createOpenAIEmbedder({
      model: "m",
      baseURL: f.url,
      dimensions: 16,
      batchSize: 128,
    });
    const vectors = await embedder.embed(texts(300));
    expect(vectors).toHaveLength(300);
    expect(embeddingRequests(f).map((r) => (r.body as { input: string[] }).input.length)).toEqual([
      128, 128, 44,
    ]);
  });

  it("retries a failing endpoint with backoff and then succeeds", async () => {
    const f = await fake();
    const embedder = await createOpenAIEmbedder({ model: "m", baseURL: f.url, dimensions: 16 });
    f.failNext(2, 503);
    const [v] = await embedder.embed(["retry me"]);
    expect(v).toHaveLength(16);
    expect(embeddingRequests(f).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("gives up with the endpoint's error when it keeps failing", async () => {
    const f = await fake();
    const embedder = await createOpenAIEmbedder({
      model: "m",
      baseURL: f.url,
      dimensions: 16,
      maxRetries: 1,
    });
    f.failNext(5, 500);
    await expect(embedder.embed(["x"])).rejects.toThrow();
    expect(embeddingRequests(f)).toHaveLength(2);
  });

  it("caches vectors by model and text hash in the database, so a text is paid for once", async () => {
    const f = await fake();
    const cache = databaseEmbeddingCache(t.ctx().db);
    const embedder = await createOpenAIEmbedder({ model: "m", baseURL: f.url, dimensions: 16, cache });
    const first = await embedder.embed(texts(10));
    const again = await embedder.embed([...texts(10), "one new text", "one new text"]);
    expect(again.slice(0, 10)).toEqual(first);
    expect(embeddingRequests(f)).toHaveLength(2);
    expect(embeddingRequests(f)[1]?.body).toMatchObject({ input: ["one new text"] });
    const [cached] = await t.ctx().db.select({ n: count() }).from(embeddingCache);
    expect(cached?.n).toBe(11);
  });
});

describe("a service configured with EMBEDDINGS=openai", () => {
  it("indexes and recalls through the endpoint at OPENAI_BASE_URL", async () => {
    const f = await fake({ embeddingDimensions: 64 });
    const place = await cliEnvironment();
    const config = loadConfig({
      ...place.env,
      EMBEDDINGS: "openai",
      EMBEDDINGS_MODEL: "nomic-embed-text",
      OPENAI_BASE_URL: f.url,
    });
    const ctx = await openContext(config, { command: "test", log: createLogger("silent") });
    try {
      expect(ctx.embedder.id).toBe("openai:nomic-embed-text:64");
      const bank = await bankWithProblems(ctx, { id: "fruit", domain: "number" }, [
        { problem: "Lila has 3 bags with 7 apples each. How many apples?", answer: "21" },
        { problem: "A train travels 60 km per hour for 3 hours. How far?", answer: "180" },
      ]);
      const result = await recallAnalogues({
        ctx,
        bank,
        query: "Omar has 5 bags with 4 apples each. How many apples?",
      });
      expect(result.memories[0]?.answer).toBe("21");
    } finally {
      await ctx.close();
      await place.drop();
    }
  });
});
