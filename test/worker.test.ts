import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBankRoute, listBanksRoute } from "../src/api/routes/banks.js";
import { importProblemsRoute } from "../src/api/routes/problems.js";
import { recallRoute } from "../src/api/routes/recall.js";
import { getRunRoute } from "../src/api/routes/runs.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { apiClient } from "./support/api.js";
import { type CliResult, exited, waitForOutput } from "./support/cli.js";
import { createPostgresDatabase, TEST_DATABASE } from "./support/database.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const ADMIN = "admin-token-for-workers-0123456789";
const CHAIN = "6 * 9 = 54\n#### 54";

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

/** Migrates a database the way a deployment does before `wrangler deploy`: `precedent migrate`. */
async function migrate(url: string): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT, "bin", "precedent.mjs"), "migrate"], {
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  }) as ChildProcess & { output: CliResult };
  child.output = { code: null, signal: null, stdout: "", stderr: "" };
  child.stderr?.on("data", (d) => {
    child.output.stderr += d;
  });
  const result = await exited(child);
  expect(result.code, result.stderr).toBe(0);
}

// The Worker runs on Postgres only (through Hyperdrive): this half of the suite has the machine's server.
describe.runIf(TEST_DATABASE === "postgres")("the Cloudflare Worker under wrangler dev", () => {
  let database: { url: string; drop(): Promise<void> };
  let fake: FakeOpenAI;
  let worker: ChildProcess & { output: CliResult };
  let base: string;
  let state: string;
  const admin = { authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    await migrate(database.url);
    fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: CHAIN } });
    const port = await freePort();
    state = mkdtempSync(join(tmpdir(), "precedent-wrangler-"));
    // Hyperdrive's local connection string must carry a password; the machine's server trusts any
    const hyperdrive = new URL(database.url);
    hyperdrive.password = "unused";
    const child = spawn(
      process.execPath,
      [
        WRANGLER,
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(await freePort()),
        "--persist-to",
        state,
        "--show-interactive-dev-session=false",
        "--var",
        `PRECEDENT_ADMIN_TOKEN:${ADMIN}`,
        "--var",
        "PRECEDENT_MODEL:fake-model",
        "--var",
        `OPENAI_BASE_URL:${fake.url}`,
        "--var",
        "LOG_LEVEL:warn",
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NO_COLOR: "1",
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: hyperdrive.toString(),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    ) as ChildProcess & { output: CliResult };
    child.output = { code: null, signal: null, stdout: "", stderr: "" };
    child.stdout?.on("data", (d) => {
      child.output.stdout += d;
    });
    child.stderr?.on("data", (d) => {
      child.output.stderr += d;
    });
    worker = child;
    await waitForOutput(worker, /Ready on http:\/\/127\.0\.0\.1:\d+/, 120_000);
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill("SIGTERM");
      await exited(worker, 30_000);
    }
    await fake?.close();
    await database?.drop();
    rmSync(state, { recursive: true, force: true });
  });

  const api = () => apiClient(base, { token: ADMIN });

  it("is ready: its database and index are reachable through Hyperdrive", async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", database: { ok: true }, index: { ok: true } });
  });

  it("refuses a request without the admin token with 401 problem+json", async () => {
    const response = await fetch(`${base}/v1/banks`);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
  });

  it("seeds a bank, recalls from it and solves with the model, and stores the run in Postgres", async () => {
    const params = { bank: "arith" };
    await api().ok(createBankRoute, { json: { id: "arith", domain: "number" } });
    const imported = await api().ok(importProblemsRoute, {
      params,
      json: [
        { problem: "A box holds 6 rows of 9 eggs. How many eggs?", answer: "54", reasoning: "6 * 9 = 54" },
        {
          problem: "Ava reads 12 pages a day for 3 days. How many pages?",
          answer: "36",
          reasoning: "12 * 3 = 36",
        },
      ],
    });
    expect(imported).toMatchObject({ inserted: 2, duplicates: 0, rejected: [] });

    const recalled = await api().ok(recallRoute, {
      params,
      json: { query: "A crate holds 8 rows of 7 eggs. How many eggs?", k: 2 },
    });
    expect(recalled.memories[0]?.problem).toBe("A box holds 6 rows of 9 eggs. How many eggs?");
    expect(recalled.memories[0]?.scores.final).toBeGreaterThan(0);

    const query = "A tray holds 6 rows of 9 cups. How many cups are on the tray?";
    const solved = await api().ok(solveRoute, { params, json: { query, samples: 4, gold: "54" } });
    expect(solved).toMatchObject({ status: "completed", answer: "54", verdict: "correct" });
    expect(solved.recalled.length).toBeGreaterThan(0);
    // the fake model saw the recalled worked example in its prompt
    const prompt = JSON.stringify(fake.requests.find((r) => r.path === "/v1/chat/completions")?.body);
    expect(prompt).toContain("6 rows of 9 eggs");

    const run = await api().ok(getRunRoute, { params: { id: solved.runId } });
    expect(run.samples).toHaveLength(4);
    expect(run.recalls.map((r) => r.memoryId)).toEqual(solved.recalled.map((r) => r.memoryId));

    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const [stored] = await sql`select query, answer from runs where id = ${solved.runId}`;
      expect(stored).toEqual({ query, answer: "54" });
      // the gold-verified answer became a memory, and the Postgres index holds it
      const written = solved.writtenMemory?.memoryId as string;
      const indexed = await sql`select memory_id from memory_index where memory_id = ${written}`;
      expect(indexed).toHaveLength(1);
    } finally {
      await sql.end();
    }
  });

  it("answers the openai SDK as a chat model, streaming included", async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: ADMIN, maxRetries: 0 });
    const messages = [{ role: "user" as const, content: "A shelf holds 6 rows of 9 jars. How many jars?" }];
    const completion = await client.chat.completions.create({ model: "precedent/arith", messages });
    expect(completion.choices[0]?.message.content).toContain("#### 54");

    const stream = await client.chat.completions.create({ model: "precedent/arith", messages, stream: true });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    expect(content).toContain("#### 54");
  });

  it("builds its app once per isolate: the request counts of its metrics add up across requests", async () => {
    const count = async () => {
      const response = await fetch(`${base}/metrics`, { headers: admin });
      expect(response.status).toBe(200);
      const line = (await response.text())
        .split("\n")
        .find(
          (l) =>
            l.startsWith("precedent_http_request_duration_seconds_count") &&
            l.includes('route="/v1/banks"') &&
            l.includes('method="GET"') &&
            l.includes('status="200"'),
        );
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    const before = await count();
    for (let i = 0; i < 3; i++) await api().ok(listBanksRoute);
    expect(await count()).toBe(before + 3);
  });
});
