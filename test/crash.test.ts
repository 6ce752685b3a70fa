import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_EMBEDDING_DIMENSIONS, loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { queryRows } from "../src/db/database.js";
import { FAULT_POINTS, type FaultPoint } from "../src/faults.js";
import { openLanceIndex } from "../src/memory/index/lance.js";
import { wordNetAnalyzer } from "../src/memory/lexical/wordNetAnalyzer.js";
import { problemHash } from "../src/memory/problemHash.js";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const QUERY = "Kai has 6 boxes of 9 pens. How many pens?";
const SEEDED = [
  { problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24", reasoning: "4 * 6 = 24" },
  { problem: "A farm has 7 rows of 8 trees. How many trees?", answer: "56", reasoning: "7 * 8 = 56" },
];
// inside the transaction that writes the memory, the credit and the run: a crash there commits none
const BEFORE_COMMIT: FaultPoint[] = ["after-memory-row", "after-run-row"];

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterAll(async () => {
  await fake?.close();
});

async function serve(env: Record<string, string>) {
  const server = spawnCli(["serve"], { ...env, PORT: "0" });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { server, url: url as string };
}

function solveThrough(url: string) {
  return fetch(`${url}/v1/banks/arith/solve`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: QUERY, samples: 4, gold: "54" }),
  });
}

/** What the stores hold once the server is stopped, read without repairing anything. */
async function storesOf(env: Record<string, string>) {
  const config = loadConfig({ ...process.env, ...env });
  const handle = await openDatabase(config.database);
  const index = await openLanceIndex({
    uri: config.lanceUri,
    dimensions: LOCAL_EMBEDDING_DIMENSIONS,
    analyzer: wordNetAnalyzer,
  });
  try {
    const active = await queryRows<{ id: string }>(
      handle.db,
      sql`select id from memories where bank_id = 'arith' and status = 'active' order by id`,
    );
    const solved = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from memories where problem_hash = ${problemHash(QUERY)}`,
    );
    const runs = await queryRows<{
      id: string;
      samples: number;
      recalls: number;
      written: string | null;
      exists: boolean;
    }>(
      handle.db,
      sql`select r.id, (select count(*)::int from run_samples s where s.run_id = r.id) as samples,
            (select count(*)::int from run_recalls c where c.run_id = r.id) as recalls,
            r.written_memory_id as written,
            exists (select 1 from memories m where m.id = r.written_memory_id) as exists
          from runs r order by r.seq`,
    );
    const [credit] = await queryRows<{ recalled: number; recalls: number }>(
      handle.db,
      sql`select (select coalesce(sum(recalled_count), 0)::int from memories) as recalled,
            (select count(*)::int from run_recalls) as recalls`,
    );
    // memories written by a run whose run was never stored: their provenance would point nowhere
    const [orphans] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from memories m
          where m.source = 'run' and not exists (select 1 from runs r where r.id = m.run_id)`,
    );
    const indexed = await index.ids("arith");
    return {
      active: active.map((r) => r.id),
      solved: solved[0]?.n,
      runs,
      credit,
      orphans: orphans?.n,
      indexed,
    };
  } finally {
    await index.close();
    await handle.close();
  }
}

const WRITE_BACK_POINTS = FAULT_POINTS.filter((p) => p !== "during-shadow");

describe("a server killed at each step of a solve's write-back", () => {
  it.each(WRITE_BACK_POINTS)(
    "restarts with every committed memory indexed once and no run half-written (%s)",
    async (point) => {
      const place = await cliEnvironment();
      try {
        const bankFile = join(place.home, "bank.jsonl");
        writeFileSync(bankFile, SEEDED.map((p) => JSON.stringify(p)).join("\n"));
        expect((await runCli(["seed", "arith", "--from", bankFile], place.env)).code).toBe(0);
        const env = { ...place.env, PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: fake.url };

        const doomed = await serve({ ...env, PRECEDENT_FAULT: point });
        const answered = await solveThrough(doomed.url).then(
          (r) => r.status,
          () => "connection lost",
        );
        const stopped = await exited(doomed.server, 30_000);
        expect(stopped.signal).toBe("SIGKILL");
        // before the commit the client never gets an answer; after it, the answer went out first
        expect(answered).toBe(BEFORE_COMMIT.includes(point) ? "connection lost" : 200);

        // the restart repairs what the crash left, and the service carries on
        const restarted = await serve(env);
        const again = await solveThrough(restarted.url);
        expect(again.status).toBe(200);
        restarted.server.kill("SIGTERM");
        expect((await exited(restarted.server, 30_000)).code).toBe(0);

        const stores = await storesOf(place.env);
        // exactly the active records are in the index, each once
        expect([...stores.indexed].sort()).toEqual(stores.active);
        // the problem was written once: by the solve that committed, or by the one after the restart
        expect(stores.solved).toBe(1);
        // a run committed with all of its samples and recalls, and the memory it names
        const runs = stores.runs;
        expect(runs).toHaveLength(BEFORE_COMMIT.includes(point) ? 1 : 2);
        for (const run of runs) {
          expect(run.samples).toBeGreaterThan(0);
          expect(run.recalls).toBeGreaterThan(0);
          expect(run.written).not.toBeNull();
          expect(run.exists).toBe(true);
        }
        expect(stores.orphans).toBe(0);
        // every counted recall belongs to a stored run: nothing credited by a solve that was rolled back
        expect(stores.credit?.recalled).toBe(stores.credit?.recalls);
      } finally {
        await place.drop();
      }
    },
  );
});

describe("a server killed during a shadow solve", () => {
  it("keeps the answered run whole and leaves no shadow run, half-written or credited", async () => {
    const place = await cliEnvironment();
    try {
      const env = { ...place.env, PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: fake.url };
      const doomed = await serve({ ...env, PRECEDENT_FAULT: "during-shadow" });
      const json = (body: unknown) => ({
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const created = await fetch(
        `${doomed.url}/v1/banks`,
        json({ id: "arith", domain: "number", settings: { shadowRate: 1 } }),
      );
      expect(created.status).toBe(201);
      const imported = await fetch(`${doomed.url}/v1/banks/arith/problems`, json(SEEDED));
      expect(imported.status).toBeLessThan(300);
      // the answer goes out before the shadow starts; the shadow then dies with the process
      const answered = await solveThrough(doomed.url);
      expect(answered.status).toBe(200);
      const stopped = await exited(doomed.server, 30_000);
      expect(stopped.signal).toBe("SIGKILL");

      const stores = await storesOf(place.env);
      expect(stores.runs).toHaveLength(1);
      expect(stores.runs[0]?.samples).toBeGreaterThan(0);
      expect(stores.runs[0]?.recalls).toBeGreaterThan(0);
      expect(stores.credit?.recalled).toBe(stores.credit?.recalls);
      const config = loadConfig({ ...process.env, ...place.env });
      const handle = await openDatabase(config.database);
      try {
        const [shadows] = await queryRows<{ n: number }>(
          handle.db,
          sql`select count(*)::int as n from runs where shadow_of is not null`,
        );
        expect(shadows?.n).toBe(0);
      } finally {
        await handle.close();
      }
    } finally {
      await place.drop();
    }
  });
});
