import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { formatRun } from "../src/cli/formatRun.js";
import type { NewBank } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
import type { RunRecord } from "../src/reasoning/runs.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { messageText } from "./support/fakeOpenAI/behaviors.js";
import type { FreeTextBehavior } from "./support/fakeOpenAI/freeText.js";
import { type FakeOpenAI, SELECTION_MARKER, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

const QUESTION = "What is the capital of France?";
const meaningOf = (answer: string) => (/paris/i.test(answer) ? "Paris" : "Lyon");
/** Free-text answers in this order, sample after sample: paraphrases of one meaning, and one other. */
const model = (answers: string[], selection?: FreeTextBehavior["selection"]): FreeTextBehavior => ({
  kind: "freeText",
  answers: () => answers,
  meaningOf,
  selection,
});
// the exact-string vote picks "lyon" (2 of 5); three of the five mean Paris, each worded its own way
const SPLIT = ["Lyon", "Paris", "Lyon", "The capital is Paris", "It is Paris"];
// four of five mean Paris, no two worded alike
const MOSTLY_PARIS = ["Paris", "The capital is Paris", "It is Paris", "Paris, on the Seine", "Lyon"];

type Run = RunRecord & { prompt: { role: string; content: string }[] };
const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function served(bank: NewBank) {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, bank, []);
  const app = createApp(ctx);
  const solve = async (body: Record<string, unknown>) => {
    const before = fake.requests.length;
    const response = await app.request(`/v1/banks/${bank.id}/solve`, post({ query: QUESTION, ...body }));
    expect(response.status).toBe(200);
    const result = (await response.json()) as { runId: string; answer?: string; verification: string };
    const run = (await (await app.request(`/v1/runs/${result.runId}`)).json()) as Run;
    const requests = fake.requests.slice(before).map((r) => r.body as { messages: never[] });
    const selections = requests.filter((r) => messageText(r.messages[0] as never).includes(SELECTION_MARKER));
    return { result, run, requests, selections, app };
  };
  return { solve };
}

const FIVE = { samples: 5, batchSize: 5, adaptive: false, strategy: "plain" };

describe("universal self-consistency", () => {
  it("picks the meaning most samples share where the exact-string vote splits, and records pick, reason and agreement", async () => {
    fake.setBehavior(model(SPLIT));
    const { solve } = await served({ id: "capitals", domain: "text" });
    // a text bank selects universally unless told otherwise
    const { result, run, requests, selections, app } = await solve(FIVE);
    expect(requests).toHaveLength(2);
    expect(selections).toHaveLength(1);
    expect((run.votes as { winner: { answer: string } }).winner.answer).toBe("lyon");
    expect(meaningOf(result.answer ?? "")).toBe("Paris");
    expect(run.params.selection).toBe("universal");
    expect(run.strategy?.selection).toMatchObject({ method: "universal", sample: 1, agreeing: 3, of: 5 });
    expect(run.strategy?.selection?.reason).toContain("Paris");
    expect(run.strategy?.selection?.fallback).toBeUndefined();
    expect(run.confidence).toBeCloseTo(0.6, 5);
    // the selection call's tokens are the run's too
    const chains = run.samples.reduce((sum, s) => sum + s.tokens, 0);
    expect(run.strategy?.selection?.completionTokens).toBeGreaterThan(0);
    expect(run.usage.completionTokens).toBe(chains + (run.strategy?.selection?.completionTokens ?? 0));
    expect(formatRun(run)).toMatch(/selection +universal: sample #1 · 3 of 5 agree · Responses 1, 3, 4/);
    const page = await (await app.request(`/runs/${run.id}`)).text();
    expect(page).toContain('data-field="selection"');
  });

  it("streams the selection between the vote and the verdict", async () => {
    fake.setBehavior(model(SPLIT));
    const ctx = t.ctx();
    ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
    await bankWithProblems(ctx, { id: "streamed", domain: "text" }, []);
    const response = await createApp(ctx).request("/v1/banks/streamed/solve", {
      ...post({ query: QUESTION, ...FIVE }),
      headers: { "content-type": "application/json", accept: "text/event-stream" },
    });
    const events = (await response.text()).split("\n\n").filter(Boolean);
    const names = events.map((e) => e.match(/^event: (\w+)/m)?.[1]);
    expect(names.filter((n) => n !== "sample")).toEqual(["recalled", "vote", "selected", "verified", "done"]);
    const selected = events.find((e) => e.startsWith("event: selected")) ?? "";
    expect(JSON.parse(selected.split("data: ")[1] ?? "")).toMatchObject({ sample: 1, agreeing: 3, of: 5 });
  });

  it("leaves the pick to the vote when the request, or the bank, asks for the vote", async () => {
    fake.setBehavior(model(SPLIT));
    const asked = await served({ id: "voted", domain: "text" });
    const one = await asked.solve({ ...FIVE, selection: "vote" });
    expect(one.selections).toHaveLength(0);
    expect(one.result.answer).toBe("Lyon");
    expect(one.run.strategy?.selection).toBeUndefined();
    fake.setBehavior(model(SPLIT));
    const banked = await served({ id: "banked-vote", domain: "text", settings: { selection: "vote" } });
    const two = await banked.solve(FIVE);
    expect(two.selections).toHaveLength(0);
    expect(two.result.answer).toBe("Lyon");
  });

  it("is a choice for other domains too, and needs no call when every sample gives the same answer", async () => {
    fake.setBehavior({ kind: "fixed", content: "Adding up.\n#### 12" });
    const numbers = await served({ id: "numbers", domain: "number" });
    const voted = await numbers.solve({ ...FIVE });
    expect(voted.run.params.selection).toBe("vote");
    const universal = await numbers.solve({ ...FIVE, selection: "universal" });
    expect(universal.selections).toHaveLength(0);
    expect(universal.run.strategy?.selection).toMatchObject({ unanimous: true, agreeing: 5, of: 5 });
  });

  it("refuses universal selection over a single sample, naming the field", async () => {
    const ctx = t.ctx();
    ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
    await bankWithProblems(ctx, { id: "single", domain: "text" }, []);
    const response = await createApp(ctx).request(
      "/v1/banks/single/solve",
      post({ query: QUESTION, samples: 1, selection: "universal" }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { field: string }).field).toBe("selection");
  });
});

describe("consensus on free text", () => {
  it("accepts the answer most samples agree with in meaning, where equal strings never reach the threshold", async () => {
    fake.setBehavior(model(MOSTLY_PARIS));
    const { solve } = await served({ id: "consensus", domain: "text" });
    const universal = await solve(FIVE);
    expect(universal.run.strategy?.selection).toMatchObject({ agreeing: 4, of: 5 });
    expect(universal.result.verification).toBe("consensus");
    expect(universal.run.verdict).toBe("correct");
    expect(meaningOf(universal.result.answer ?? "")).toBe("Paris");
    fake.setBehavior(model(MOSTLY_PARIS));
    const voted = await solve({ ...FIVE, selection: "vote" });
    expect(voted.result.verification).toBe("none");
    expect(voted.run.verdict).toBe("unknown");
  });

  it("does not accept what fewer samples agree with than the threshold", async () => {
    fake.setBehavior(model(SPLIT));
    const { solve } = await served({ id: "split", domain: "text" });
    const { result } = await solve(FIVE);
    // 3 of 5 agree: 60%, below the 70% consensus asks
    expect(result.verification).toBe("none");
  });
});

describe("a botched selection", () => {
  it("falls back to the vote when the model names a response that is not there, and the run says so", async () => {
    fake.setBehavior(model(SPLIT, "out-of-range"));
    const { solve } = await served({ id: "out-of-range", domain: "text" });
    const { result, run, selections } = await solve(FIVE);
    expect(selections).toHaveLength(1);
    expect(result.answer).toBe("Lyon");
    expect(run.strategy?.selection?.fallback).toMatch(/response 99, which is not among them.*plain vote/);
    expect(run.strategy?.selection).toMatchObject({ agreeing: 2, of: 5 });
    expect(run.strategy?.selection?.completionTokens).toBeGreaterThan(0);
    expect(run.usage.completionTokens).toBeGreaterThan(run.samples.reduce((sum, s) => sum + s.tokens, 0));
  });

  it("falls back to the vote when the reply is not JSON", async () => {
    fake.setBehavior(model(SPLIT, "unparsable"));
    const { solve } = await served({ id: "unparsable", domain: "text" });
    const { result, run } = await solve(FIVE);
    expect(result.answer).toBe("Lyon");
    expect(run.strategy?.selection?.fallback).toContain("not the JSON asked for");
    expect(formatRun(run)).toContain("fell back");
  });

  it("falls back to the vote when the selection call fails, and keeps the run", async () => {
    fake.setBehavior(model(SPLIT, "error"));
    const { solve } = await served({ id: "failing", domain: "text" });
    const { result, run, selections } = await solve(FIVE);
    expect(selections).toHaveLength(1);
    expect(run.status).toBe("completed");
    expect(result.answer).toBe("Lyon");
    expect(run.strategy?.selection?.fallback).toContain("the selection call failed");
  });
});
