import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createModelClient } from "../src/reasoning/model.js";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { TEST_DATABASE } from "./support/database.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";
import { CLIENT, connectHttp, listen, structured } from "./support/mcp.js";

const BIN = resolve(import.meta.dirname, "..", "bin", "precedent.mjs");
const MEMORY = {
  problem: "Sam has 4 boxes of 6 pens. How many pens?",
  answer: "24",
  reasoning: "4 * 6 = 24",
};
const QUERY = "Kai has 6 boxes of 9 pens. How many pens?";
const MODEL_ANSWER = "6 * 9 = 54\n#### 54";
const TOOL_NAMES = ["list_banks", "recall", "solve", "get_run", "feedback", "remember"];

type Json = Record<string, unknown>;

/** An MCP client and the REST API of the same server, to compare their answers. */
interface Target {
  client: Client;
  rest(path: string, body?: unknown): Promise<Json>;
}

function restOf(url: string): Target["rest"] {
  return async (path, body) => {
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
    return (await response.json()) as Json;
  };
}

/** The JSON a resource read gave. */
function resourceJson(read: { contents: ({ text: string } | { blob: string })[] }): unknown {
  const [first] = read.contents;
  return JSON.parse(first && "text" in first ? first.text : "null");
}

const withoutTimings = ({ timings: _t, ...rest }: Json) => rest;

/** The same behaviours, whichever transport carries them. */
function behavesLikeRest(target: () => Target) {
  it("lists the six tools, each with an input schema that names its fields and an output schema", async () => {
    const { tools } = await target().client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    const recall = tools.find((t) => t.name === "recall");
    expect(recall?.inputSchema.required).toEqual(["bank", "query"]);
    expect(recall?.inputSchema.properties).toMatchObject({
      k: { maximum: 50 },
      query: { maxLength: 20_000 },
    });
    for (const t of tools) expect(t.outputSchema?.type, t.name).toBe("object");
  });

  it("lists the banks REST lists", async () => {
    const listed = structured(await target().client.callTool({ name: "list_banks", arguments: {} }));
    expect(listed).toEqual(await target().rest("/v1/banks"));
  });

  it("recalls the memories REST recalls, with the same scores", async () => {
    const args = { bank: "arith", query: QUERY, k: 3 };
    const recalled = structured(await target().client.callTool({ name: "recall", arguments: args }));
    const rest = await target().rest("/v1/banks/arith/recall", { query: QUERY, k: 3 });
    expect(withoutTimings(recalled)).toEqual(withoutTimings(rest));
    expect((recalled.memories as Json[])[0]).toMatchObject({ problem: MEMORY.problem, answer: "24" });
  });

  it("solves with the model, reporting progress while it samples, and the run reads back as REST reads it", async () => {
    const progress: string[] = [];
    const result = await target().client.callTool(
      { name: "solve", arguments: { bank: "arith", query: QUERY, samples: 4, gold: "54" } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? "") },
    );
    const solved = structured<{ runId: string; recalled: { memoryId: string }[] } & Json>(result);
    expect(solved).toMatchObject({
      answer: "54",
      verdict: "correct",
      verification: "gold",
      status: "completed",
    });
    expect(progress[0]).toMatch(/^recalled 1 memory: mem_/);
    expect(progress.filter((m) => m.startsWith("sample "))).toHaveLength(4);
    expect(progress.at(-1)).toMatch(/^verified: correct by gold/);

    const run = structured(
      await target().client.callTool({ name: "get_run", arguments: { runId: solved.runId } }),
    );
    const restRun = await target().rest(`/v1/runs/${solved.runId}`);
    expect(run).toEqual(restRun);
    expect(run.recalls).toEqual(solved.recalled);
    const resource = await target().client.readResource({ uri: `precedent://runs/${solved.runId}` });
    expect(resourceJson(resource)).toEqual(restRun);
  });

  it("takes feedback on a run: the memory consensus left in quarantine becomes active", async () => {
    const query = "Lee has 7 boxes of 8 pens. How many pens?";
    const solved = structured<{ runId: string; writtenMemory: { memoryId: string; status: string } } & Json>(
      await target().client.callTool({ name: "solve", arguments: { bank: "arith", query, samples: 4 } }),
    );
    expect(solved).toMatchObject({ verification: "consensus", writtenMemory: { status: "quarantined" } });
    const memoryId = solved.writtenMemory.memoryId;
    const feedback = structured(
      await target().client.callTool({ name: "feedback", arguments: { runId: solved.runId, correct: true } }),
    );
    expect(feedback).toEqual({
      runId: solved.runId,
      verdict: "correct",
      memory: { id: memoryId, status: "active", changed: true },
      credited: false,
    });
    expect(await target().rest(`/v1/banks/arith/memories/${memoryId}`)).toMatchObject({
      status: "active",
      verification: "feedback",
    });
  });

  it("remembers an agent's solution with its client as provenance, as REST's solutions route does", async () => {
    const solution = {
      problem: "Ana has 3 bags of 5 plums. How many plums?",
      reasoning: "3 * 5 = 15",
      answer: "15",
      evidence: { kind: "gold", answer: "15" },
    };
    const remembered = structured<{ writtenMemory: { memoryId: string } } & Json>(
      await target().client.callTool({ name: "remember", arguments: { bank: "arith", ...solution } }),
    );
    expect(remembered).toMatchObject({
      verdict: "correct",
      verification: "gold",
      writtenMemory: { action: "created", status: "active" },
    });
    const memory = await target().rest(`/v1/banks/arith/memories/${remembered.writtenMemory.memoryId}`);
    expect(memory).toMatchObject({
      source: "agent",
      verification: "gold",
      runId: remembered.runId,
      metadata: { agent: { source: "agent", client: CLIENT, evidence: "gold" } },
    });

    const other = { ...solution, problem: "Bo has 4 bags of 5 plums. How many plums?", answer: "20" };
    const rest = await target().rest("/v1/banks/arith/solutions", {
      ...other,
      evidence: { kind: "gold", answer: "20" },
    });
    const { runId: _a, writtenMemory: mcpWritten, ...mcpRest } = remembered;
    const { runId: _b, writtenMemory: restWritten, ...restRest } = rest as typeof remembered;
    expect(restRest).toEqual({ ...mcpRest, reason: "matches the gold answer 20" });
    expect(Object.keys(mcpWritten)).toEqual(Object.keys(restWritten));
  });

  it("reads a bank's figures as a resource, as REST gives them", async () => {
    const { resources } = await target().client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(["precedent://banks/arith"]);
    const read = await target().client.readResource({ uri: "precedent://banks/arith" });
    expect(resourceJson(read)).toEqual(await target().rest("/v1/banks/arith"));
    const { resourceTemplates } = await target().client.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate)).toEqual([
      "precedent://banks/{bank}",
      "precedent://runs/{runId}",
    ]);
  });
}

describe("MCP over Streamable HTTP (a listening server's /mcp)", () => {
  const t = useTestContext({ shared: true });
  let fake: FakeOpenAI;
  let server: Awaited<ReturnType<typeof listen>>;
  let target: Target;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: MODEL_ANSWER } });
    const ctx = t.ctx();
    ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
    await bankWithProblems(ctx, { id: "arith", domain: "number" }, [MEMORY]);
    server = await listen(createApp(ctx));
    target = { client: await connectHttp(server.url), rest: restOf(server.url) };
  });
  afterAll(async () => {
    await target?.client.close();
    await server?.close();
    await fake?.close();
  });

  behavesLikeRest(() => target);

  it("answers a second client alike: no state is kept between requests", async () => {
    const second = await connectHttp(server.url);
    try {
      const banks = structured(await second.callTool({ name: "list_banks", arguments: {} }));
      expect(banks).toEqual(structured(await target.client.callTool({ name: "list_banks", arguments: {} })));
    } finally {
      await second.close();
    }
  });
});

describe("MCP over stdio (`precedent mcp` as a real process)", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let target: Target;

  beforeAll(async () => {
    const fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: MODEL_ANSWER } });
    cleanups.push(() => fake.close());
    const place = await cliEnvironment();
    cleanups.push(place.drop);
    const model = { PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: fake.url };
    const file = join(place.home, "bank.jsonl");
    writeFileSync(file, JSON.stringify(MEMORY));
    expect((await runCli(["seed", "arith", "--from", file], place.env)).code).toBe(0);
    const served = spawnCli(["serve"], { ...place.env, ...model, PORT: "0" });
    cleanups.push(async () => {
      served.kill("SIGTERM");
      await exited(served, 30_000);
    });
    const [, url] = await waitForOutput(served, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    // on the embedded database `precedent mcp` goes through the server; on Postgres it opens the database
    // itself (with an index of its own, rebuilt from the records)
    const home = TEST_DATABASE === "postgres" ? mkdtempSync(join(tmpdir(), "precedent-mcp-")) : place.home;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, "mcp"],
      env: { ...place.env, ...model, PRECEDENT_HOME: home, NO_COLOR: "1" },
      stderr: "pipe",
    });
    const client = new Client(CLIENT);
    await client.connect(transport);
    cleanups.push(() => client.close());
    target = { client, rest: restOf(url as string) };
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  behavesLikeRest(() => target);
});
