import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { RECALL_SIGNALS } from "../src/memory/recallResult.js";
import { createModelClient } from "../src/reasoning/model.js";
import type { Services } from "../src/services.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

// every score a recalled memory carries, as the API gives them
const SCORE_NAMES = [...RECALL_SIGNALS, "utility", "final"].sort();

const t = useTestContext();
let fake: FakeOpenAI;
let server: ServerType | undefined;

beforeEach(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await fake.close();
});

const query = "Kai has 6 boxes of 9 pens. How many pens?";

/** Serves the app on a free port of 127.0.0.1, as `precedent serve` does. */
async function listen(ctx: Services): Promise<string> {
  const app = createApp(ctx);
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
  return `http://127.0.0.1:${port}`;
}

async function seeded(withModel = true): Promise<Services> {
  const ctx = t.ctx();
  if (withModel) ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  return ctx;
}

interface Event {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a server-sent event stream chunk by chunk, as a browser's EventSource would. */
async function readEvents(response: Response): Promise<Event[]> {
  const events: Event[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new TextDecoderStream())
    .getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buffer += value;
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
    if (done) return events;
  }
}

function solveRequest(body: unknown, accept = "text/event-stream"): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", accept },
    body: JSON.stringify(body),
  };
}

describe("solve as server-sent events over a real socket", () => {
  it("streams recalled, each sample, vote, verified and done in order; done's run id reads back", async () => {
    const url = await listen(await seeded());
    const response = await fetch(
      `${url}/v1/banks/arith/solve`,
      solveRequest({ query, samples: 4, adaptive: false, gold: "54" }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(response);

    expect(events.map((e) => e.event)).toEqual([
      "recalled",
      "sample",
      "sample",
      "sample",
      "sample",
      "vote",
      "verified",
      "done",
    ]);
    const [recalled] = events;
    expect(recalled?.data).toMatchObject({ memories: [{ rank: 1 }] });
    const memories = recalled?.data.memories as { id: string; scores: Record<string, number> }[];
    expect(memories[0]?.id).toMatch(/^mem_/);
    expect(Object.keys(memories[0]?.scores ?? {}).sort()).toEqual(SCORE_NAMES);
    const samples = events.filter((e) => e.event === "sample").map((e) => e.data);
    expect(samples.map((s) => s.index).sort()).toEqual([0, 1, 2, 3]);
    expect(samples.every((s) => s.answer === "54" && "confidence" in s)).toBe(true);
    expect(events[5]?.data).toMatchObject({ winner: { answer: "54", count: 4 }, confidence: 1 });
    expect(events[5]?.data.tally).toHaveLength(1);
    expect(events[6]?.data).toMatchObject({ verdict: "correct", verifier: "gold" });
    expect(typeof events[6]?.data.reason).toBe("string");

    const done = events[7]?.data as { runId: string; samples: number; recalled: { memoryId: string }[] };
    expect(done).toMatchObject({ answer: "54", verdict: "correct", status: "completed", samples: 4 });
    expect(done.recalled.map((r) => r.memoryId)).toEqual([memories[0]?.id]);

    const run = await fetch(`${url}/v1/runs/${done.runId}`);
    expect(run.status).toBe(200);
    const stored = (await run.json()) as { id: string; samples: unknown[]; recalls: unknown[] };
    expect(stored.id).toBe(done.runId);
    expect(stored.samples).toHaveLength(4);
    expect(stored.recalls).toEqual(done.recalled);
  });

  it("gives the same body as the JSON answer in `done`", async () => {
    const url = await listen(await seeded());
    const body = { query, samples: 4, adaptive: false, gold: "54", writeBack: false };
    const json = (await (
      await fetch(`${url}/v1/banks/arith/solve`, solveRequest(body, "application/json"))
    ).json()) as Record<string, unknown>;
    const events = await readEvents(await fetch(`${url}/v1/banks/arith/solve`, solveRequest(body)));
    const done = events.at(-1)?.data as Record<string, unknown>;
    expect(Object.keys(done).sort()).toEqual(Object.keys(json).sort());
    // the first solve credited the recalled memory, so its utility (and final score) moved since
    const stable = ({ runId: _r, timings: _t, recalled, ...rest }: Record<string, unknown>) => ({
      ...rest,
      recalled: (recalled as { memoryId: string }[]).map((r) => r.memoryId),
    });
    expect(stable(done)).toEqual(stable(json));
    expect(done.runId).not.toBe(json.runId);
  });

  it("answers validation, unknown bank and missing model as ordinary problem+json, not as a stream", async () => {
    const url = await listen(await seeded(false));
    for (const [body, path, status] of [
      [{ query: "" }, "/v1/banks/arith/solve", 400],
      [{ query, samples: 65 }, "/v1/banks/arith/solve", 400],
      [{ query }, "/v1/banks/nope/solve", 404],
      [{ query }, "/v1/banks/arith/solve", 503],
    ] as const) {
      const response = await fetch(`${url}${path}`, solveRequest(body));
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ status });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a 10 MB body over the socket with 413 problem+json, before reading it", async () => {
    const url = await listen(await seeded());
    const response = await fetch(
      `${url}/v1/banks/arith/solve`,
      solveRequest({ query: "x".repeat(10_000_000) }),
    );
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ type: "/problems/payload-too-large", field: "body" });
    expect(fake.requests).toHaveLength(0);
  });

  it("sends an error event with a problem when the solve fails after the stream started, then closes", async () => {
    const ctx = await seeded();
    const real = ctx.index;
    // the index fails on the write-back after the vote: the stream has already sent its first events
    const failing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === "upsert") return async () => Promise.reject(new Error("index is down"));
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const url = await listen({ ...ctx, index: failing });
    const response = await fetch(
      `${url}/v1/banks/arith/solve`,
      solveRequest({ query, samples: 4, adaptive: false, gold: "54" }),
    );
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events.map((e) => e.event)).toEqual([
      "recalled",
      "sample",
      "sample",
      "sample",
      "sample",
      "vote",
      "verified",
      "error",
    ]);
    const problem = events.at(-1)?.data as Record<string, unknown>;
    expect(problem).toMatchObject({ type: "/problems/internal-error", title: "Internal error", status: 500 });
    expect(problem.detail).toMatch(/quote request id/);
    expect(JSON.stringify(problem)).not.toMatch(/index is down|\bat .+:\d+:\d+/);
  });
});
