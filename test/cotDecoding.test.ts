import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { formatRun } from "../src/cli/formatRun.js";
import { PROBE_MESSAGES } from "../src/reasoning/endpointCapabilities.js";
import { createModelClient } from "../src/reasoning/model.js";
import type { RunRecord } from "../src/reasoning/runs.js";
import { cliEnvironment, runCli } from "./support/cli.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import {
  type Branch,
  type ChatBehavior,
  type FakeOpenAI,
  type FakeOpenAIOptions,
  type RecordedRequest,
  startFakeOpenAI,
} from "./support/fakeOpenAI.js";

const t = useTestContext();
const started: FakeOpenAI[] = [];
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await Promise.all([fake, ...started].map((f) => f.close()));
});

const QUESTION = "Ann has 3 apples, Ben gives her 4 and Cy gives her 2. How many apples does Ann have?";
// the greedy first token starts a path to a wrong answer the model is unsure of; an alternative first
// token leads to the right one, with answer tokens it is sure of (CoT-decoding's observation)
const BRANCHES: Branch[] = [
  { token: "Five", probability: 0.5, continuation: " apples are left.\n#### 5", confidence: 0.4 },
  { token: "Start", probability: 0.3, continuation: " with 3, add 4 and 2: 9.\n#### 9", confidence: 0.95 },
  { token: "Nine", probability: 0.15, continuation: ", since 3 + 4 + 2 = 9.\n#### 9", confidence: 0.7 },
  { token: "Hmm", probability: 0.05, continuation: ", I am not sure.", confidence: 0.5 },
];
const MODEL: ChatBehavior = {
  kind: "branching",
  branches: (q) => (q.includes("apples") ? BRANCHES : undefined),
};
// per answer token the fake's second choice has 0.9 × what the first leaves: margin c − 0.9·min(c, 1 − c)
const marginOf = (c: number) => c - 0.9 * Math.min(c, 1 - c);

type Run = RunRecord & { prompt: { role: string; content: string }[] };
const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const lastMessage = (r: RecordedRequest) =>
  (r.body as { messages?: { role: string; content: string }[] }).messages?.at(-1);
const isProbe = (r: RecordedRequest) => {
  const last = lastMessage(r);
  return last?.role === "assistant" && last.content === PROBE_MESSAGES.at(-1)?.content;
};

async function startFake(options: FakeOpenAIOptions) {
  const f = await startFakeOpenAI({ behavior: MODEL, ...options });
  started.push(f);
  return f;
}

async function served(id: string, endpoint: FakeOpenAI = fake) {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: endpoint.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id, domain: "number" }, []);
  const app = createApp(ctx);
  const ask = (body: Record<string, unknown>) =>
    app.request(`/v1/banks/${id}/solve`, post({ query: QUESTION, strategy: "plain", ...body }));
  const solve = async (body: Record<string, unknown> = {}) => {
    const before = endpoint.requests.length;
    const response = await ask({ decoding: "cot-decoding", ...body });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { runId: string; answer?: string; confidence: number };
    const run = (await (await app.request(`/v1/runs/${result.runId}`)).json()) as Run;
    return { result, run, requests: endpoint.requests.slice(before) };
  };
  return { app, ask, solve };
}

describe("CoT-decoding", () => {
  it("continues each first-token alternative greedily and picks the path with the largest answer margin", async () => {
    fake.setBehavior(MODEL);
    const { app, solve } = await served("cot");
    const { result, run, requests } = await solve();
    expect(result.answer).toBe("9");
    const decoding = run.strategy?.decoding;
    expect(decoding?.chosenSample).toBe(1);
    expect(decoding?.paths.map((p) => p.firstToken)).toEqual(["Five", "Start", "Nine", "Hmm"]);
    expect(decoding?.paths[0]?.margin).toBeCloseTo(marginOf(0.4), 6);
    expect(decoding?.paths[1]?.margin).toBeCloseTo(marginOf(0.95), 6);
    expect(decoding?.paths[2]?.margin).toBeCloseTo(marginOf(0.7), 6);
    // a path without an answer has no margin, and does not count in the agreement
    expect(decoding?.paths[3]?.margin).toBeUndefined();
    expect(result.confidence).toBeCloseTo(2 / 3, 6);
    expect(decoding?.paths[1]?.firstTokenProbability).toBeCloseTo(0.3, 6);
    // each path is a sample: the forced first token, then its greedy continuation
    expect(run.samples[1]?.text).toBe(`Start${BRANCHES[1]?.continuation}`);
    expect(run.samples[0]?.answer).toBe("5");
    // the probe, the first step with the alternatives, then one greedy continuation per branch
    const chat = requests.filter((r) => r.path === "/v1/chat/completions");
    expect(chat.filter(isProbe)).toHaveLength(1);
    const first = chat.find((r) => !isProbe(r) && lastMessage(r)?.role === "user")?.body as Record<
      string,
      unknown
    >;
    expect(first).toMatchObject({ logprobs: true, top_logprobs: 10, max_tokens: 1 });
    const continued = chat.filter((r) => !isProbe(r) && lastMessage(r)?.role === "assistant");
    expect(continued.map((r) => lastMessage(r)?.content)).toEqual(["Five", "Start", "Nine", "Hmm"]);
    for (const r of continued) expect(r.body).toMatchObject({ temperature: 0, continue_final_message: true });
    expect(run.params).toMatchObject({ decoding: "cot-decoding", samples: 10 });
    expect(formatRun(run)).toMatch(/decoding +cot-decoding: 4 of 10 branches · path #1 picked/);
    expect(formatRun(run)).toContain('path #1  first "Start" (p 0.30)  margin 0.905');
    const page = await (await app.request(`/runs/${run.id}`)).text();
    expect(page.match(/data-field="path"/g)).toHaveLength(4);
  });

  it("takes no more branches than asked", async () => {
    fake.setBehavior(MODEL);
    const { solve } = await served("two");
    const { run, result } = await solve({ branches: 2 });
    expect(run.strategy?.decoding?.paths.map((p) => p.firstToken)).toEqual(["Five", "Start"]);
    expect(result.answer).toBe("9");
  });

  it("asks the endpoint what it can do once, however many solves follow", async () => {
    const endpoint = await startFake({});
    const { solve } = await served("once", endpoint);
    const first = await solve();
    const second = await solve();
    await solve({ branches: 3 });
    expect(endpoint.requests.filter(isProbe)).toHaveLength(1);
    expect(first.run.strategy?.decoding?.probed).toBe(true);
    expect(second.run.strategy?.decoding?.probed).toBe(false);
  });
});

describe("an endpoint that cannot CoT-decode", () => {
  const refused = async (response: Response) => {
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    return (await response.json()) as { type: string; field: string; detail: string };
  };

  it("without token alternatives: 400 naming decoding and the logprobs it lacks, asked once", async () => {
    const endpoint = await startFake({ supportsLogprobs: false });
    const { ask } = await served("no-logprobs", endpoint);
    const problem = await refused(await ask({ decoding: "cot-decoding" }));
    expect(problem.field).toBe("decoding");
    expect(problem.type).toBe("/problems/validation-error");
    expect(problem.detail).toContain("token alternatives (logprobs with top_logprobs)");
    expect(problem.detail).not.toContain("assistant prefix");
    await refused(await ask({ decoding: "cot-decoding" }));
    expect(endpoint.requests.filter(isProbe)).toHaveLength(1);
    // sampling still works on it
    expect((await ask({ samples: 2, adaptive: false })).status).toBe(200);
  });

  it("refuses before anything is recalled or stored, so a stream answers the same 400", async () => {
    const endpoint = await startFake({ supportsLogprobs: false });
    const { app } = await served("no-logprobs-stream", endpoint);
    const response = await app.request("/v1/banks/no-logprobs-stream/solve", {
      ...post({ query: QUESTION, decoding: "cot-decoding" }),
      headers: { "content-type": "application/json", accept: "text/event-stream" },
    });
    const problem = await refused(response);
    expect(problem.field).toBe("decoding");
    const runs = (await (await app.request("/v1/banks/no-logprobs-stream/runs")).json()) as {
      runs: unknown[];
    };
    expect(runs.runs).toEqual([]);
  });

  it("without continuing an assistant prefix: 400 naming what is missing", async () => {
    const endpoint = await startFake({ supportsPrefix: false });
    const { ask } = await served("no-prefix", endpoint);
    const problem = await refused(await ask({ decoding: "cot-decoding" }));
    expect(problem.field).toBe("decoding");
    expect(problem.detail).toContain("continuing an assistant prefix (continue_final_message)");
    expect(problem.detail).not.toContain("token alternatives");
  });

  it("an endpoint that fails while asked answers 503 and is asked again next time", async () => {
    const endpoint = await startFake({});
    const { ask } = await served("down", endpoint);
    endpoint.failNext(1, 500);
    const response = await ask({ decoding: "cot-decoding" });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { type: string }).type).toBe("/problems/unavailable");
    expect((await ask({ decoding: "cot-decoding" })).status).toBe(200);
    expect(endpoint.requests.filter(isProbe)).toHaveLength(2);
  });
});

describe("options that contradict each other", () => {
  it.each([
    [{ decoding: "cot-decoding", samples: 4 }, "samples"],
    [{ decoding: "cot-decoding", adaptive: true }, "adaptive"],
    [{ decoding: "cot-decoding", selection: "universal" }, "selection"],
    [{ branches: 4 }, "branches"],
    [{ decoding: "sample", branches: 4 }, "branches"],
    [{ decoding: "cot-decoding", branches: 1 }, "branches"],
    [{ decoding: "cot-decoding", branches: 21 }, "branches"],
    [{ decoding: "beam" }, "decoding"],
    [{ selection: "best" }, "selection"],
  ])("%j is a 400 naming %s", async (options, field) => {
    const { ask } = await served("contradictions");
    const before = fake.requests.length;
    const response = await ask(options);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { field: string; detail: string };
    expect(problem.field).toBe(field);
    expect(problem.detail.startsWith(`${field}:`)).toBe(true);
    expect(fake.requests.length).toBe(before);
  });

  it("takes cot-decoding with one sample, adaptive off, or the vote named", async () => {
    fake.setBehavior(MODEL);
    const { solve } = await served("compatible");
    for (const options of [{ samples: 1 }, { adaptive: false }, { selection: "vote" }]) {
      expect((await solve(options)).result.answer).toBe("9");
    }
  });

  it("refuses them in the OpenAI-compatible route's precedent options too", async () => {
    const { app } = await served("chat");
    const response = await app.request(
      "/v1/chat/completions",
      post({
        model: "precedent/chat",
        messages: [{ role: "user", content: QUESTION }],
        precedent: { decoding: "cot-decoding", samples: 3 },
      }),
    );
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain("samples");
  });
});

describe("precedent solve --decoding", () => {
  it("CoT-decodes from the command line, and refuses a sample count beside it naming the flag", async () => {
    const place = await cliEnvironment();
    try {
      const file = join(place.home, "bank.jsonl");
      writeFileSync(
        file,
        JSON.stringify({ problem: "Lila has 3 bags of 7 pears. How many pears?", answer: "21" }),
      );
      expect((await runCli(["seed", "fruit", "--from", file], place.env)).code).toBe(0);
      const env = { ...place.env, PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: fake.url };
      fake.setBehavior(MODEL);
      const solved = await runCli(
        ["solve", "--bank", "fruit", "--decoding", "cot-decoding", "--json", QUESTION],
        env,
      );
      expect(solved.stderr).toBe("");
      expect(JSON.parse(solved.stdout)).toMatchObject({ answer: "9", samples: 4 });
      const refused = await runCli(
        ["solve", "--bank", "fruit", "--decoding", "cot-decoding", "--samples", "3", QUESTION],
        env,
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("samples");
      const unknown = await runCli(["solve", "--bank", "fruit", "--selection", "best", QUESTION], env);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain("--selection must be one of vote, universal");
    } finally {
      await place.drop();
    }
  });
});
