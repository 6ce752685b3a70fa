import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { queryRows } from "../src/db/database.js";
import { createModelClient } from "../src/reasoning/model.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";
import { connectHttp, listen, structured, toolProblem } from "./support/mcp.js";

const t = useTestContext({ shared: true });
const ADMIN = "admin-token-for-tests-0123456789";
const BETA_PROBLEM = "Beta has 6 crates of 9 melons. How many melons?";

type Need = "none" | "read" | "write";
const beta = { runId: "", memoryId: "" };

/** Every tool with valid arguments against bank beta: the first test fails if a tool is missing. */
const TOOL_CALLS: Record<string, { need: Need; args: () => Record<string, unknown> }> = {
  list_banks: { need: "none", args: () => ({}) },
  recall: { need: "read", args: () => ({ bank: "beta", query: "How many melons are in 3 crates of 4?" }) },
  solve: {
    need: "write",
    args: () => ({ bank: "beta", query: "How many melons in 2 crates of 3?", samples: 1 }),
  },
  get_run: { need: "read", args: () => ({ runId: beta.runId }) },
  feedback: { need: "write", args: () => ({ runId: beta.runId, correct: true }) },
  remember: {
    need: "write",
    args: () => ({
      bank: "beta",
      problem: "Beta has 2 crates of 5 melons. How many melons?",
      reasoning: "2 * 5 = 10",
      answer: "10",
    }),
  },
};
const BANK_TOOLS = Object.keys(TOOL_CALLS).filter((name) => TOOL_CALLS[name]?.need !== "none");

let fake: FakeOpenAI;
let server: Awaited<ReturnType<typeof listen>>;
const clients: { alphaWriter?: Client; betaReader?: Client } = {};
const tokens = { alphaWriter: "", betaReader: "" };

/** Row counts and fingerprints of everything a call could change. */
async function databaseState() {
  const [row] = await queryRows<Record<string, string>>(
    t.ctx().db,
    sql`select (select count(*) from memories) as memories,
               (select count(*) from memories where status = 'active') as active,
               (select coalesce(sum(recalled_count + helped_count + hurt_count + support_count), 0) from memories) as credit,
               (select count(*) from runs) as runs,
               (select count(*) from feedback) as feedback`,
  );
  return row;
}

const call = (client: Client | undefined, name: string) =>
  (client as Client).callTool({ name, arguments: TOOL_CALLS[name]?.args() });

beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  const app = createApp(ctx, { adminToken: ADMIN });
  await bankWithProblems(ctx, { id: "alpha", domain: "number" }, [
    { problem: "Alpha has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  await bankWithProblems(ctx, { id: "beta", domain: "number" }, [
    { problem: BETA_PROBLEM, answer: "54", reasoning: "6 * 9 = 54" },
  ]);
  server = await listen(app);
  const admin = await connectHttp(server.url, ADMIN);
  const solved = structured<{ runId: string; recalled: { memoryId: string }[] }>(
    await admin.callTool({
      name: "solve",
      arguments: { bank: "beta", query: "Beta has 7 crates of 9 melons. How many melons?", samples: 2 },
    }),
  );
  beta.runId = solved.runId;
  beta.memoryId = solved.recalled[0]?.memoryId ?? "";
  await admin.close();
  const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  for (const [name, scopes] of [
    ["alphaWriter", ["bank:alpha:write"]],
    ["betaReader", ["bank:beta:read"]],
  ] as const) {
    const created = await fetch(`${server.url}/v1/keys`, {
      method: "POST",
      headers,
      body: JSON.stringify({ scopes }),
    });
    tokens[name] = ((await created.json()) as { token: string }).token;
    clients[name] = await connectHttp(server.url, tokens[name]);
  }
});
afterAll(async () => {
  await clients.alphaWriter?.close();
  await clients.betaReader?.close();
  await server?.close();
  await fake?.close();
});

describe("MCP tools under the keys' scopes", () => {
  it("the table covers every tool", async () => {
    const { tools } = await (clients.alphaWriter as Client).listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(Object.keys(TOOL_CALLS).sort());
  });

  it.each(BANK_TOOLS)(
    "a key for bank alpha gets not-found and nothing of bank beta from %s",
    async (name) => {
      const before = await databaseState();
      const result = await call(clients.alphaWriter, name);
      expect(toolProblem(result)).toMatchObject({ type: "/problems/not-found", status: 404 });
      const text = JSON.stringify(result);
      expect(text).not.toContain("melons");
      expect(text).not.toContain(beta.memoryId);
      expect(await databaseState()).toEqual(before);
    },
  );

  it.each(BANK_TOOLS.filter((name) => TOOL_CALLS[name]?.need === "write"))(
    "a read-only key for bank beta is forbidden %s and changes nothing",
    async (name) => {
      const before = await databaseState();
      const result = await call(clients.betaReader, name);
      expect(toolProblem(result)).toMatchObject({ type: "/problems/forbidden", status: 403 });
      expect(await databaseState()).toEqual(before);
    },
  );

  it.each(BANK_TOOLS.filter((name) => TOOL_CALLS[name]?.need === "read"))(
    "a read-only key for bank beta may read it with %s",
    async (name) => {
      const result = await call(clients.betaReader, name);
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.structuredContent)).toContain("melons");
    },
  );

  it("lists a key only its own banks, as tools and as resources, and reads no other bank's resource", async () => {
    const alpha = clients.alphaWriter as Client;
    const banks = structured<{ banks: { id: string }[] }>(await call(alpha, "list_banks"));
    expect(banks.banks.map((b) => b.id)).toEqual(["alpha"]);
    expect((await alpha.listResources()).resources.map((r) => r.uri)).toEqual(["precedent://banks/alpha"]);
    for (const uri of ["precedent://banks/beta", `precedent://runs/${beta.runId}`]) {
      const error = await alpha
        .readResource({ uri })
        .catch((e: unknown) => e as { code: number; message: string });
      expect(error).toMatchObject({ code: -32002 });
      expect(JSON.stringify(error)).not.toContain("melons");
    }
  });

  it("refuses a connection without a key, or with an unknown one, on a server with keys", async () => {
    await expect(connectHttp(server.url)).rejects.toThrow(/401/);
    await expect(connectHttp(server.url, "pk_not-a-key")).rejects.toThrow(/401/);
  });
});

describe("bad input to MCP tools", () => {
  const nul = "a\u0000b";
  const valid = { bank: "alpha", problem: "What is 2 + 3?", reasoning: "2 + 3 = 5", answer: "5" };
  const CASES: [string, Record<string, unknown>, string][] = [
    ["list_banks", { extra: 1 }, "extra"],
    ["recall", { bank: "alpha", query: 5 }, "query"],
    ["recall", { bank: "alpha", query: "x".repeat(20_001) }, "query"],
    ["recall", { bank: "alpha", query: nul }, "query"],
    ["recall", { bank: "alpha", query: "pens", k: 51 }, "k"],
    ["recall", { bank: "Alpha!", query: "pens" }, "bank"],
    ["recall", { bank: "alpha", query: "pens", colour: "red" }, "colour"],
    ["solve", { bank: "alpha", query: "pens", samples: 65 }, "samples"],
    ["solve", { bank: "alpha", query: "pens", temperature: "hot" }, "temperature"],
    ["solve", { bank: "alpha", query: nul }, "query"],
    ["solve", { query: "pens" }, "bank"],
    ["get_run", { runId: "nope" }, "runId"],
    ["get_run", { runId: 5 }, "runId"],
    ["feedback", { runId: "run_0", correct: "yes" }, "correct"],
    ["feedback", { runId: "run_0", correct: false, answer: nul }, "answer"],
    ["remember", { ...valid, problem: nul }, "problem"],
    ["remember", { ...valid, answer: 5 }, "answer"],
    ["remember", { ...valid, answer: "five-ish" }, "answer"],
    ["remember", { ...valid, reasoning: "x".repeat(50_001) }, "reasoning"],
    ["remember", { ...valid, evidence: { kind: "oracle" } }, "evidence.kind"],
    ["remember", { ...valid, evidence: { kind: "gold", answer: nul } }, "evidence.answer"],
  ];

  it("names the field for every tool, as REST's problem does, and stores nothing and calls no model", async () => {
    const alpha = clients.alphaWriter as Client;
    const before = await databaseState();
    const modelCalls = fake.requests.length;
    for (const [name, args, field] of CASES) {
      const problem = toolProblem(await alpha.callTool({ name, arguments: args }));
      expect(problem, `${name} ${JSON.stringify(args).slice(0, 60)}`).toMatchObject({
        type: "/problems/validation-error",
        field,
      });
      expect(problem.detail).toContain(field);
    }
    expect(await databaseState()).toEqual(before);
    expect(fake.requests.length).toBe(modelCalls);
  });

  it("gives the same field and message as REST for the same fault", async () => {
    const alpha = clients.alphaWriter as Client;
    const response = await fetch(`${server.url}/v1/banks/alpha/recall`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.alphaWriter}`, "content-type": "application/json" },
      body: JSON.stringify({ query: "pens", k: 51 }),
    });
    const rest = (await response.json()) as Record<string, unknown>;
    const mcp = toolProblem(
      await alpha.callTool({ name: "recall", arguments: { bank: "alpha", query: "pens", k: 51 } }),
    );
    expect(mcp).toEqual(rest);
  });
});
