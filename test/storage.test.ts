import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";
import { TEST_DATABASE } from "./support/database.js";

/** Whether this process may mount a small tmpfs (root on Linux), to make a disk that fills up or turns read-only. */
function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), "precedent-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

// The embedded database lives in PRECEDENT_HOME, so its disk is the one a test can fill or freeze.
const embedded = TEST_DATABASE === "pglite";
const mountable = embedded && canMount();
if (embedded && !mountable) {
  if (process.env.CI) throw new Error("the storage tests need to mount a tmpfs (run as root)");
  console.warn("\n*** storage tests SKIPPED: mounting a tmpfs needs root ***\n");
}

const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync("umount", [dir], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
});

const PROBLEM = {
  problem: "Lila has 3 bags with 7 apples each. How many apples does she have?",
  answer: "21",
};

/** A home on its own small disk, with a bank seeded into it. */
async function seededHome(): Promise<{ disk: string; env: Record<string, string> }> {
  const disk = mkdtempSync(join(tmpdir(), "precedent-disk-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=160m", "tmpfs", disk]);
  mounts.push(disk);
  const env = { PRECEDENT_HOME: join(disk, "home"), LOG_LEVEL: "warn", LANCEDB_LOG: "error" };
  const file = join(disk, "bank.jsonl");
  writeFileSync(file, JSON.stringify(PROBLEM));
  const seeded = await runCli(["seed", "fruit", "--from", file], env);
  expect(seeded.code, seeded.stderr).toBe(0);
  return { disk, env };
}

async function serve(env: Record<string, string>) {
  const server = spawnCli(["serve"], { ...env, PORT: "0" });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { server, url: url as string };
}

const importBody = (count: number, from: number) =>
  JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      problem: `A shop sells ${from + i} crates of ${i + 3} melons. How many melons does it sell on day ${from + i}?`,
      answer: String((from + i) * (i + 3)),
      reasoning: "crates times melons per crate ".repeat(20),
    })),
  );

async function recallsSeeded(url: string): Promise<boolean> {
  const response = await fetch(`${url}/v1/banks/fruit/recall`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: PROBLEM.problem }),
  });
  const body = (await response.json()) as { memories: { problem: string }[] };
  return response.status === 200 && body.memories[0]?.problem === PROBLEM.problem;
}

describe.runIf(mountable)("storage that refuses writes", () => {
  it("a full disk: a write gets 507 saying so, what is stored stays readable, and writes resume once space is freed", async () => {
    const { disk, env } = await seededHome();
    const { server, url } = await serve(env);
    try {
      const filler = join(disk, "filler");
      const { bavail, bsize } = statfsSync(disk);
      execFileSync("fallocate", ["-l", String(bavail * bsize - 256 * 1024), filler]);

      const importing = () =>
        fetch(`${url}/v1/banks/fruit/problems`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: importBody(3000, 1),
        });
      const full = await importing();
      expect(full.status).toBe(507);
      expect(full.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await full.json()) as { type: string; detail: string };
      expect(problem.type).toBe("/problems/insufficient-storage");
      expect(problem.detail).toContain("full");
      expect(await recallsSeeded(url)).toBe(true);
      expect((await fetch(`${url}/v1/banks/fruit`)).status).toBe(200);

      rmSync(filler);
      const resumed = await importing();
      expect(resumed.status).toBe(200);
      expect(((await resumed.json()) as { inserted: number }).inserted).toBe(3000);
    } finally {
      server.kill("SIGTERM");
      await exited(server, 30_000);
    }
  });

  it("a read-only data directory: serve stops at start-up with a clear message, and the data is intact once writable", async () => {
    const { disk, env } = await seededHome();
    execFileSync("mount", ["-o", "remount,ro", disk]);
    const refused = await runCli(["serve"], { ...env, PORT: "0" }, 60_000);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("read-only");
    expect(refused.stderr).toContain(env.PRECEDENT_HOME);
    // a message, not a stack trace
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    execFileSync("mount", ["-o", "remount,rw", disk]);
    const { server, url } = await serve(env);
    try {
      expect(await recallsSeeded(url)).toBe(true);
    } finally {
      server.kill("SIGTERM");
      await exited(server, 30_000);
    }
  });
});
