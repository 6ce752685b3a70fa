import { count, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openContext } from "../src/context.js";
import { memories } from "../src/db/schema.js";
import { createLogger } from "../src/log.js";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe("a seed killed mid-way", () => {
  it("resumes on the next run and ends with every row once in the records and in the index", async () => {
    const place = await cliEnvironment();
    cleanups.push(place.drop);

    // kill -9 twice, at different depths of the import, then let a third run finish
    for (const killAfter of [1000, 4000]) {
      const child = spawnCli(["seed", "gsm8k", "--from", "gsm8k"], place.env);
      await waitForOutput(child, new RegExp(`seed gsm8k: ${killAfter} read`));
      child.kill("SIGKILL");
      const killed = await exited(child);
      expect(killed.signal).toBe("SIGKILL");
    }
    const finished = await runCli(["seed", "gsm8k", "--from", "gsm8k"], place.env);
    expect(finished.stderr).not.toMatch(/error/i);
    expect(finished.code).toBe(0);
    const summary = finished.stdout.match(/(\d+) new, (\d+) already there, 0 rejected/);
    expect(summary).not.toBeNull();
    const [fresh, known] = [Number(summary?.[1]), Number(summary?.[2])];
    // the killed runs had stored part of the bank, and nothing was imported twice
    expect(known).toBeGreaterThanOrEqual(4000);
    expect(fresh + known).toBe(7473);

    const ctx = await openContext(loadConfig(place.env), { command: "test", log: createLogger("silent") });
    try {
      const [records] = await ctx.db.select({ n: count() }).from(memories);
      const [pending] = await ctx.db
        .select({ n: count() })
        .from(memories)
        .where(sql`${memories.indexVersion} < ${memories.version}`);
      expect(records?.n).toBe(7473);
      expect(pending?.n).toBe(0);
      const indexed = await ctx.index.ids("gsm8k");
      expect(indexed).toHaveLength(7473);
      const ids = new Set((await ctx.db.select({ id: memories.id }).from(memories)).map((r) => r.id));
      expect(new Set(indexed)).toEqual(ids);
    } finally {
      await ctx.close();
    }
  });
});
