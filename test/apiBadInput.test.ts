import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { MAX_IMPORT_BATCH, MAX_IMPORT_BODY_BYTES, MAX_JSON_BODY_BYTES } from "../src/api/limits.js";
import { banks, feedback, memories, runRecalls, runSamples, runs } from "../src/db/schema.js";
import { MAX_K, MAX_PROBLEM_CHARS, MAX_SAMPLES } from "../src/limits.js";
import { createModelClient } from "../src/reasoning/model.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

// One bank, one memory and one solved run, shared by every case: each case must leave them as they are
const t = useTestContext({ shared: true });
let fake: FakeOpenAI;
let app: ReturnType<typeof createApp>;
let runId: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  ]);
  app = createApp(ctx);
  const solved = await app.request("/v1/banks/arith/solve", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "Kai has 6 boxes of 9 pens. How many pens?",
      samples: 4,
      writeBack: false,
    }),
  });
  runId = ((await solved.json()) as { runId: string }).runId;
});
afterAll(async () => {
  await fake.close();
});

const TABLES = { banks, memories, runs, runSamples, runRecalls, feedback };

async function rowCounts(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(TABLES).map(async ([name, table]) => {
      const [row] = await t.ctx().db.select({ n: count() }).from(table);
      return [name, Number(row?.n)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

type Body = string | Uint8Array;

const json = (value: unknown): Body => JSON.stringify(value);
/** A JSON body with bytes that are not UTF-8 (a lone continuation byte and a truncated sequence). */
const notUtf8 = (before: string, after: string): Body =>
  new Uint8Array([...Buffer.from(before), 0xc3, 0x28, 0xff, ...Buffer.from(after)]);
/** A JSON body with a raw NUL byte inside a string: JSON forbids unescaped control characters. */
const rawNul = (before: string, after: string): Body => `${before}\u0000${after}`;
const MALFORMED = '{"query": "x", ';

interface Refused {
  name: string;
  method?: string;
  /** a path, or a function of the shared run id */
  path: string | (() => string);
  contentType?: string;
  /** built lazily: some are tens of megabytes */
  body?: () => Body;
  status: number;
  type: string;
  field: string;
}

const V = "/problems/validation-error";
const TOO_LARGE = "/problems/payload-too-large";
const NOT_FOUND = "/problems/not-found";

const overJsonCap = (prefix: string) => json({ [prefix]: "x".repeat(MAX_JSON_BODY_BYTES) });
const bankIdsWithPathCharacters = ["../x", "a/b", "%2e%2e", "ABC", "a\u0000b"];

/** The cases every JSON write route shares: body-level faults. */
function bodyFaults(path: string | (() => string), valid: Record<string, unknown>): Refused[] {
  const [key] = Object.keys(valid) as [string];
  return [
    { name: "malformed JSON", path, body: () => MALFORMED, status: 400, type: V, field: "body" },
    {
      name: "a body sent as text/plain",
      path,
      contentType: "text/plain",
      body: () => json(valid),
      status: 415,
      type: "/problems/unsupported-media-type",
      field: "content-type",
    },
    { name: "an array for an object", path, body: () => json([valid]), status: 400, type: V, field: "body" },
    {
      name: "an unknown field",
      path,
      body: () => json({ ...valid, colour: "red" }),
      status: 400,
      type: V,
      field: "colour",
    },
    {
      name: "a body over 1 MiB",
      path,
      body: () => overJsonCap(key),
      status: 413,
      type: TOO_LARGE,
      field: "body",
    },
    {
      name: "invalid UTF-8",
      path,
      body: () => notUtf8(`{"${key}": "caf`, '"}'),
      status: 400,
      type: V,
      field: "body",
    },
    {
      name: "a raw NUL byte in a string",
      path,
      body: () => rawNul(`{"${key}": "a`, 'b"}'),
      status: 400,
      type: V,
      field: "body",
    },
    {
      name: "a NUL in a key",
      path,
      body: () => json({ ...valid, "a\u0000": 1 }),
      status: 400,
      type: V,
      field: "a\\u0000",
    },
  ];
}

/** Recall and solve share their query rules. */
function queryFaults(route: "recall" | "solve"): Refused[] {
  const path = `/v1/banks/arith/${route}`;
  return [
    ...bodyFaults(path, { query: "What is 2 + 2?" }),
    {
      name: "a query that is a number",
      path,
      body: () => json({ query: 5 }),
      status: 400,
      type: V,
      field: "query",
    },
    {
      name: "k as a string",
      path,
      body: () => json({ query: "x", k: "3" }),
      status: 400,
      type: V,
      field: "k",
    },
    { name: "no query", path, body: () => json({ k: 2 }), status: 400, type: V, field: "query" },
    {
      name: "a query of MAX_PROBLEM_CHARS + 1",
      path,
      body: () => json({ query: "x".repeat(MAX_PROBLEM_CHARS + 1) }),
      status: 400,
      type: V,
      field: "query",
    },
    {
      name: "a 10 MB query",
      path,
      body: () => json({ query: "x".repeat(10_000_000) }),
      status: 413,
      type: TOO_LARGE,
      field: "body",
    },
    {
      name: "k over MAX_K",
      path,
      body: () => json({ query: "x", k: MAX_K + 1 }),
      status: 400,
      type: V,
      field: "k",
    },
    {
      name: "a NUL in the query",
      path,
      body: () => json({ query: "two\u0000plus two" }),
      status: 400,
      type: V,
      field: "query",
    },
    ...bankIdsWithPathCharacters.map((id) => ({
      name: `bank id ${JSON.stringify(id)} in the path`,
      path: `/v1/banks/${encodeURIComponent(id)}/${route}`,
      body: () => json({ query: "x" }),
      status: 400,
      type: V,
      field: id.includes("\u0000") ? "path" : "bank",
    })),
    {
      name: "a bank id spanning two path segments",
      path: `/v1/banks/a/b/${route}`,
      body: () => json({ query: "x" }),
      status: 404,
      type: NOT_FOUND,
      field: "path",
    },
  ];
}

const importPath = "/v1/banks/arith/problems";
const NDJSON = "application/x-ndjson";
const good = { problem: "Ann has 3 apples and buys 4 more. How many apples?", answer: "7" };

const refused: Refused[] = [
  // create a bank
  ...bodyFaults("/v1/banks", { id: "fresh", domain: "number" }),
  {
    name: "id as a number",
    path: "/v1/banks",
    body: () => json({ id: 5, domain: "number" }),
    status: 400,
    type: V,
    field: "id",
  },
  {
    name: "k as a string in settings",
    path: "/v1/banks",
    body: () => json({ id: "fresh", domain: "number", settings: { k: "4" } }),
    status: 400,
    type: V,
    field: "settings.k",
  },
  {
    name: "no id",
    path: "/v1/banks",
    body: () => json({ domain: "number" }),
    status: 400,
    type: V,
    field: "id",
  },
  {
    name: "a NUL in the description",
    path: "/v1/banks",
    body: () => json({ id: "fresh", domain: "number", description: "a\u0000b" }),
    status: 400,
    type: V,
    field: "description",
  },
  ...bankIdsWithPathCharacters.map((id) => ({
    name: `bank id ${JSON.stringify(id)}`,
    path: "/v1/banks",
    body: () => json({ id, domain: "number" }),
    status: 400,
    type: V,
    field: "id",
  })),

  // bulk import, JSON
  { name: "import: malformed JSON", path: importPath, body: () => "[{", status: 400, type: V, field: "body" },
  {
    name: "import: a body sent as text/plain",
    path: importPath,
    contentType: "text/plain",
    body: () => json([good]),
    status: 415,
    type: "/problems/unsupported-media-type",
    field: "content-type",
  },
  {
    name: "import: an object, not an array",
    path: importPath,
    body: () => json(good),
    status: 400,
    type: V,
    field: "body",
  },
  {
    name: "import: a body over the import cap",
    path: importPath,
    body: () => json([{ ...good, reasoning: "x".repeat(MAX_IMPORT_BODY_BYTES) }]),
    status: 413,
    type: TOO_LARGE,
    field: "body",
  },
  {
    name: "import: MAX_IMPORT_BATCH + 1 problems",
    path: importPath,
    body: () => json(Array.from({ length: MAX_IMPORT_BATCH + 1 }, () => ({}))),
    status: 413,
    type: TOO_LARGE,
    field: "body",
  },
  {
    name: "import: invalid UTF-8",
    path: importPath,
    body: () => notUtf8('[{"problem": "caf', '", "answer": "1"}]'),
    status: 400,
    type: V,
    field: "body",
  },
  {
    name: "import: a NUL in a problem",
    path: importPath,
    body: () => json([good, { problem: "a\u0000b", answer: "1" }]),
    status: 400,
    type: V,
    field: "1.problem",
  },
  {
    name: "import: a NUL deep in metadata",
    path: importPath,
    body: () => json([{ ...good, metadata: { notes: ["ok", "a\u0000"] } }]),
    status: 400,
    type: V,
    field: "0.metadata.notes.1",
  },
  ...bankIdsWithPathCharacters.slice(0, 4).map((id) => ({
    name: `import: bank id ${JSON.stringify(id)} in the path`,
    path: `/v1/banks/${encodeURIComponent(id)}/problems`,
    body: () => json([good]),
    status: 400,
    type: V,
    field: "bank",
  })),

  // bulk import, NDJSON
  {
    name: "import NDJSON: a NUL in a line",
    path: importPath,
    contentType: NDJSON,
    body: () => [json(good), json({ problem: "a\u0000b", answer: "1" })].join("\n"),
    status: 400,
    type: V,
    field: "problem",
  },
  {
    name: "import NDJSON: invalid UTF-8",
    path: importPath,
    contentType: NDJSON,
    body: () => notUtf8('{"problem": "caf', '", "answer": "1"}'),
    status: 400,
    type: V,
    field: "body",
  },
  {
    name: "import NDJSON: a body over the import cap",
    path: importPath,
    contentType: NDJSON,
    body: () => `${json(good)}\n`.repeat(Math.ceil(MAX_IMPORT_BODY_BYTES / json(good).length) + 1),
    status: 413,
    type: TOO_LARGE,
    field: "body",
  },

  // recall and solve
  ...queryFaults("recall").map((c) => ({ ...c, name: `recall: ${c.name}` })),
  ...queryFaults("solve").map((c) => ({ ...c, name: `solve: ${c.name}` })),
  {
    name: "solve: samples over MAX_SAMPLES",
    path: "/v1/banks/arith/solve",
    body: () => json({ query: "x", samples: MAX_SAMPLES + 1 }),
    status: 400,
    type: V,
    field: "samples",
  },
  {
    name: "solve: temperature as a word",
    path: "/v1/banks/arith/solve",
    body: () => json({ query: "x", temperature: "hot" }),
    status: 400,
    type: V,
    field: "temperature",
  },
  {
    name: "solve: a NUL in gold",
    path: "/v1/banks/arith/solve",
    body: () => json({ query: "x", gold: "5\u00004" }),
    status: 400,
    type: V,
    field: "gold",
  },

  // feedback
  ...bodyFaults(() => `/v1/runs/${runId}/feedback`, { correct: true }).map((c) => ({
    ...c,
    name: `feedback: ${c.name}`,
  })),
  {
    name: "feedback: correct as a string",
    path: () => `/v1/runs/${runId}/feedback`,
    body: () => json({ correct: "yes" }),
    status: 400,
    type: V,
    field: "correct",
  },
  {
    name: "feedback: no verdict",
    path: () => `/v1/runs/${runId}/feedback`,
    body: () => json({ answer: "54" }),
    status: 400,
    type: V,
    field: "correct",
  },
  {
    name: "feedback: a NUL in the answer",
    path: () => `/v1/runs/${runId}/feedback`,
    body: () => json({ correct: false, answer: "5\u00004" }),
    status: 400,
    type: V,
    field: "answer",
  },
  ...["../x", "RUN_ABC", "run_a/b"].map((id) => ({
    name: `feedback: run id ${JSON.stringify(id)}`,
    path: `/v1/runs/${encodeURIComponent(id)}/feedback`,
    body: () => json({ correct: true }),
    status: 400,
    type: V,
    field: "id",
  })),

  // the query string of any route
  {
    name: "a NUL in a query-string parameter",
    method: "GET",
    path: "/v1/banks?x=a%00b",
    status: 400,
    type: V,
    field: "x",
  },
];

async function send(method: string, path: string, contentType: string, body: Body | undefined) {
  return app.request(path, { method, headers: { "content-type": contentType }, body });
}

describe("bad input to the write routes", () => {
  it.each(refused)("$name → $status $field", async (c) => {
    const before = await rowCounts();
    const modelCalls = fake.requests.length;
    const path = typeof c.path === "function" ? c.path() : c.path;
    const response = await send(c.method ?? "POST", path, c.contentType ?? "application/json", c.body?.());
    const text = await response.text();

    expect(response.status, text).toBe(c.status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = JSON.parse(text) as Record<string, unknown>;
    expect(problem).toMatchObject({ type: c.type, status: c.status, field: c.field });
    expect(typeof problem.title).toBe("string");
    expect(typeof problem.detail).toBe("string");
    expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b/);
    // the detail quotes the field, never the bad bytes themselves
    expect(text).not.toContain("\u0000");
    expect(text.length).toBeLessThan(4_000);

    expect(await rowCounts()).toEqual(before);
    expect(fake.requests.length).toBe(modelCalls);
  });

  // the import contract: a bad row is reported with its line and reason, the good ones are kept
  it.each([
    { name: "a problem that is a number", body: json([{ problem: 5, answer: "1" }]), reason: /^problem:/ },
    { name: "a row without an answer", body: json([{ problem: "x" }]), reason: /^answer:/ },
    { name: "a row with an unknown field", body: json([{ ...good, colour: "red" }]), reason: /colour/ },
    {
      name: "a 10 MB problem",
      body: json([{ problem: "x".repeat(10_000_000), answer: "1" }]),
      reason: /^problem:/,
    },
    {
      name: "a malformed NDJSON line",
      body: "{ nope",
      contentType: NDJSON,
      reason: /^not valid JSON/,
    },
  ])("import: $name is rejected as a row, changing nothing", async (c) => {
    const before = await rowCounts();
    const response = await send("POST", importPath, c.contentType ?? "application/json", c.body);
    expect(response.status).toBe(200);
    const result = (await response.json()) as {
      inserted: number;
      rejected: { line: number; reason: string }[];
    };
    expect(result.inserted).toBe(0);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.line).toBe(1);
    expect(result.rejected[0]?.reason).toMatch(c.reason);
    expect(await rowCounts()).toEqual(before);
  });

  it("left the shared bank, memory and run in place (the cases above did run against something)", async () => {
    expect(await rowCounts()).toMatchObject({ banks: 1, memories: 1, runs: 1, runSamples: 4, runRecalls: 1 });
  });
});
