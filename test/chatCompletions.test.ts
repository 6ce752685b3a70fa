import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import OpenAI, { type APIError } from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { queryRows } from "../src/db/database.js";
import { RECALL_SIGNALS } from "../src/memory/recallResult.js";
import { createModelClient } from "../src/reasoning/model.js";
import type { Services } from "../src/services.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

// every score a recalled memory carries, as the API gives them
const SCORE_NAMES = [...RECALL_SIGNALS, "utility", "final"].sort();

const t = useTestContext();
const ADMIN = "admin-token-for-tests-0123456789";
const CHAIN = "6 * 9 = 54\n#### 54";
const query = "Kai has 6 boxes of 9 pens. How many pens?";
const SEEDED = "Sam has 4 boxes of 6 pens. How many pens?";

let fake: FakeOpenAI;
let server: ServerType | undefined;

beforeEach(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: CHAIN } });
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await fake.close();
});

interface Extension {
  runId: string;
  bank: string;
  status: string;
  answer?: string;
  verdict: string;
  verification: string;
  confidence?: number;
  samples: number;
  recalled: { memoryId: string; rank: number; scores: Record<string, number> }[];
}
type WithExtension<T> = T & { precedent: Extension };

/** precedent on a free port of 127.0.0.1 (admin token required), its model the fake server. */
async function startPrecedent(
  options: { model?: boolean; open?: boolean } = {},
): Promise<{ url: string; ctx: Services }> {
  const ctx = t.ctx();
  if (options.model !== false) {
    ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  }
  for (const id of ["arith", "other"]) {
    await bankWithProblems(ctx, { id, domain: "number" }, [
      { problem: SEEDED, answer: "24", reasoning: "4 * 6 = 24" },
    ]);
  }
  const app = createApp(ctx, options.open ? {} : { adminToken: ADMIN });
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
  return { url: `http://127.0.0.1:${port}`, ctx };
}

/** The real openai SDK pointed at precedent, as any OpenAI client would be. */
function client(url: string, apiKey = ADMIN) {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
}

async function createKey(url: string, scopes: string[]): Promise<string> {
  const response = await fetch(`${url}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ scopes }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

async function runCount(ctx: Services): Promise<number> {
  const [row] = await queryRows<{ n: string }>(ctx.db, sql`select count(*) as n from runs`);
  return Number(row?.n);
}

/** The error an SDK call is rejected with. */
async function failure(call: Promise<unknown>): Promise<APIError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as APIError;
}

describe("POST /v1/chat/completions with the openai SDK", () => {
  it("answers a chat completion with the chosen chain, the run in an extension field and headers", async () => {
    const { url } = await startPrecedent();
    const { data, response } = await client(url)
      .chat.completions.create({
        model: "precedent/arith",
        messages: [
          { role: "system", content: "You are a helpful assistant." },
          { role: "user", content: "an earlier question" },
          { role: "assistant", content: "an earlier answer" },
          { role: "user", content: query },
        ],
        temperature: 0.4,
        // parameters precedent has no use for are accepted and ignored
        max_tokens: 5,
        top_p: 0.9,
        seed: 7,
        user: "someone",
        // the extension: solve options
        ...({ precedent: { samples: 4, adaptive: false }, some_vendor_field: { x: 1 } } as object),
      })
      .withResponse();

    expect(response.status).toBe(200);
    expect(data).toMatchObject({
      object: "chat.completion",
      model: "precedent/arith",
      choices: [{ index: 0, message: { role: "assistant", content: CHAIN }, finish_reason: "stop" }],
    });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(data.created)).toBe(true);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe(
      (data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0),
    );
    const { precedent } = data as WithExtension<typeof data>;
    expect(precedent).toMatchObject({ bank: "arith", status: "completed", answer: "54", samples: 4 });
    expect(precedent.runId).toMatch(/^run_/);
    expect(precedent.recalled).toHaveLength(1);
    expect(precedent.recalled[0]?.memoryId).toMatch(/^mem_/);
    expect(Object.keys(precedent.recalled[0]?.scores ?? {}).sort()).toEqual(SCORE_NAMES);
    expect(response.headers.get("x-precedent-run-id")).toBe(precedent.runId);
    expect(response.headers.get("x-precedent-recalled")).toBe(precedent.recalled[0]?.memoryId);

    // the run id reads back with everything; temperature reached the model, max_tokens did not
    const run = await fetch(`${url}/v1/runs/${precedent.runId}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(run.status).toBe(200);
    const stored = (await run.json()) as {
      query: string;
      params: { temperature: number; samples: number };
      samples: { text: string }[];
      recalls: unknown[];
      verificationDetail: { chosenSample: number };
    };
    expect(stored.query).toBe(query);
    expect(stored.params).toMatchObject({ temperature: 0.4, samples: 4 });
    expect(stored.recalls).toEqual(precedent.recalled);
    expect(stored.samples[stored.verificationDetail.chosenSample]?.text).toBe(CHAIN);
    const sent = fake.requests.filter((r) => r.path === "/v1/chat/completions");
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      const body = r.body as { temperature: number; max_tokens?: number; messages: { content: string }[] };
      expect(body.temperature).toBe(0.4);
      expect(body.max_tokens).toBeUndefined();
      // precedent's own scaffold: the caller's system prompt and earlier turns are not sent
      expect(JSON.stringify(body.messages)).not.toContain("helpful assistant");
      expect(body.messages.at(-1)?.content).toBe(query);
    }
  });

  it("streams chat.completion.chunk events the SDK reads, the run id on the final chunk", async () => {
    const { url } = await startPrecedent();
    const { data: stream, response } = await client(url)
      .chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "user", content: query }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "precedent/arith")).toBe(
      true,
    );
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]?.id).toMatch(/^chatcmpl-/);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(content).toBe(CHAIN);
    const final = chunks.find(
      (c) => c.choices[0]?.finish_reason === "stop",
    ) as WithExtension<OpenAI.ChatCompletionChunk>;
    expect(final).toBeDefined();
    expect(final.precedent).toMatchObject({ bank: "arith", status: "completed", answer: "54" });
    expect(response.headers.get("x-precedent-recalled")).toBe(
      final.precedent.recalled.map((r) => r.memoryId).join(","),
    );
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.total_tokens).toBeGreaterThan(0);

    const run = await fetch(`${url}/v1/runs/${final.precedent.runId}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(run.status).toBe(200);
    expect(((await run.json()) as { answer: string }).answer).toBe("54");
  });

  it("selects the bank by the X-Precedent-Bank header and reads the text parts of the last user message", async () => {
    const { url } = await startPrecedent();
    const completion = await client(url).chat.completions.create(
      {
        model: "gpt-4o-mini",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Kai has 6 boxes of 9 pens." },
              { type: "image_url", image_url: { url: "https://example.invalid/pens.png" } },
              { type: "text", text: "How many pens?" },
            ],
          },
        ],
      },
      { headers: { "X-Precedent-Bank": "other" } },
    );
    expect(completion.model).toBe("gpt-4o-mini");
    const { precedent } = completion as WithExtension<typeof completion>;
    expect(precedent.bank).toBe("other");
    const sent = fake.requests.find((r) => r.path === "/v1/chat/completions")?.body as {
      messages: { content: string }[];
    };
    expect(sent.messages.at(-1)?.content).toBe("Kai has 6 boxes of 9 pens.\nHow many pens?");
  });

  it("answers a problem the bank already holds from memory, with the memory's reasoning", async () => {
    const { url } = await startPrecedent();
    const { data, response } = await client(url)
      .chat.completions.create({ model: "precedent/arith", messages: [{ role: "user", content: SEEDED }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("4 * 6 = 24\n#### 24");
    const { precedent } = data as WithExtension<typeof data>;
    expect(precedent).toMatchObject({ status: "memory_hit", answer: "24", verdict: "correct" });
    expect(data.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect(response.headers.get("x-precedent-run-id")).toBe(precedent.runId);
    expect(fake.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
  });

  it("refuses bad requests with 400 in OpenAI's error shape, naming the parameter", async () => {
    const { url, ctx } = await startPrecedent();
    const sdk = client(url);
    const noUser = await failure(
      sdk.chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "system", content: "only a system prompt" }],
      }),
    );
    expect(noUser).toBeInstanceOf(OpenAI.BadRequestError);
    expect(noUser).toMatchObject({ status: 400, param: "messages", type: "invalid_request_error" });
    expect(noUser.message).toMatch(/no user message/);

    const n = await failure(
      sdk.chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "user", content: query }],
        n: 2,
      }),
    );
    expect(n).toMatchObject({ status: 400, param: "n" });
    expect(n.message).toMatch(/n = 1/);

    const empty = await failure(
      sdk.chat.completions.create({ model: "precedent/arith", messages: [{ role: "user", content: "   " }] }),
    );
    expect(empty).toMatchObject({ status: 400, param: "messages.0.content" });

    const noMessages = await failure(sdk.chat.completions.create({ model: "precedent/arith", messages: [] }));
    expect(noMessages).toMatchObject({ status: 400, param: "messages" });

    const conflicting = await failure(
      sdk.chat.completions.create(
        { model: "precedent/arith", messages: [{ role: "user", content: query }] },
        { headers: { "X-Precedent-Bank": "other" } },
      ),
    );
    expect(conflicting).toMatchObject({ status: 400, param: "model" });

    const raw = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "precedent/arith", messages: [{ role: "user", content: query }], n: 3 }),
    });
    expect(raw.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await raw.json()).toEqual({
      error: {
        message: expect.stringMatching(/^n: /),
        type: "invalid_request_error",
        param: "n",
        code: expect.any(String),
      },
    });
    expect(await runCount(ctx)).toBe(0);
    expect(fake.requests).toHaveLength(0);
  });

  it("answers 404 model_not_found for an unknown bank or a model that names none", async () => {
    const { url } = await startPrecedent();
    for (const model of ["precedent/nope", "precedent/Not A Bank", "gpt-4o"]) {
      const error = await failure(
        client(url).chat.completions.create({ model, messages: [{ role: "user", content: query }] }),
      );
      expect(error, model).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("answers 503 without a model, telling the SDK not to retry", async () => {
    const { url, ctx } = await startPrecedent({ model: false });
    const error = await failure(
      client(url).chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "user", content: query }],
      }),
    );
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/PRECEDENT_MODEL/);
    expect(error.headers?.get("x-should-retry")).toBe("false");
    const streamed = await failure(
      client(url).chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "user", content: query }],
        stream: true,
      }),
    );
    expect(streamed.status).toBe(503);
    expect(await runCount(ctx)).toBe(0);
  });

  it("answers 502 with the stored run's id when the model endpoint fails, and an error event mid-stream", async () => {
    const { url, ctx } = await startPrecedent();
    fake.failNext(100, 500);
    const error = await failure(
      client(url).chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "user", content: query }],
      }),
    );
    expect(error.status).toBe(502);
    const runId = error.headers?.get("x-precedent-run-id");
    expect(runId).toMatch(/^run_/);
    expect(error.message).toContain(runId);

    const stream = await client(url).chat.completions.create({
      model: "precedent/arith",
      messages: [{ role: "user", content: query }],
      stream: true,
    });
    const seen: OpenAI.ChatCompletionChunk[] = [];
    const failed = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as Error).message).toMatch(/model endpoint failed/);
    expect(seen[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(await runCount(ctx)).toBe(2);
  });
});

describe("authentication and tenants on the OpenAI-compatible routes", () => {
  it("takes a precedent API key as the SDK's apiKey and refuses a wrong one with 401", async () => {
    const { url } = await startPrecedent();
    const key = await createKey(url, ["bank:arith:write"]);
    const completion = await client(url, key).chat.completions.create({
      model: "precedent/arith",
      messages: [{ role: "user", content: query }],
    });
    expect(completion.choices[0]?.message.content).toBe(CHAIN);

    const error = await failure(
      client(url, `${key}x`).chat.completions.create({
        model: "precedent/arith",
        messages: [{ role: "user", content: query }],
      }),
    );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: "authentication_error", param: "authorization" });
    expect(error.message).toMatch(/unknown or revoked API key/);
    expect((await failure(client(url, "nope").models.list())).status).toBe(401);
  });

  it("a key for one bank gets 404 for another bank's model and 403 without write access", async () => {
    const { url, ctx } = await startPrecedent();
    const arithWriter = await createKey(url, ["bank:arith:write"]);
    const otherReader = await createKey(url, ["bank:other:read"]);
    const ask = (apiKey: string, model: string, headers: Record<string, string> = {}) =>
      failure(
        client(url, apiKey).chat.completions.create(
          { model, messages: [{ role: "user", content: query }] },
          { headers },
        ),
      );
    const runs = await runCount(ctx);
    const foreign = await ask(arithWriter, "precedent/other");
    expect(foreign).toBeInstanceOf(OpenAI.NotFoundError);
    expect(foreign.message).not.toContain("pens");
    expect(await ask(arithWriter, "whatever", { "X-Precedent-Bank": "other" })).toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    expect(await ask(otherReader, "precedent/other")).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(await runCount(ctx)).toBe(runs);
    expect(fake.requests).toHaveLength(0);
  });

  it("an open server (no key, no admin token) serves an SDK that sends no Authorization header", async () => {
    const { url } = await startPrecedent({ open: true });
    const open = new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: "unused",
      defaultHeaders: { Authorization: null },
      maxRetries: 0,
    });
    const completion = await open.chat.completions.create({
      model: "precedent/arith",
      messages: [{ role: "user", content: query }],
    });
    expect(completion.choices[0]?.message.content).toBe(CHAIN);
    // a token is checked even on an open server: one that is no key is refused
    expect((await failure(client(url, "made-up").models.list())).status).toBe(401);
  });

  it("GET /v1/models lists precedent/<bank> for the banks the key may read", async () => {
    const { url } = await startPrecedent();
    const all = await client(url).models.list();
    expect(all.data.map((m) => m.id)).toEqual(["precedent/arith", "precedent/other"]);
    expect(all.data[0]).toMatchObject({ object: "model", owned_by: "precedent" });
    const reader = await createKey(url, ["bank:other:read"]);
    const mine = await client(url, reader).models.list();
    expect(mine.data.map((m) => m.id)).toEqual(["precedent/other"]);
  });
});
