import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createBankRoute } from "../src/api/routes/banks.js";
import { importProblemsRoute } from "../src/api/routes/problems.js";
import { recallRoute } from "../src/api/routes/recall.js";
import { apiClient } from "./support/api.js";
import { cliEnvironment, exited, spawnCli, waitForOutput } from "./support/cli.js";
import { TEST_DATABASE } from "./support/database.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ADMIN = "admin-token-for-replicas-0123456789";

async function replica(env: Record<string, string>): Promise<string> {
  // a home of its own: a replica keeps nothing locally, everything is in the shared stores
  const home = mkdtempSync(join(tmpdir(), "precedent-replica-"));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const server = spawnCli(["serve"], { ...env, PRECEDENT_HOME: home, PORT: "0", HOST: "127.0.0.1" });
  cleanups.push(async () => {
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      await exited(server, 30_000);
    }
  });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

async function recalledProblems(url: string, query: string): Promise<string[]> {
  const recalled = await apiClient(url, { token: ADMIN }).ok(recallRoute, {
    params: { bank: "shared" },
    json: { query, k: 5 },
  });
  return recalled.memories.map((m) => m.problem);
}

// Replicas share a Postgres server: the Postgres half of the suite has one.
describe.runIf(TEST_DATABASE === "postgres")("stateless replicas sharing one Postgres", () => {
  const cases: [string, (lance: string) => Record<string, string>][] = [
    ["one LanceDB location", (lance) => ({ LANCE_URI: lance, LANCE_READ_CONSISTENCY_SECONDS: "0" })],
    ["the Postgres index", () => ({ INDEX: "postgres" })],
  ];
  it.each(cases)(
    "a memory written through one replica is recalled through another (%s)",
    async (_, index) => {
      const place = await cliEnvironment();
      cleanups.push(place.drop);
      const lance = mkdtempSync(join(tmpdir(), "precedent-shared-lance-"));
      cleanups.push(() => rmSync(lance, { recursive: true, force: true }));
      const env = { ...place.env, ...index(lance), PRECEDENT_ADMIN_TOKEN: ADMIN };
      const a = await replica(env);
      const b = await replica(env);

      const writer = apiClient(a, { token: ADMIN });
      const params = { bank: "shared" };
      await writer.ok(createBankRoute, { json: { id: "shared", domain: "number" } });
      const first = "Lila has 3 bags with 7 apples each. How many apples does she have?";
      await writer.ok(importProblemsRoute, { params, json: [{ problem: first, answer: "21" }] });
      // b reads the bank's index before a writes to it again: a stale view would miss what follows
      expect(
        await recalledProblems(b, "Omar has 5 bags with 9 apples each. How many apples does he have?"),
      ).toEqual([first]);

      const second = "A train travels 60 miles each hour for 4 hours. How many miles does the train travel?";
      await writer.ok(importProblemsRoute, { params, json: [{ problem: second, answer: "240" }] });
      // not the same text: found through the index, not through the problem hash in the records
      const variant = "A train travels 45 miles each hour for 3 hours. How many miles does the train travel?";
      expect((await recalledProblems(b, variant))[0]).toBe(second);
    },
  );
});
