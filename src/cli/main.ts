import { ConfigError, loadConfig } from "../config.js";
import { PrecedentError } from "../errors.js";
import { evalCommand } from "./commands/eval.js";
import { exportCommand } from "./commands/export.js";
import { importCommand } from "./commands/import.js";
import { inspectCommand } from "./commands/inspect.js";
import { keysCommand } from "./commands/keys.js";
import { migrateCommand } from "./commands/migrate.js";
import { recallCommand } from "./commands/recall.js";
import { reindexCommand } from "./commands/reindex.js";
import { seedCommand } from "./commands/seed.js";
import { serveCommand } from "./commands/serve.js";
import { solveCommand } from "./commands/solve.js";

const USAGE = `precedent: retrieval-augmented reasoning with memory

usage: precedent <command> [options]

  serve                          serve the REST API (PORT, HOST; default http://127.0.0.1:8787)
  migrate                        apply database migrations
  seed <bank> --from <source>    import solved problems; source: gsm8k | game24 | file.jsonl | file.csv
       [--problem-field f] [--answer-field f] [--reasoning-field f] [--verification-field f] [--domain number|game24|choice|text]
  recall --bank <bank> [--k n] [--json] "question"
                                 the memories a solve would be shown, with their scores
  solve --bank <bank> [--samples n] [--k n] [--gold answer] [--no-adaptive] [--json] "question"
                                 solve with memory (needs PRECEDENT_MODEL and an OpenAI-compatible endpoint)
  eval --bank <bank> --from <split> [--limit n] [--samples n] [--k n] [--seeds n] [--shuffle]
       [--no-adaptive] [--out dir] [--discard] [--problem-field f] [--answer-field f]
                                 compare memory, static and control arms on the same problems;
                                 split: gsm8k (test) | gsm8k-train | game24 | file.jsonl | file.csv;
                                 writes result.json and report.html (default ./eval-results/<id>/)
  inspect <run-id> [--json]      a run: recalls and scores, prompt, samples, vote, verdict, timings
  export --bank <bank> [--format jsonl|openai] [--min-verification tier] [--out file]
                                 the bank's verified memories as JSON lines (re-import with seed, or
                                 fine-tune: openai chat format); default tier: the bank's trust floor
  export --all [--out file]      every record of the database (a backup, for import)
  import <file|->                restore a backup into an empty database and rebuild the index
  reindex [--bank <bank>]        rebuild the search index from the records
  keys create --scope <scope>... [--name n] | keys list | keys revoke <key-id>
                                 manage API keys; scopes: admin, bank:<id>:read, bank:<id>:write

Configuration comes from the environment (see README.md).`;

const COMMANDS: Record<string, (args: string[], env: ReturnType<typeof loadConfig>) => Promise<number>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  seed: seedCommand,
  recall: recallCommand,
  reindex: reindexCommand,
  solve: solveCommand,
  eval: evalCommand,
  inspect: inspectCommand,
  export: exportCommand,
  import: importCommand,
  keys: keysCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args, loadConfig());
  } catch (e) {
    if (e instanceof ConfigError || e instanceof PrecedentError) {
      console.error(`precedent ${name}: ${e.message}`);
      return e instanceof PrecedentError && e.code === "locked" ? 3 : 2;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`precedent ${name}: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
