import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatRun, preview } from "../src/cli/formatRun.js";
import { getBank } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
import { solve } from "../src/reasoning/pipeline.js";
import { getRun, type RunRecord } from "../src/reasoning/runs.js";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { bankWithProblems, useTestContext } from "./support/context.js";
import { TEST_DATABASE } from "./support/database.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
const MEMORY = {
  problem: "Sam has 4 boxes of 6 pens. How many pens?",
  answer: "24",
  reasoning: "4 * 6 = 24",
};
const QUERY = "Kai has 6 boxes of 9 pens. How many pens?";

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterEach(async () => {
  await fake.close();
});

/** Solves a query against a one-memory bank with the fake model and returns the stored run. */
async function solvedRun(
  query: string,
  options: Parameters<typeof solve>[0]["options"] = {},
): Promise<RunRecord> {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [MEMORY]);
  const result = await solve({ ctx, bank: await getBank(ctx.db, "arith"), query, options });
  return (await getRun(ctx.db, result.runId)) as RunRecord;
}

describe("formatting a run for reading", () => {
  it("shows the verdict, a table of recall scores, the prompt and every sample of a real solved run", async () => {
    const run = await solvedRun(QUERY, { gold: "54", samples: 4, adaptive: false });
    const text = formatRun(run);

    expect(text).toContain(`run ${run.id} · bank arith · completed · model fake-model`);
    expect(text).toContain(`query    ${QUERY}`);
    expect(text).toMatch(/^verdict {2}correct by gold: .+/m);
    expect(text).toMatch(/^answer {3}54 {2}confidence 1\.00$/m);

    expect(text).toContain("recalled memories (1)");
    expect(text).toMatch(
      /rank {2}memory +final +literal +structure +values +vector +reworded +relevance +match +utility/,
    );
    const [recall] = run.recalls;
    const s = recall?.scores as NonNullable<typeof recall>["scores"];
    const cell = (x: number | null) => (x === null ? "-" : x.toFixed(3));
    const cells = [
      s.final,
      s.literal,
      s.structure,
      s.values,
      s.vector,
      s.reworded,
      s.relevance,
      s.match,
      s.utility,
    ];
    expect(text).toMatch(new RegExp(`^ +1 {2}${recall?.memoryId} +${cells.map(cell).join(" +")}$`, "m"));

    expect(text).toContain("prompt (4 messages)");
    expect(text).toMatch(/^ {2}system {5}You solve problems step by step/m);
    expect(text).toContain(`  user       ${MEMORY.problem}`);
    expect(text).toMatch(/^ {2}assistant {2}4 \* 6 = 24\n {13}#### 24$/m);
    expect(text).toContain(`  user       ${QUERY}`);

    expect(text).toContain("samples (4)");
    for (const sample of run.samples) {
      expect(text).toContain(
        `  #${sample.index}  answer 54  confidence ${sample.confidence?.toFixed(2) ?? "-"}  ${sample.tokens} tokens\n      6 * 9 = 54\n      #### 54`,
      );
    }
    expect(text).toMatch(/^vote {5}54 ×4 \(share 1\.00\) · .+ · 4 voters · \d+ requests?/m);
    expect(text).toMatch(new RegExp(`^written {2}memory ${run.writtenMemoryId}$`, "m"));
    expect(text).toMatch(/^timings {2}.*totalMs [\d.]+/m);
    expect(text).toMatch(/^usage {4}promptTokens \d+ · completionTokens \d+/m);
  });

  it("says when a run was answered from memory without a model call", async () => {
    const run = await solvedRun(MEMORY.problem);
    expect(run.status).toBe("memory_hit");
    const text = formatRun(run);
    expect(text).toContain("prompt: none (no model call)");
    expect(text).toContain("samples: none");
    expect(text).toMatch(/^vote {5}none: answered from memory mem_\w+$/m);
    expect(fake.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
  });

  it("shows why a failed run failed", async () => {
    fake.failNext(100, 500);
    const run = await solvedRun(QUERY, { samples: 1 });
    expect(run.status).toBe("failed");
    expect(formatRun(run)).toMatch(/^error {4}the model endpoint failed: .+/m);
  });

  it("cuts long messages to their first lines and the last (the answer line), and long lines to a readable width", () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`).join("\n");
    expect(preview(lines)).toEqual(["line 0", "line 1", "… (7 more lines)", "line 9"]);
    expect(preview("a\nb\nc")).toEqual(["a", "b", "c"]);
    const [cut] = preview("x".repeat(500));
    expect(cut).toHaveLength(120);
    expect(cut?.endsWith("…")).toBe(true);
  });
});

describe("precedent inspect", () => {
  const PROBLEMS = [
    { problem: "Lila has 3 bags with 7 apples each. How many apples does she have?", answer: "21" },
  ];
  let place: Awaited<ReturnType<typeof cliEnvironment>>;
  let runId = "";
  let model: FakeOpenAI;

  beforeAll(async () => {
    model = await startFakeOpenAI({ behavior: { kind: "fixed", content: "3 * 7 = 21\n#### 21" } });
    place = await cliEnvironment();
    const file = join(place.home, "bank.jsonl");
    writeFileSync(file, PROBLEMS.map((p) => JSON.stringify(p)).join("\n"));
    expect((await runCli(["seed", "fruit", "--from", file], place.env)).code).toBe(0);
    const solved = await runCli(
      [
        "solve",
        "--bank",
        "fruit",
        "--gold",
        "21",
        "--json",
        "Mo has 3 bags with 7 plums each. How many plums?",
      ],
      { ...place.env, PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: model.url },
    );
    expect(solved.code).toBe(0);
    runId = (JSON.parse(solved.stdout) as { runId: string }).runId;
  });
  afterAll(async () => {
    await model?.close();
    await place?.drop();
  });

  it("prints the run readably, and as JSON with --json", async () => {
    const printed = await runCli(["inspect", runId], place.env);
    expect(printed.stderr).toBe("");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`run ${runId} · bank fruit · completed · model fake-model`);
    expect(printed.stdout).toMatch(/^verdict {2}correct by gold/m);
    // final, literal, structure, values, vector (not measured), reworded, relevance, match, utility
    expect(printed.stdout).toMatch(
      /^ +1 {2}mem_\w+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +- +[\d.]+ +[\d.]+ +[\d.]+ +0\.500$/m,
    );
    expect(printed.stdout).toContain("prompt (4 messages)");
    expect(printed.stdout).toMatch(/^ {2}#0 {2}answer 21 {2}confidence /m);

    const json = await runCli(["inspect", runId, "--json"], place.env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: runId,
      bankId: "fruit",
      answer: "21",
      verdict: "correct",
    });
  });

  it("fails with a message naming an unknown run id, or a missing one", async () => {
    const unknown = await runCli(["inspect", "run_doesnotexist"], place.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('precedent inspect: run "run_doesnotexist" does not exist');
    expect(unknown.stdout).toBe("");
    const missing = await runCli(["inspect"], place.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("give exactly one run id");
  });

  it.runIf(TEST_DATABASE === "pglite")(
    "reads the run through the running server while it holds the embedded database",
    async () => {
      const direct = await runCli(["inspect", runId], place.env);
      const server = spawnCli(["serve"], { ...place.env, PORT: "0" });
      try {
        await waitForOutput(server, /listening on http:\/\/127\.0\.0\.1:\d+/);
        const through = await runCli(["inspect", runId], place.env);
        expect(through.stderr).toBe("");
        expect(through.code).toBe(0);
        expect(through.stdout).toBe(direct.stdout);
        const unknown = await runCli(["inspect", "run_doesnotexist"], place.env);
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toContain('run "run_doesnotexist" does not exist');
      } finally {
        server.kill("SIGTERM");
        await exited(server, 30_000);
      }
    },
  );
});
