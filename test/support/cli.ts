import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createPostgresDatabase, TEST_DATABASE } from "./database.js";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "precedent.mjs");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A place for a CLI process to keep its data: a PGlite home, or a fresh Postgres database. */
export async function cliEnvironment(): Promise<{
  env: Record<string, string>;
  home: string;
  drop(): Promise<void>;
}> {
  const home = mkdtempSync(join(tmpdir(), "precedent-home-"));
  const env: Record<string, string> = { PRECEDENT_HOME: home, LOG_LEVEL: "warn", LANCEDB_LOG: "error" };
  if (TEST_DATABASE === "postgres") {
    const pg = await createPostgresDatabase();
    return { env: { ...env, DATABASE_URL: pg.url }, home, drop: pg.drop };
  }
  return { env, home, drop: async () => {} };
}

/** Starts `precedent <args>` as a real child process. */
export function spawnCli(args: string[], env: Record<string, string>): ChildProcess & { output: CliResult } {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...inherited, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  }) as ChildProcess & { output: CliResult };
  child.output = { code: null, signal: null, stdout: "", stderr: "" };
  child.stdout?.on("data", (d) => {
    child.output.stdout += d;
  });
  child.stderr?.on("data", (d) => {
    child.output.stderr += d;
  });
  return child;
}

/** Runs `precedent <args>` to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<CliResult> {
  const child = spawnCli(args, env);
  return exited(child, timeoutMs);
}

/** Resolves with the process's output once it exits (kills it after `timeoutMs`). */
export function exited(child: ChildProcess & { output: CliResult }, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    // a process killed while the caller awaited something else may have exited already: its exit event is gone
    if (child.exitCode !== null || child.signalCode !== null) {
      setImmediate(() => resolvePromise({ ...child.output, code: child.exitCode, signal: child.signalCode }));
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      // let the pipes drain
      setImmediate(() => resolvePromise({ ...child.output, code, signal }));
    });
  });
}

/** Resolves when the child's stdout or stderr matches `pattern`; rejects if it exits first. */
export function waitForOutput(
  child: ChildProcess & { output: CliResult },
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      const m = child.output.stdout.match(pattern) ?? child.output.stderr.match(pattern);
      if (m) {
        cleanup();
        resolvePromise(m);
      }
    };
    const onExit = () => {
      cleanup();
      reject(
        new Error(
          `process exited before printing ${pattern}:\n${child.output.stdout}\n${child.output.stderr}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern}:\n${child.output.stdout}\n${child.output.stderr}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.stderr?.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", onExit);
    check();
  });
}
