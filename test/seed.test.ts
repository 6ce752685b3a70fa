import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { seedBank } from "../seed/seedBank.js";
import { memories } from "../src/db/schema.js";
import { checkGame24, parsePuzzle } from "../src/domains/game24.js";
import { useTestContext } from "./support/context.js";
import { DATA_DIR } from "./support/data.js";

const t = useTestContext();

async function memoryCount(bank: string) {
  const [row] = await t.ctx().db.select({ n: count() }).from(memories).where(eq(memories.bankId, bank));
  return row?.n ?? 0;
}

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "precedent-seed-")), name);
  writeFileSync(path, content);
  return path;
}

describe("seeding GSM8K", () => {
  it("imports all 7,473 train problems once, and a second seed adds nothing", async () => {
    const ctx = t.ctx();
    const first = await seedBank({ ctx, input: { bankId: "gsm8k", from: "gsm8k", dataDir: DATA_DIR } });
    expect(first).toMatchObject({ created: true, inserted: 7473, duplicates: 0, rejected: [] });
    const second = await seedBank({ ctx, input: { bankId: "gsm8k", from: "gsm8k", dataDir: DATA_DIR } });
    expect(second).toMatchObject({ created: false, inserted: 0, duplicates: 7473, rejected: [] });

    expect(await memoryCount("gsm8k")).toBe(7473);
    expect(await ctx.index.count("gsm8k")).toBe(7473);
    const indexed = new Set(await ctx.index.ids("gsm8k"));
    expect(indexed.size).toBe(7473);
    const rows = await ctx.db.select({ id: memories.id }).from(memories);
    expect(rows.every((r) => indexed.has(r.id))).toBe(true);
  });

  it("stores the rationale as reasoning and the #### line as the gold answer", async () => {
    const ctx = t.ctx();
    await seedBank({ ctx, input: { bankId: "gsm8k", from: "gsm8k", dataDir: DATA_DIR } });
    const first = JSON.parse(
      readFileSync(join(DATA_DIR, "gsm8k", "train.jsonl"), "utf8").split("\n")[0] as string,
    );
    const [m] = await ctx.db.select().from(memories).where(eq(memories.problem, first.question));
    expect(m).toMatchObject({
      answer: "72",
      answerCanonical: "72",
      verification: "gold",
      source: "seed",
      status: "active",
      indexVersion: 1,
      version: 1,
    });
    expect(m?.reasoning).toContain("Natalia sold 48/2 = <<48/2=24>>24 clips in May.");
    expect(m?.reasoning).not.toContain("####");
  });
});

describe("seeding Game of 24", () => {
  it("solves every puzzle, and each stored expression passes the checker", async () => {
    const ctx = t.ctx();
    const result = await seedBank({ ctx, input: { bankId: "game24", from: "game24", dataDir: DATA_DIR } });
    expect(result.rejected).toEqual([]);
    expect(result.inserted).toBe(1362);
    const rows = await ctx.db.select().from(memories).where(eq(memories.bankId, "game24"));
    for (const m of rows) {
      expect(checkGame24(parsePuzzle(m.problem) as number[], m.answer)).toEqual({ ok: true });
      expect(m.verification).toBe("checker");
    }
  });
});

describe("seeding any JSONL file", () => {
  it("keeps the good rows and reports each malformed line with its number and reason", async () => {
    const ctx = t.ctx();
    const lines = [
      JSON.stringify({ problem: "Ann has 3 apples and buys 4 more. How many apples?", answer: "7" }),
      "{ this is not json",
      JSON.stringify({
        problem: "Bo has 10 pens and loses 2. How many pens?",
        answer: "8",
        reasoning: "10 - 2 = 8",
      }),
      JSON.stringify({ problem: "Cy reads 5 pages a day for 6 days. How many pages?" }),
      JSON.stringify({ problem: "Di has 4 boxes of 6 eggs. How many eggs?", answer: "24" }),
      JSON.stringify({ problem: "Ed runs 3 km twice a day. How many km a day?", answer: "six-ish" }),
      JSON.stringify({ problem: "Fay pays $12 for 3 books. What does one book cost?", answer: "$4" }),
    ];
    const file = tempFile("bank.jsonl", `${lines.join("\n")}\n`);
    const result = await seedBank({ ctx, input: { bankId: "mixed", from: file, dataDir: DATA_DIR } });
    expect(result.inserted).toBe(4);
    expect(result.rejected.map((r) => r.line)).toEqual([2, 4, 6]);
    expect(result.rejected[0]?.reason).toMatch(/not valid JSON/);
    expect(result.rejected[1]?.reason).toMatch(/^answer:/);
    expect(result.rejected[2]?.reason).toMatch(/"six-ish" is not a number answer/);
    expect(await memoryCount("mixed")).toBe(4);
    expect(await ctx.index.count("mixed")).toBe(4);
  });

  it("reads other field names through a field mapping", async () => {
    const ctx = t.ctx();
    const file = tempFile(
      "mapped.jsonl",
      `${JSON.stringify({ q: "What is 6 times 7?", sol: { final: 42, steps: "6 * 7 = 42" } })}\n`,
    );
    const result = await seedBank({
      ctx,
      input: {
        bankId: "mapped",
        from: file,
        dataDir: DATA_DIR,
        fields: { problem: "q", answer: "sol.final", reasoning: "sol.steps" },
      },
    });
    expect(result.inserted).toBe(1);
    const [m] = await ctx.db.select().from(memories).where(eq(memories.bankId, "mapped"));
    expect(m).toMatchObject({ problem: "What is 6 times 7?", answer: "42", reasoning: "6 * 7 = 42" });
  });

  it("treats the same problem with other spacing or case as a duplicate", async () => {
    const ctx = t.ctx();
    const file = tempFile(
      "dupes.jsonl",
      [
        JSON.stringify({ problem: "How many legs do 3 cats have?", answer: "12" }),
        JSON.stringify({ problem: "  how many legs do 3   cats HAVE? ", answer: "12" }),
      ].join("\n"),
    );
    const result = await seedBank({ ctx, input: { bankId: "dupes", from: file, dataDir: DATA_DIR } });
    expect(result).toMatchObject({ inserted: 1, duplicates: 1 });
  });

  it("refuses to seed into an existing bank of another domain", async () => {
    const ctx = t.ctx();
    await seedBank({ ctx, input: { bankId: "puzzles", from: "game24", dataDir: DATA_DIR } });
    await expect(
      seedBank({ ctx, input: { bankId: "puzzles", from: "gsm8k", dataDir: DATA_DIR } }),
    ).rejects.toThrow(/holds game24 problems, not number/);
  });
});
