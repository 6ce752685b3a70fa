import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

let fake: FakeOpenAI;
beforeAll(async () => {
  // slow enough that SIGTERM arrives while the solves wait for the model
  fake = await startFakeOpenAI({
    behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" },
    latencyMs: 1_500,
  });
});
afterAll(async () => {
  await fake?.close();
});

describe("SIGTERM", () => {
  it("lets the requests in flight finish and store their runs, refuses new ones, then exits cleanly", async () => {
    const place = await cliEnvironment();
    try {
      const file = join(place.home, "bank.jsonl");
      writeFileSync(
        file,
        JSON.stringify({ problem: "Sam has 4 boxes of 6 pens. How many pens?", answer: "24" }),
      );
      expect((await runCli(["seed", "arith", "--from", file], place.env)).code).toBe(0);
      const env = { ...place.env, PORT: "0", PRECEDENT_MODEL: "fake-model", OPENAI_BASE_URL: fake.url };
      const server = spawnCli(["serve"], env);
      const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const solves = [6, 7, 8].map((n) =>
        fetch(`${url}/v1/banks/arith/solve`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: `Kai has ${n} boxes of 9 pens. How many pens?`, samples: 4 }),
        }),
      );
      // the solves are waiting for the model when the signal comes
      while (fake.requests.filter((r) => r.path === "/v1/chat/completions").length < 3) await sleep(20);
      server.kill("SIGTERM");
      await sleep(200);
      const late = await fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => "refused",
      );
      expect(late).toBe("refused");

      const answers = await Promise.all(solves);
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      const runIds = await Promise.all(
        answers.map(async (r) => ((await r.json()) as { runId: string }).runId),
      );
      const stopped = await exited(server, 30_000);
      expect(stopped.code).toBe(0);

      // every answered run was stored before the process let go of the database
      for (const runId of runIds) {
        const inspected = await runCli(["inspect", runId, "--json"], place.env);
        expect(inspected.code, inspected.stderr).toBe(0);
        expect(JSON.parse(inspected.stdout)).toMatchObject({ id: runId, status: "completed" });
      }
    } finally {
      await place.drop();
    }
  });
});
