import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../config.js";
import { PrecedentError } from "../errors.js";
import { packageRoot } from "../packageRoot.js";
import { COMMANDS, EXIT } from "./commands.js";
import { stylesFor } from "./style.js";

const indent = (text: string) => text.replace(/^/gm, "  ");

const OVERVIEW = `precedent: retrieval-augmented reasoning with memory

usage: precedent <command> [options]      precedent <command> --help    precedent --version

${Object.values(COMMANDS)
  .map((c) => indent(c.usage))
  .join("\n")}

Configuration comes from the environment (see README.md). Exit codes: 0 done, 1 failed, 2 bad usage or
input, 3 the embedded database is held by another process.`;

function usageOf(name: string): string {
  return `usage: precedent ${name} [options]\n\n${indent(COMMANDS[name]?.usage ?? "")}`;
}

function version(): string {
  return JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")).version as string;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name) {
    console.error(OVERVIEW);
    return EXIT.usage;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? args[0] : undefined;
    console.log(topic && COMMANDS[topic] ? usageOf(topic) : OVERVIEW);
    return EXIT.ok;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    console.log(`precedent ${version()}`);
    return EXIT.ok;
  }
  const spec = COMMANDS[name];
  const red = stylesFor(process.stderr).red;
  if (!spec) {
    console.error(`${red(`unknown command "${name}"`)}\n\n${OVERVIEW}`);
    return EXIT.usage;
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usageOf(name));
    return EXIT.ok;
  }
  try {
    const command = await spec.load();
    return await command(args, loadConfig());
  } catch (e) {
    if (e instanceof ConfigError || e instanceof PrecedentError) {
      console.error(red(`precedent ${name}: ${e.message}`));
      return e instanceof PrecedentError && e.code === "locked" ? EXIT.locked : EXIT.usage;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${red(`precedent ${name}: ${e.message}`)}\n\n${usageOf(name)}`);
      return EXIT.usage;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
