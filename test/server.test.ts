import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { TEST_DATABASE } from "./support/database.js";
import { startFakeOpenAI } from "./support/fakeOpenAI.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PROBLEMS = [
  { problem: "Lila has 3 bags with 7 apples each. How many apples does she have?", answer: "21" },
  { problem: "A bus carries 40 people and 12 get off. How many are still on the bus?", answer: "28" },
];

async function servingPlace() {
  const place = await cliEnvironment();
  cleanups.push(place.drop);
  const file = join(place.home, "bank.jsonl");
  writeFileSync(file, PROBLEMS.map((p) => JSON.stringify(p)).join("\n"));
  const seeded = await runCli(["seed", "fruit", "--from", file], place.env);
  expect(seeded.code).toBe(0);
  const server = spawnCli(["serve"], { ...place.env, PORT: "0" });
  cleanups.push(async () => {
    if (server.exitCode === null) {
      server.kill("SIGKILL");
      await exited(server);
    }
  });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { place, server, url: url as string };
}

describe("serving", () => {
  it("serves /healthz and /readyz on the embedded defaults, and stops cleanly on SIGTERM", async () => {
    const { place, server, url } = await servingPlace();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      database: { ok: true },
      index: { ok: true },
    });

    server.kill("SIGTERM");
    const stopped = await exited(server, 30_000);
    expect(stopped.code).toBe(0);
    if (TEST_DATABASE === "pglite") expect(existsSync(join(place.home, "precedent.lock"))).toBe(false);
  });
});

describe.runIf(TEST_DATABASE === "pglite")("the embedded database while a server holds it", () => {
  it("stops a CLI command at once with a message naming the server, and changes nothing", async () => {
    const { place, url } = await servingPlace();
    const started = Date.now();
    const seed = await runCli(["seed", "more", "--from", "gsm8k"], place.env, 30_000);
    expect(seed.code).toBe(3);
    expect(seed.stderr).toContain('is in use by "precedent serve"');
    expect(seed.stderr).toContain(url);
    // it did not wait for the lock: it refused
    expect(Date.now() - started).toBeLessThan(20_000);
    const banks = (await (await fetch(`${url}/v1/banks`)).json()) as { banks: { id: string }[] };
    expect(banks.banks.map((b) => b.id)).toEqual(["fruit"]);
  });

  it("sends `precedent recall` through the running server", async () => {
    const { place } = await servingPlace();
    const recall = await runCli(
      ["recall", "--bank", "fruit", "--json", PROBLEMS[0]?.problem as string],
      place.env,
    );
    expect(recall.code).toBe(0);
    const result = JSON.parse(recall.stdout);
    expect(result.memories[0]).toMatchObject({ problem: PROBLEMS[0]?.problem, answer: "21", exact: true });
  });

  it("takes over a lock left behind by a process that died", async () => {
    const place = await cliEnvironment();
    writeFileSync(
      join(place.home, "precedent.lock"),
      JSON.stringify({ pid: 2 ** 22 + 12345, command: "serve", startedAt: "x" }),
    );
    const migrated = await runCli(["migrate"], place.env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain("up to date");
  });
});

describe.runIf(TEST_DATABASE === "postgres")("a shared Postgres while a server runs", () => {
  it("lets CLI commands work alongside the server", async () => {
    const { place, url } = await servingPlace();
    const file = join(place.home, "more.jsonl");
    writeFileSync(
      file,
      JSON.stringify({ problem: "Tom reads 4 pages a day for 5 days. How many pages?", answer: "20" }),
    );
    const seed = await runCli(["seed", "more", "--from", file], place.env);
    expect(seed.code).toBe(0);
    const banks = (await (await fetch(`${url}/v1/banks`)).json()) as { banks: { id: string }[] };
    expect(banks.banks.map((b) => b.id).sort()).toEqual(["fruit", "more"]);
  });
});

describe("CLI recall", () => {
  it("prints each recalled memory with its scores", async () => {
    const place = await cliEnvironment();
    cleanups.push(place.drop);
    const file = join(place.home, "bank.jsonl");
    writeFileSync(file, PROBLEMS.map((p) => JSON.stringify(p)).join("\n"));
    expect((await runCli(["seed", "fruit", "--from", file], place.env)).code).toBe(0);
    const recall = await runCli(
      ["recall", "--bank", "fruit", "Mo has 5 bags with 9 apples each. How many apples does he have?"],
      place.env,
    );
    expect(recall.code).toBe(0);
    expect(recall.stdout).toMatch(/#1 mem_\w+ {2}answer 21 {2}\[gold\]/);
    expect(recall.stdout).toMatch(
      /final [\d.]+ {2}literal [\d.]+ {2}structure [\d.]+ {2}values [\d.]+ {2}reworded [\d.]+ {2}relevance [\d.]+ {2}match [\d.]+ {2}utility 0\.500/,
    );
  });

  it("names the problem when the bank does not exist", async () => {
    const place = await cliEnvironment();
    cleanups.push(place.drop);
    const recall = await runCli(["recall", "--bank", "nope", "anything"], place.env);
    expect(recall.code).toBe(2);
    expect(recall.stderr).toContain('bank "nope" does not exist');
  });
});

describe("CLI solve", () => {
  it("solves through the configured OpenAI-compatible endpoint and prints the verdict and the run", async () => {
    const fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "3 * 7 = 21\n#### 21" } });
    cleanups.push(() => fake.close());
    const place = await cliEnvironment();
    cleanups.push(place.drop);
    const file = join(place.home, "bank.jsonl");
    writeFileSync(file, PROBLEMS.map((p) => JSON.stringify(p)).join("\n"));
    expect((await runCli(["seed", "fruit", "--from", file], place.env)).code).toBe(0);
    const env = { ...place.env, PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: fake.url };
    const solved = await runCli(
      ["solve", "--bank", "fruit", "--gold", "21", "Mo has 3 bags with 7 plums each. How many plums?"],
      env,
    );
    expect(solved.stderr).toBe("");
    expect(solved.code).toBe(0);
    expect(solved.stdout).toMatch(/^answer 21 {2}verdict correct by gold/);
    expect(solved.stdout).toMatch(/memories recalled: mem_\w+/);
    expect(solved.stdout).toMatch(/run run_\w+ \(completed/);
    expect(fake.requests.some((r) => r.path === "/v1/chat/completions")).toBe(true);
  });
});
