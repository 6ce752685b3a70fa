import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands.js";
import { runCli } from "./support/cli.js";

const ROOT = resolve(import.meta.dirname, "..");
const ESC = "\u001b[";

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function onTerminal(args: string, env: Record<string, string>): string {
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...inherited } = process.env;
  try {
    return execFileSync("script", ["-qec", `node bin/precedent.mjs ${args}`, "/dev/null"], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      encoding: "utf8",
    });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? "");
  }
}

describe("the command line's conventions", () => {
  it("prints the overview with --help and exits 0, and exits 2 with it when no command is given", async () => {
    const help = await runCli(["--help"], {});
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toContain(`  ${name}`);
    const bare = await runCli([], {});
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("usage: precedent <command>");
  });

  it("prints a command's own usage for `<command> --help` and exits 0, opening nothing", async () => {
    for (const name of Object.keys(COMMANDS)) {
      // a home that cannot exist: the command must not get as far as opening a store
      const result = await runCli([name, "--help"], { PRECEDENT_HOME: "/nonexistent/precedent" });
      expect(result.code, name).toBe(0);
      expect(result.stdout).toContain(`usage: precedent ${name}`);
      expect(result.stdout).toContain(COMMANDS[name]?.usage.split("\n")[0]?.trim().slice(0, 20));
    }
  });

  it("prints its version", async () => {
    const { version } = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8"));
    const result = await runCli(["--version"], {});
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`precedent ${version}`);
  });

  it("names an unknown option or command, shows the usage and exits 2", async () => {
    const option = await runCli(["recall", "--bogus", "q"], {});
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("--bogus");
    expect(option.stderr).toContain("usage: precedent recall");
    const command = await runCli(["recal"], {});
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "recal"');
  });

  it("colours errors on a terminal, and not when NO_COLOR is set or the output is not a terminal", async () => {
    expect(onTerminal("recal", {})).toContain(ESC);
    expect(onTerminal("recal", { NO_COLOR: "1" })).not.toContain(ESC);
    const piped = await runCli(["recal"], { NO_COLOR: "" });
    expect(piped.stderr).not.toContain(ESC);
  });
});
