import { sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { queryRows } from "../src/db/database.js";
import type { IndexRow } from "../src/memory/index/memoryIndex.js";
import { nearest } from "../src/memory/index/postgres.js";
import { useTestContext } from "./support/context.js";

// What only the Postgres index has: the in-process scan, BM25 on Postgres text search, and the bank
// statistics it keeps. The contract it shares with LanceDB is tested in index.test.ts and recall.test.ts.
const t = useTestContext({ index: "postgres" });

function row(id: string, text: string, vector: Float32Array): IndexRow {
  return { id, bank: "b", status: "active", trust: 5, text, vector };
}

function unit(d: number, at: number): Float32Array {
  const v = new Float32Array(d);
  v[at] = 1;
  return v;
}

describe("the in-process vector scan", () => {
  it("returns exactly the most cosine-similar rows, best first", () => {
    // two decimals: real embeddings hold no subnormal floats, whose rounding would swamp the comparison
    const component = fc.integer({ min: -100, max: 100 }).map((x) => x / 100);
    const vectors = fc.array(component, { minLength: 5, maxLength: 5 });
    fc.assert(
      fc.property(
        fc.array(vectors, { minLength: 1, maxLength: 40 }),
        vectors,
        fc.nat(50),
        (rows, q, limit) => {
          const d = 5;
          const matrix = Float32Array.from(rows.flat());
          const norms = Float32Array.from(rows, (r) => Math.hypot(...r));
          const query = Float32Array.from(q);
          const cosine = (r: number[]) => {
            const n = Math.hypot(...r) * (Math.hypot(...q) || 1);
            return n === 0 ? 0 : r.reduce((s, x, j) => s + x * (query[j] as number), 0) / n;
          };
          const got = nearest(matrix, norms, rows.length, d, query, limit);
          const expected = rows.map(cosine).sort((a, b) => b - a);
          expect(got).toHaveLength(Math.min(limit, rows.length));
          got.forEach((hit, i) => {
            expect(hit.similarity).toBeCloseTo(expected[i] as number, 5);
            expect(hit.similarity).toBeCloseTo(cosine(rows[hit.row] as number[]), 5);
          });
        },
      ),
    );
  });
});

describe("full text on Postgres", () => {
  const d = 8;

  it("finds a text holding any one of the query's words, stemmed", async () => {
    const index = t.ctx().index;
    await index.upsert("b", [
      row("apples", "Tom picks apples in the orchard", unit(d, 0)),
      row("trains", "A train travels at constant speed", unit(d, 1)),
    ]);
    expect((await index.searchText("b", "apple harvest", 5)).map((h) => h.id)).toEqual(["apples"]);
    expect((await index.searchText("b", "trains orchard", 5)).map((h) => h.id).sort()).toEqual([
      "apples",
      "trains",
    ]);
  });

  it("weighs a rare word above a common one, as BM25 does", async () => {
    const index = t.ctx().index;
    const common = Array.from({ length: 8 }, (_, i) =>
      row(`c${i}`, `marbles in box number ${i}`, unit(d, 2)),
    );
    await index.upsert("b", [...common, row("rare", "a lonely telescope", unit(d, 3))]);
    // one text holds the rare word, eight the common one: the rare match ranks first
    const hits = await index.searchText("b", "marbles telescope", 20);
    expect(hits[0]?.id).toBe("rare");
    expect(hits).toHaveLength(9);
    expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score as number);
    expect(hits.every((h) => h.score > 0 && h.vector.length === d)).toBe(true);
  });

  it("counts a word's repetitions and prefers the shorter of two texts", async () => {
    const index = t.ctx().index;
    await index.upsert("b", [
      row("once", "the garden has roses and tulips and daisies", unit(d, 4)),
      row("twice", "the garden has roses and roses and daisies", unit(d, 4)),
      row("short", "roses", unit(d, 4)),
      row("other", "nothing of the sort here", unit(d, 4)),
    ]);
    expect((await index.searchText("b", "roses", 5)).map((h) => h.id)).toEqual(["short", "twice", "once"]);
  });
});

describe("the bank statistics", () => {
  it("stay equal to a recount through upserts that replace, removals and a drop", async () => {
    const ctx = t.ctx();
    const recount = async () => {
      const [stats] = await queryRows<{ rows: number; lexemes: number }>(
        ctx.db,
        sql`select rows, lexemes::int as lexemes from memory_index_banks where bank_id = 'b'`,
      );
      const [actual] = await queryRows<{ rows: number; lexemes: number }>(
        ctx.db,
        sql`select count(*)::int as rows, coalesce(sum(length(tsv)), 0)::int as lexemes
            from memory_index where bank_id = 'b'`,
      );
      expect(stats).toEqual(actual);
      return actual;
    };
    await ctx.index.upsert("b", [
      row("x", "red marbles and blue marbles", unit(4, 0)),
      row("y", "apples", unit(4, 1)),
    ]);
    expect(await recount()).toEqual({ rows: 2, lexemes: 4 });
    await ctx.index.upsert("b", [
      row("x", "red marbles", unit(4, 0)),
      row("z", "green pears and plums", unit(4, 2)),
    ]);
    expect(await recount()).toEqual({ rows: 3, lexemes: 6 });
    await ctx.index.remove("b", ["y", "missing"]);
    expect(await recount()).toEqual({ rows: 2, lexemes: 5 });
    await ctx.index.drop("b");
    expect(await recount()).toEqual({ rows: 0, lexemes: 0 });
  });
});
