import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../src/auth/apiKeys.js";
import { exportDatabase, importDatabase } from "../src/db/backup.js";
import { getBank } from "../src/memory/banks.js";
import { recallAnalogues } from "../src/memory/recall.js";
import { reindex } from "../src/memory/reconcile.js";
import { applyFeedback } from "../src/reasoning/feedback.js";
import { createModelClient } from "../src/reasoning/model.js";
import { solve } from "../src/reasoning/pipeline.js";
import { cliEnvironment, runCli } from "./support/cli.js";
import { bankWithProblems, createTestContext, type TestContext, useTestContext } from "./support/context.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const source = useTestContext({ shared: true });
let fake: FakeOpenAI;

async function dump(ctx: TestContext): Promise<string[]> {
  let text = "";
  await exportDatabase({
    db: ctx.db,
    write: async (chunk) => {
      text += chunk;
    },
  });
  // the header carries the time of the export; everything after it must match
  return text.trimEnd().split("\n").slice(1);
}

const HEADER = JSON.stringify({ format: "precedent-backup", version: 1, exportedAt: "2026-01-01T00:00:00Z" });

async function* linesOf(text: string): AsyncGenerator<string> {
  yield* text.split("\n");
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
  const ctx = source.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  const bank = await bankWithProblems(ctx, { id: "arith", domain: "number" }, [
    { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
    { problem: "A farm has 7 rows of 8 trees. How many trees?", answer: "56", reasoning: "7 * 8 = 56" },
  ]);
  const gold = await solve({
    ctx,
    bank,
    query: "Kai has 6 boxes of 9 pens. How many pens?",
    options: { gold: "54" },
  });
  const unverified = await solve({ ctx, bank, query: "A park has 6 rows of 9 trees. How many trees?" });
  await applyFeedback({ ctx, input: { runId: unverified.runId, correct: true } });
  await applyFeedback({ ctx, input: { runId: gold.runId, correct: false, answer: "55" } });
  const key = await createApiKey({ ctx, input: { scopes: ["bank:arith:read"], name: "reader" } });
  await createApiKey({ ctx, input: { scopes: ["admin"] } });
  await revokeApiKey({ ctx, input: { id: key.id } });
});
afterAll(async () => {
  await fake?.close();
});

describe("a backup of the whole database", () => {
  let target: TestDatabase;
  let restored: TestContext;
  afterEach(async () => {
    await restored?.close();
    await target?.close();
  });

  it("restores into an empty database exactly: every record, and the same recalls from the rebuilt index", async () => {
    const ctx = source.ctx();
    const before = await dump(ctx);
    const tables = new Set(before.map((l) => (JSON.parse(l) as { table?: string }).table));
    for (const table of ["banks", "api_keys", "memories", "runs", "run_recalls", "run_samples", "feedback"]) {
      expect(tables, table).toContain(table);
    }

    target = await createTestDatabase();
    restored = await createTestContext(target);
    const text = ["{}", ...before].join("\n");
    const counts = await importDatabase({ db: restored.db, lines: linesOf(text.replace("{}", HEADER)) });
    expect(counts.memories).toBe(before.filter((l) => l.startsWith('{"table":"memories"')).length);
    await reindex({ ctx: restored });

    expect(await dump(restored)).toEqual(before);
    const query = "Ann has 3 boxes of 5 pens. How many pens?";
    const recall = async (c: TestContext) =>
      (await recallAnalogues({ ctx: c, bank: await getBank(c.db, "arith"), query })).memories;
    const restoredRecall = await recall(restored);
    // the same memories, equally close (an index built write by write keeps BM25 statistics of its
    // history, so fused ranks may differ from a fresh build)...
    const closeness = (ms: typeof restoredRecall) => ms.map((m) => [m.id, m.scores.vector]).sort();
    expect(closeness(restoredRecall)).toEqual(closeness(await recall(ctx)));
    // ...and exactly what the source recalls once its own index is rebuilt from its records
    await reindex({ ctx });
    expect(restoredRecall).toEqual(await recall(ctx));
  });

  it("restores nothing from a file that is cut short, and refuses a database that holds records", async () => {
    const lines = await dump(source.ctx());
    target = await createTestDatabase();
    restored = await createTestContext(target);
    const cut = [HEADER, ...lines.slice(0, -3)].join("\n");
    await expect(importDatabase({ db: restored.db, lines: linesOf(cut) })).rejects.toThrow(/cut short/);
    expect(await dump(restored)).toEqual([
      JSON.stringify({
        end: true,
        rows: {
          banks: 0,
          api_keys: 0,
          memories: 0,
          runs: 0,
          run_recalls: 0,
          run_samples: 0,
          feedback: 0,
          audit_log: 0,
          embedding_cache: 0,
        },
      }),
    ]);
    const whole = [HEADER, ...lines].join("\n");
    await importDatabase({ db: restored.db, lines: linesOf(whole) });
    await expect(importDatabase({ db: restored.db, lines: linesOf(whole) })).rejects.toThrow(
      /empty database/,
    );
  });

  it("names the line of a row that is not one", async () => {
    target = await createTestDatabase();
    restored = await createTestContext(target);
    const bad = [HEADER, '{"table":"banks","row":{"id":"x"}}', "not json"].join("\n");
    await expect(importDatabase({ db: restored.db, lines: linesOf(bad) })).rejects.toThrow(
      /line 3: not JSON/,
    );
  });
});

describe("precedent export --all and precedent import", () => {
  it("round-trip a database through a file, and the restored one recalls the same", async () => {
    const from = await cliEnvironment();
    const to = await cliEnvironment();
    try {
      const bankFile = join(from.home, "bank.jsonl");
      writeFileSync(
        bankFile,
        [
          { problem: "Lila has 3 bags with 7 apples each. How many apples does she have?", answer: "21" },
          { problem: "A bus carries 40 people and 12 get off. How many are still on the bus?", answer: "28" },
        ]
          .map((p) => JSON.stringify(p))
          .join("\n"),
      );
      expect((await runCli(["seed", "fruit", "--from", bankFile], from.env)).code).toBe(0);
      const backup = join(from.home, "backup.ndjson");
      const exported = await runCli(["export", "--all", "--out", backup], from.env);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain("exported 1 banks");

      const imported = await runCli(["import", backup], to.env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/restored 1 banks, 0 api_keys, 2 memories.*indexed 2 memories/);

      const again = join(to.home, "again.ndjson");
      expect((await runCli(["export", "--all", "--out", again], to.env)).code).toBe(0);
      const body = (file: string) => readFileSync(file, "utf8").split("\n").slice(1);
      expect(body(again)).toEqual(body(backup));

      const question = ["recall", "--bank", "fruit", "Omar has 5 bags with 9 apples each. How many apples?"];
      const recalled = await runCli(question, to.env);
      expect(recalled.stdout).toBe((await runCli(question, from.env)).stdout);
      expect(recalled.stdout).toContain("Lila has 3 bags");

      // into a database that holds records: refused, naming why
      const twice = await runCli(["import", backup], to.env);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toContain("empty database");
    } finally {
      await from.drop();
      await to.drop();
    }
  });
});
