import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import autocannon from "autocannon";
import postgres from "postgres";
import { loadConfig } from "../src/config.js";
import { startFakeOpenAI } from "../test/support/fakeOpenAI.js";
import { listening, report } from "./support.js";

// `npm run bench:load`: recall and solve against a running server on 127.0.0.1 (the embedded defaults, or
// a fresh database on the Postgres server of LOAD_POSTGRES_URL; GSM8K train as the bank), 64 connections
// for 30 s each, the model a fake that answers after 200 ms.
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 64);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const MODEL_LATENCY_MS = 200;
const BIN = resolve(import.meta.dirname, "..", "bin", "precedent.mjs");

function run(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1", LOG_LEVEL: "warn", LANCEDB_LOG: "error", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

async function finished(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => child.once("exit", (code) => done(code)));
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined where there is none. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  try {
    // fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux); the command name
    // (field 2) may hold spaces, so count from after its closing parenthesis
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** One autocannon run: every request a POST of one of `bodies`, in turn. */
async function hammer(url: string, path: string, bodies: string[]) {
  let next = 0;
  const result = await autocannon({
    url: `${url}${path}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] as string }),
      },
    ],
  });
  const statuses = result.statusCodeStats as unknown as Record<string, { count: number }>;
  const counts = Object.fromEntries(Object.entries(statuses).map(([code, s]) => [code, s.count]));
  const failures = Object.entries(counts)
    .filter(([code]) => !code.startsWith("2") && code !== "429")
    .reduce((n, [, c]) => n + c, 0);
  return { result, counts, failures: failures + result.errors + result.timeouts };
}

/** A new, empty database on the server of `base`, dropped again by `drop()`. */
async function freshDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `precedent_load_${Date.now()}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export async function benchLoad() {
  const home = mkdtempSync(join(tmpdir(), "precedent-load-"));
  const fake = await startFakeOpenAI({ seed: 3, latencyMs: MODEL_LATENCY_MS });
  const env: Record<string, string> = { PRECEDENT_HOME: home };
  const database = process.env.LOAD_POSTGRES_URL
    ? await freshDatabase(process.env.LOAD_POSTGRES_URL)
    : undefined;
  if (database) env.DATABASE_URL = database.url;
  console.log(`records in ${database ? "Postgres" : "the embedded database"}`);
  let server: ChildProcess | undefined;
  try {
    const { dataDir } = loadConfig();
    console.log("seeding GSM8K train into a fresh embedded database…");
    if ((await finished(run(["seed", "gsm8k", "--from", "gsm8k"], env))) !== 0)
      throw new Error("seed failed");
    const tests = readFileSync(join(dataDir, "gsm8k", "test.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { question: string; answer: string });
    const gold = new Map(tests.map((r) => [r.question, r.answer.match(/####\s*(.+)$/)?.[1]?.trim() ?? "0"]));
    fake.setBehavior({ kind: "answers", answerFor: (q) => gold.get(q) ?? "0", accuracy: 0.9 });

    server = run(["serve"], {
      ...env,
      PORT: "0",
      PRECEDENT_MODEL: "fake",
      OPENAI_BASE_URL: fake.url,
      // as many model requests in flight as connections: the model's latency, not the gate, is the limit
      MODEL_CONCURRENCY: String(CONNECTIONS),
    });
    const url = await listening(server);
    const questions = tests.map((t) => t.question);
    const figures = [];

    // where the machine's CPU goes: the server, and this process (load generator and fake model)
    const cpuPer = async <T extends { result: { requests: { total: number } } }>(run: () => Promise<T>) => {
      const server0 = cpuSecondsOf(server?.pid);
      const self0 = process.cpuUsage();
      const outcome = await run();
      const self = process.cpuUsage(self0);
      const n = Math.max(1, outcome.result.requests.total);
      const server1 = cpuSecondsOf(server?.pid);
      const serverMs =
        server0 === undefined || server1 === undefined ? Number.NaN : (1000 * (server1 - server0)) / n;
      return { ...outcome, serverMs, benchMs: (self.user + self.system) / 1000 / n };
    };

    console.log(`recall: ${CONNECTIONS} connections for ${SECONDS} s…`);
    const recall = await cpuPer(() =>
      hammer(
        url,
        "/v1/banks/gsm8k/recall",
        questions.map((query) => JSON.stringify({ query, k: 4 })),
      ),
    );
    figures.push(
      report("load recall: non-2xx other than 429", recall.failures, "responses", { op: "≤", value: 0 }),
      report("load recall: throughput", recall.result.requests.average, "req/s"),
      report("load recall: latency p50", recall.result.latency.p50, "ms"),
      report("load recall: latency p99", recall.result.latency.p99, "ms"),
      report("load recall: server CPU per request", recall.serverMs, "ms"),
      report("load recall: load generator CPU per request", recall.benchMs, "ms"),
    );

    console.log(`solve: ${CONNECTIONS} connections for ${SECONDS} s, model latency ${MODEL_LATENCY_MS} ms…`);
    const modelRequestsBefore = fake.requests.length;
    const solve = await cpuPer(() =>
      hammer(
        url,
        "/v1/banks/gsm8k/solve",
        // 4 samples in one batch: one model request per solve when the vote is unanimous
        questions.map((query) => JSON.stringify({ query, k: 4, samples: 4, batchSize: 4 })),
      ),
    );
    const solves = solve.result.requests.average;
    const perSolve = (fake.requests.length - modelRequestsBefore) / Math.max(1, solve.result.requests.total);
    // every connection waits for the model on each of its solves' requests, and does nothing else
    const allowed = CONNECTIONS / ((MODEL_LATENCY_MS / 1000) * perSolve);
    figures.push(
      report("load solve: non-2xx other than 429", solve.failures, "responses", { op: "≤", value: 0 }),
      report("load solve: throughput", solves, "solves/s"),
      report("load solve: model requests per solve", perSolve, "requests"),
      report("load solve: throughput the model latency allows", allowed, "solves/s"),
      report("load solve: share of that", (100 * solves) / allowed, "%", { op: "≥", value: 90 }),
      report("load solve: latency p50", solve.result.latency.p50, "ms"),
      report("load solve: latency p99", solve.result.latency.p99, "ms"),
      // the ceiling the CPU sets: every core busy with the server and the load generator's share
      report("load solve: server CPU per solve", solve.serverMs, "ms"),
      report("load solve: load generator + fake model CPU per solve", solve.benchMs, "ms"),
      report(
        `load solve: throughput ${availableParallelism()} cores allow at that CPU cost`,
        (1000 * availableParallelism()) / (solve.serverMs + solve.benchMs),
        "solves/s",
      ),
    );
    console.log(
      `status codes: recall ${JSON.stringify(recall.counts)}, solve ${JSON.stringify(solve.counts)}`,
    );
    return figures;
  } finally {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await finished(server);
    }
    await fake.close();
    await database?.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchLoad();
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/load-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, JSON.stringify({ node: process.version, figures }, null, 2));
  console.log(`saved ${file}`);
}
