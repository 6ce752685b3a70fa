import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { seedBank } from "../seed/seedBank.js";
import { createApp } from "../src/api/app.js";
import { memories } from "../src/db/schema.js";
import { domainOf } from "../src/domains/domain.js";
import { type ExportOptions, exportMemories } from "../src/memory/exportMemories.js";
import { importProblems, type ProblemInput } from "../src/memory/importProblems.js";
import { buildPrompt } from "../src/reasoning/prompt.js";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { bankWithProblems, createTestContext, useTestContext } from "./support/context.js";
import { createTestDatabase, TEST_DATABASE } from "./support/database.js";

const t = useTestContext();

const GOLD = { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" };
const CONSENSUS = {
  problem: "A bus carries 40 people and 12 get off. How many are left?",
  answer: "28",
  reasoning: "40 - 12 = 28",
  verification: "consensus",
} as const;
const UNVERIFIED = {
  problem: "Lila has 3 bags with 7 apples each. How many apples?",
  answer: "21",
  verification: "none",
} as const;
const QUARANTINED = { problem: "Tom reads 4 pages a day for 5 days. How many pages?", answer: "20" };
const RETIRED = { problem: "Ada bakes 3 trays of 8 buns. How many buns?", answer: "25" };

const NUMBER_SYSTEM =
  "You solve problems step by step: reason briefly and carefully, then give the final answer. " +
  "End your answer with a final line of the form `#### <number>`, giving the number alone, without units. " +
  "Solve the problem.";

/** A number bank holding one memory of every kind the export must tell apart; returns their ids. */
async function mixedBank() {
  const ctx = t.ctx();
  await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    GOLD,
    CONSENSUS,
    UNVERIFIED,
    QUARANTINED,
    RETIRED,
  ]);
  const id = async (problem: string) => {
    const [row] = await ctx.db
      .select({ id: memories.id })
      .from(memories)
      .where(eq(memories.problem, problem));
    return row?.id as string;
  };
  await ctx.db
    .update(memories)
    .set({ status: "quarantined" })
    .where(eq(memories.problem, QUARANTINED.problem));
  await ctx.db.update(memories).set({ status: "retired" }).where(eq(memories.problem, RETIRED.problem));
  return {
    gold: await id(GOLD.problem),
    consensus: await id(CONSENSUS.problem),
    none: await id(UNVERIFIED.problem),
  };
}

async function exported(bankId: string, options: ExportOptions = {}, pageSize?: number): Promise<string[]> {
  const ctx = t.ctx();
  const lines: string[] = [];
  for await (const line of await exportMemories({ ctx, input: { bankId, options, pageSize } }))
    lines.push(line);
  return lines;
}

describe("exporting a bank's memories as JSON lines", () => {
  it("writes one line per active memory at or above the bank's trust floor, oldest first", async () => {
    const ids = await mixedBank();
    expect(await exported("arith")).toEqual([
      `{"problem":"Sam has 4 boxes of 6 pens. How many pens?","reasoning":"4 * 6 = 24","answer":"24","verification":"gold","metadata":{"id":"${ids.gold}","source":"import"}}`,
      `{"problem":"A bus carries 40 people and 12 get off. How many are left?","reasoning":"40 - 12 = 28","answer":"28","verification":"consensus","metadata":{"id":"${ids.consensus}","source":"import"}}`,
    ]);
  });

  it("moves the tier with minVerification, and never exports quarantined or retired memories", async () => {
    const ids = await mixedBank();
    const idsOf = (lines: string[]) =>
      lines.map((l) => (JSON.parse(l) as { metadata: { id: string } }).metadata.id);
    expect(idsOf(await exported("arith", { minVerification: "none" }))).toEqual([
      ids.gold,
      ids.consensus,
      ids.none,
    ]);
    expect(idsOf(await exported("arith", { minVerification: "gold" }))).toEqual([ids.gold]);
  });

  it("follows the bank's own trust floor when no tier is asked for", async () => {
    const ctx = t.ctx();
    await bankWithProblems(ctx, { id: "strict", domain: "number", settings: { trustFloor: "gold" } }, [
      GOLD,
      CONSENSUS,
    ]);
    expect((await exported("strict")).map((l) => JSON.parse(l).problem)).toEqual([GOLD.problem]);
  });

  it("streams a bank larger than one page in order, without gaps or repeats, reading pages as it goes", async () => {
    const ctx = t.ctx();
    const problems: ProblemInput[] = Array.from({ length: 25 }, (_, i) => ({
      problem: `Crate ${i} holds ${i + 2} rows of 3 jars. How many jars?`,
      answer: String((i + 2) * 3),
    }));
    const bank = await bankWithProblems(ctx, { id: "jars", domain: "number" }, problems);
    const lines = await exportMemories({ ctx, input: { bankId: bank.id, pageSize: 10 } });
    const first = await lines.next();
    // written after the export started: a later page picks it up, which a read-everything-first would miss
    await importProblems({
      ctx,
      input: {
        bankId: bank.id,
        source: "import",
        rows: [
          {
            line: 1,
            value: { problem: "A late crate holds 9 rows of 3 jars. How many jars?", answer: "27" },
          },
        ],
      },
    });
    const rest: string[] = [];
    for await (const line of lines) rest.push(line);
    const got = [first.value as string, ...rest].map(
      (l) => JSON.parse(l) as { metadata: { id: string }; problem: string },
    );
    expect(got.map((m) => m.problem)).toEqual([
      ...problems.map((p) => p.problem),
      "A late crate holds 9 rows of 3 jars. How many jars?",
    ]);
    const stored = await ctx.db
      .select({ id: memories.id })
      .from(memories)
      .where(eq(memories.bankId, "jars"))
      .orderBy(asc(memories.seq));
    expect(got.map((m) => m.metadata.id)).toEqual(stored.map((m) => m.id));
  });
});

describe("exporting in the OpenAI fine-tuning chat format", () => {
  it("renders each memory as the zero-shot solve prompt followed by its worked-example answer", async () => {
    await mixedBank();
    const lines = await exported("arith", { format: "openai" });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      JSON.stringify({
        messages: [
          { role: "system", content: NUMBER_SYSTEM },
          { role: "user", content: GOLD.problem },
          { role: "assistant", content: "4 * 6 = 24\n#### 24" },
        ],
      }),
    );
    // the same system turn and user turn a solve that recalls nothing sends
    const { messages } = JSON.parse(lines[1] as string) as { messages: unknown[] };
    expect(messages.slice(0, 2)).toEqual(buildPrompt(domainOf("number"), [], CONSENSUS.problem));
  });

  it("ends the assistant turn exactly as the prompt's worked examples do, in every domain", async () => {
    const ctx = t.ctx();
    const problem = { problem: "Which planet is largest? A) Mars B) Jupiter", answer: "B", reasoning: "" };
    await bankWithProblems(ctx, { id: "quiz", domain: "choice" }, [problem]);
    const [line] = await exported("quiz", { format: "openai" });
    const { messages } = JSON.parse(line as string) as { messages: { role: string; content: string }[] };
    expect(messages[2]).toEqual({ role: "assistant", content: "Answer: B" });
    const inPrompt = buildPrompt(domainOf("choice"), [problem], "another question")[2];
    expect(messages[2]).toEqual(inPrompt);
    expect(messages[0]?.content).toContain(domainOf("choice").formatInstruction);
  });
});

describe("the export endpoint", () => {
  it("streams NDJSON in the format asked for, the same lines the service yields", async () => {
    await mixedBank();
    const app = createApp(t.ctx());
    for (const format of ["jsonl", "openai"] as const) {
      const response = await app.request(`/v1/banks/arith/export?format=${format}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
      expect(await response.text()).toBe(`${(await exported("arith", { format })).join("\n")}\n`);
    }
    const all = await app.request("/v1/banks/arith/export?minVerification=none");
    expect((await all.text()).trim().split("\n")).toHaveLength(3);
  });

  it("answers an empty body for a bank with nothing to export", async () => {
    await bankWithProblems(t.ctx(), { id: "empty", domain: "number" }, []);
    const response = await createApp(t.ctx()).request("/v1/banks/empty/export");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("answers 400 problem+json naming the parameter for a bad format or tier, and 404 for an unknown bank", async () => {
    await mixedBank();
    const app = createApp(t.ctx());
    for (const [query, field] of [
      ["format=csv", "format"],
      ["minVerification=great", "minVerification"],
      ["min_verification=gold", "min_verification"],
    ] as const) {
      const response = await app.request(`/v1/banks/arith/export?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ type: "/problems/validation-error", field });
    }
    const missing = await app.request("/v1/banks/nope/export");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(await missing.json()).toMatchObject({ detail: 'bank "nope" does not exist' });
  });

  it("breaks the transfer, rather than ending it cleanly, when the export fails midway", async () => {
    // a database of its own, closed under the running export
    const database = await createTestDatabase();
    const ctx = await createTestContext(database);
    try {
      const problems = Array.from({ length: 1200 }, (_, i) => ({
        problem: `Crate ${i} holds ${i + 1} rows of 3 jars. How many jars?`,
        answer: String((i + 1) * 3),
        reasoning: `${i + 1} * 3 = ${(i + 1) * 3}. ${"Counting every row once. ".repeat(80)}`,
      }));
      await bankWithProblems(ctx, { id: "jars", domain: "number" }, problems);
      const response = await createApp(ctx).request("/v1/banks/jars/export");
      expect(response.status).toBe(200);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let received = (await reader.read()).value?.length ?? 0;
      // the stream runs at most a few chunks ahead of its reader: the first page (500 memories, ~1 MB)
      // is far from sent, so the next page's query meets a closed database
      await database.handle.close();
      const rest = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return "clean end";
          received += value.length;
        }
      })();
      await expect(rest).rejects.toThrow();
      expect(received).toBeLessThan(problems.length * 2000);
    } finally {
      await ctx.close();
      await database.close().catch(() => {});
    }
  });
});

describe("a round trip through seed", () => {
  it("re-imports an exported bank into a new bank with the same problems, reasoning and answers", async () => {
    const ctx = t.ctx();
    await mixedBank();
    const file = join(mkdtempSync(join(tmpdir(), "precedent-export-")), "arith.jsonl");
    const lines = await exported("arith");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const seeded = await seedBank({ ctx, input: { bankId: "copy", from: file, dataDir: tmpdir() } });
    expect(seeded).toMatchObject({ inserted: 2, duplicates: 0, rejected: [] });
    const content = (l: string) => {
      const { problem, reasoning, answer, verification } = JSON.parse(l) as Record<string, string>;
      return { problem, reasoning, answer, verification };
    };
    expect((await exported("copy")).map(content)).toEqual(lines.map(content));
  });
});

describe("a round trip through the REST import", () => {
  it("posts an exported bank as NDJSON into a new bank and gets the same memories with their verification", async () => {
    const ctx = t.ctx();
    await mixedBank();
    const app = createApp(ctx);
    const lines = await exported("arith");
    const created = await app.request("/v1/banks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "copy", domain: "number" }),
    });
    expect(created.status).toBe(201);
    const imported = await app.request("/v1/banks/copy/problems", {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: lines.join("\n"),
    });
    expect(await imported.json()).toMatchObject({ inserted: lines.length, duplicates: 0, rejected: [] });
    const content = (l: string) => {
      const { problem, reasoning, answer, verification } = JSON.parse(l) as Record<string, string>;
      return { problem, reasoning, answer, verification };
    };
    expect((await exported("copy")).map(content)).toEqual(lines.map(content));
  });
});

describe("precedent export", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function seededPlace() {
    const place = await cliEnvironment();
    cleanups.push(place.drop);
    const file = join(place.home, "bank.jsonl");
    // plain rows: seed reads problem, answer and reasoning, so all three arrive as gold memories
    writeFileSync(file, [GOLD, QUARANTINED, RETIRED].map((p) => JSON.stringify(p)).join("\n"));
    expect((await runCli(["seed", "fruit", "--from", file], place.env)).code).toBe(0);
    return place;
  }

  it("writes the bank to a file that `seed` reads back into a new bank, and prints to stdout by default", async () => {
    const place = await seededPlace();
    const out = join(place.home, "export.jsonl");
    const toFile = await runCli(
      ["export", "--bank", "fruit", "--min-verification", "none", "--out", out],
      place.env,
    );
    expect(toFile.stderr).toBe("");
    expect(toFile.code).toBe(0);
    expect(toFile.stdout.trim()).toBe(`exported 3 memories of bank fruit as jsonl to ${out}`);
    const written = readFileSync(out, "utf8");

    expect((await runCli(["seed", "copy", "--from", out], place.env)).code).toBe(0);
    const copy = await runCli(["export", "--bank", "copy", "--format", "jsonl"], place.env);
    expect(copy.code).toBe(0);
    const content = (text: string) =>
      text
        .trim()
        .split("\n")
        .map((l) => {
          const { problem, reasoning, answer } = JSON.parse(l) as Record<string, string>;
          return { problem, reasoning, answer };
        });
    expect(content(copy.stdout)).toEqual(content(written));
  });

  it("rejects an unknown format naming the choices, and an unknown bank naming it", async () => {
    const place = await cliEnvironment();
    cleanups.push(place.drop);
    const badFormat = await runCli(["export", "--bank", "fruit", "--format", "csv"], place.env);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("--format must be one of jsonl, openai");
    const noBank = await runCli(["export", "--bank", "nope"], place.env);
    expect(noBank.code).toBe(2);
    expect(noBank.stderr).toContain('bank "nope" does not exist');
    expect(noBank.stdout).toBe("");
  });

  it.runIf(TEST_DATABASE === "pglite")(
    "goes through the running server while it holds the embedded database",
    async () => {
      const place = await seededPlace();
      const direct = await runCli(["export", "--bank", "fruit", "--format", "openai"], place.env);
      expect(direct.code).toBe(0);
      const server = spawnCli(["serve"], { ...place.env, PORT: "0" });
      cleanups.push(async () => {
        if (server.exitCode === null) {
          server.kill("SIGKILL");
          await exited(server);
        }
      });
      await waitForOutput(server, /listening on http:\/\/127\.0\.0\.1:\d+/);
      const through = await runCli(["export", "--bank", "fruit", "--format", "openai"], place.env);
      expect(through.stderr).toBe("");
      expect(through.code).toBe(0);
      expect(through.stdout).toBe(direct.stdout);
      expect(through.stdout.trim().split("\n")).toHaveLength(3);
      const unknown = await runCli(["export", "--bank", "nope"], place.env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('bank "nope" does not exist');
    },
  );
});
