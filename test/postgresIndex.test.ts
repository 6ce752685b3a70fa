import { sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { queryRows } from "../src/db/database.js";
import { nearest } from "../src/memory/index/hotTier.js";
import type { IndexRow } from "../src/memory/index/memoryIndex.js";
import { useTestContext } from "./support/context.js";

// What only the Postgres index has: the in-process scan and the bank statistics it keeps. The contract it shares with LanceDB is tested in index.test.ts and recall.test.ts.
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

describe("the bank statistics", () => {
  it("stay equal to a recount through upserts that replace, removals and a drop", async () => {
    const ctx = t.ctx();
    const recount = async () => {
      const [stats] = await queryRows<{ rows: number }>(
        ctx.db,
        sql`select rows from memory_index_banks where bank_id = 'b'`,
      );
      const [actual] = await queryRows<{ rows: number }>(
        ctx.db,
        sql`select count(*)::int as rows from memory_index where bank_id = 'b'`,
      );
      expect(stats).toEqual(actual);
      return actual;
    };
    await ctx.index.upsert("b", [
      row("x", "red marbles and blue marbles", unit(4, 0)),
      row("y", "apples", unit(4, 1)),
    ]);
    expect(await recount()).toEqual({ rows: 2 });
    await ctx.index.upsert("b", [
      row("x", "red marbles", unit(4, 0)),
      row("z", "green pears and plums", unit(4, 2)),
    ]);
    expect(await recount()).toEqual({ rows: 3 });
    await ctx.index.remove("b", ["y", "missing"]);
    expect(await recount()).toEqual({ rows: 2 });
    await ctx.index.drop("b");
    expect(await recount()).toEqual({ rows: 0 });
  });
});
