import { describe, expect, it } from "vitest";
import type { Logger } from "../src/log.js";
import { createHotTier, type LoadBank, nearest } from "../src/memory/index/hotTier.js";
import type { IndexRow } from "../src/memory/index/memoryIndex.js";
import { nativeNearest } from "../src/memory/index/nativeScan.js";
import { openPostgresIndex } from "../src/memory/index/postgres.js";
import { wordNetAnalyzer } from "../src/memory/lexical/wordNetAnalyzer.js";
import { useTestContext } from "./support/context.js";

function unit(d: number, at: number): Float32Array {
  const v = new Float32Array(d);
  v[at] = 1;
  return v;
}

/** A store of one bank whose generation and rows the test moves by hand, counting the reads. */
function fakeStore(d: number) {
  const state = { generation: 1, rows: [{ id: "a", vector: unit(d, 0) }], reads: 0 };
  const load: LoadBank = async () => {
    state.reads++;
    return { generation: state.generation, rows: state.rows.map((r) => ({ ...r })) };
  };
  return { state, load };
}

describe("the hot tier", () => {
  it("reads a bank once, and again only when the store's generation moved past its copy", async () => {
    const { state, load } = fakeStore(3);
    const hot = createHotTier({ dimensions: 3, load });
    expect((await hot.search("b", 1, unit(3, 0), 1)).map((h) => h.id)).toEqual(["a"]);
    await hot.search("b", 1, unit(3, 0), 1);
    expect(state.reads).toBe(1);
    // another writer: the generation moves on and a row appears
    state.generation = 2;
    state.rows.push({ id: "c", vector: unit(3, 2) });
    expect((await hot.search("b", 2, unit(3, 2), 1)).map((h) => h.id)).toEqual(["c"]);
    expect(state.reads).toBe(2);
  });

  it("applies this process's own write in place when it is the next generation, else forgets the copy", async () => {
    const { state, load } = fakeStore(3);
    const hot = createHotTier({ dimensions: 3, load });
    await hot.search("b", 1, unit(3, 0), 1);
    hot.applyLocally("b", 2, { upsert: [{ id: "z", vector: unit(3, 1) }] });
    expect((await hot.search("b", 2, unit(3, 1), 1)).map((h) => h.id)).toEqual(["z"]);
    hot.applyLocally("b", 3, { remove: ["z"] });
    expect((await hot.search("b", 3, unit(3, 1), 2)).map((h) => h.id)).toEqual(["a"]);
    expect(state.reads).toBe(1);
    // a write that skipped a generation (someone else wrote between): the copy cannot be trusted
    hot.applyLocally("b", 5, { remove: ["a"] });
    expect(hot.holds("b")).toBe(false);
  });

  it("warns once when a bank is past the size it is fit for, and still searches it exactly", async () => {
    const warnings: unknown[] = [];
    const log = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, vector: unit(5, i) }));
    const hot = createHotTier({ dimensions: 5, limit: 4, log, load: async () => ({ generation: 1, rows }) });
    expect((await hot.search("b", 1, unit(5, 4), 1)).map((h) => h.id)).toEqual(["m4"]);
    hot.forget("b");
    await hot.search("b", 1, unit(5, 3), 1);
    expect(warnings).toHaveLength(1);
  });
});

describe("the hot tier of two index objects sharing one database", () => {
  const t = useTestContext({ index: "postgres" });
  const row = (id: string, vector: Float32Array): IndexRow => ({
    id,
    bank: "shared",
    status: "active",
    trust: 5,
    text: `problem ${id}`,
    vector,
  });

  it("finds what the other wrote on its next search, and what it wrote itself at once", async () => {
    const ctx = t.ctx();
    const d = 4;
    // each opened with its own in-process state, as two replicas are
    const first = await openPostgresIndex({ db: ctx.db, dimensions: d, analyzer: wordNetAnalyzer });
    const second = await openPostgresIndex({ db: ctx.db, dimensions: d, analyzer: wordNetAnalyzer });
    try {
      await first.upsert("shared", [row("x", unit(d, 0))]);
      expect((await second.searchVector("shared", unit(d, 0), 1)).map((h) => h.id)).toEqual(["x"]);
      await first.upsert("shared", [row("y", unit(d, 1))]);
      expect((await second.searchVector("shared", unit(d, 1), 1)).map((h) => h.id)).toEqual(["y"]);
      await second.remove("shared", ["x"]);
      expect((await second.searchVector("shared", unit(d, 0), 5)).map((h) => h.id)).toEqual(["y"]);
      expect((await first.searchVector("shared", unit(d, 0), 5)).map((h) => h.id)).toEqual(["y"]);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe("the hot tier's native scan", () => {
  it("finds the same rows with the same similarities as the scan in JavaScript, a zero vector scoring 0", () => {
    const d = 384;
    const n = 500;
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    // room past n, as the copy keeps it: the scans must read only the first n rows
    const matrix = new Float32Array((n + 16) * d).map(() => random());
    matrix.fill(0, 3 * d, 4 * d);
    const norms = new Float32Array(n + 16);
    for (let i = 0; i < n + 16; i++) norms[i] = Math.hypot(...matrix.subarray(i * d, (i + 1) * d));
    for (let q = 0; q < 5; q++) {
      const query = matrix.slice(q * 50 * d, (q * 50 + 1) * d).map((x) => x + 0.1 * random());
      const native = nativeNearest(matrix, norms, n, d, query, 10);
      const plain = nearest(matrix, norms, n, d, query, 10);
      expect(native.map((h) => h.row)).toEqual(plain.map((h) => h.row));
      for (const [i, h] of native.entries())
        expect(h.similarity).toBeCloseTo(plain[i]?.similarity as number, 5);
      expect(native.every((h) => h.row < n)).toBe(true);
    }
    const all = nativeNearest(matrix, norms, n, d, new Float32Array(d).fill(1), n);
    expect(all).toHaveLength(n);
    expect(all.find((h) => h.row === 3)?.similarity).toBe(0);
  });
});
