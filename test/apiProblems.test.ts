import { count } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { memories } from "../src/db/schema.js";
import { createBank } from "../src/memory/banks.js";
import { useTestContext } from "./support/context.js";

const t = useTestContext();

const good = [
  { problem: "Ann has 3 apples and buys 4 more. How many apples?", answer: "7" },
  { problem: "Bo has 10 pens and loses 2. How many pens are left?", answer: "8", reasoning: "10 - 2 = 8" },
];

async function app() {
  await createBank({ ctx: t.ctx(), input: { id: "arith", domain: "number" } });
  return createApp(t.ctx());
}

async function stored() {
  const [row] = await t.ctx().db.select({ n: count() }).from(memories);
  return row?.n;
}

describe("bulk import over REST", () => {
  it("imports a JSON array, and importing it again adds nothing", async () => {
    const a = await app();
    const request = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(good),
    };
    const first = await a.request("/v1/banks/arith/problems", request);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ inserted: 2, duplicates: 0, rejected: [] });
    expect(await (await a.request("/v1/banks/arith/problems", request)).json()).toEqual({
      inserted: 0,
      duplicates: 2,
      rejected: [],
    });
    expect(await stored()).toBe(2);
    expect(await t.ctx().index.count("arith")).toBe(2);
  });

  it("keeps the good NDJSON lines and reports each bad one with its line and reason", async () => {
    const a = await app();
    const body = [
      JSON.stringify(good[0]),
      "{ nope",
      JSON.stringify({ problem: "No answer here" }),
      "",
      JSON.stringify(good[1]),
    ].join("\n");
    const response = await a.request("/v1/banks/arith/problems", {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    });
    const result = (await response.json()) as {
      inserted: number;
      rejected: { line: number; reason: string }[];
    };
    expect(result.inserted).toBe(2);
    expect(result.rejected.map((r) => r.line)).toEqual([2, 3]);
    expect(result.rejected[1]?.reason).toMatch(/^answer:/);
  });

  it("refuses a body that is not an array, and an unknown bank, changing nothing", async () => {
    const a = await app();
    const notArray = await a.request("/v1/banks/arith/problems", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(good[0]),
    });
    expect(notArray.status).toBe(400);
    const missing = await a.request("/v1/banks/nope/problems", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(good),
    });
    expect(missing.status).toBe(404);
    expect(await stored()).toBe(0);
  });
});
