import type { Config } from "../config.js";

/** A command's entry point: its arguments and the configuration, to an exit code. */
export type Command = (args: string[], config: Config) => Promise<number>;

interface CommandSpec {
  /** how it is called and what it does, as `precedent --help` and `precedent <command> --help` print it */
  usage: string;
  /** the command's module, imported only when it runs: `--help` and `--version` load none of them */
  load: () => Promise<Command>;
}

/** Every command of the CLI, in the order the overview lists them. */
export const COMMANDS: Record<string, CommandSpec> = {
  serve: {
    usage: "serve                          serve the REST API (PORT, HOST; default http://127.0.0.1:8787)",
    load: async () => (await import("./commands/serve.js")).serveCommand,
  },
  mcp: {
    usage: `mcp                            an MCP server on stdin/stdout (for Claude Desktop, Cursor, …); goes
                               through a running server on the embedded database, as the CLI does`,
    load: async () => (await import("./commands/mcp.js")).mcpCommand,
  },
  migrate: {
    usage: "migrate                        apply database migrations",
    load: async () => (await import("./commands/migrate.js")).migrateCommand,
  },
  seed: {
    usage: `seed <bank> --from <source>    import solved problems; source: gsm8k | game24 | file.jsonl | file.csv
     [--problem-field f] [--answer-field f] [--reasoning-field f] [--verification-field f] [--domain number|game24|choice|text]`,
    load: async () => (await import("./commands/seed.js")).seedCommand,
  },
  recall: {
    usage: `recall --bank <bank> [--k n] [--json] "question"
                               the memories a solve would be shown, with their scores`,
    load: async () => (await import("./commands/recall.js")).recallCommand,
  },
  solve: {
    usage: `solve --bank <bank> [--samples n] [--k n] [--gold answer] [--strategy s] [--no-adaptive] [--json]
     [--selection vote|universal] [--decoding sample|cot-decoding] [--branches n] "question"
                               solve with memory (needs PRECEDENT_MODEL and an OpenAI-compatible endpoint)`,
    load: async () => (await import("./commands/solve.js")).solveCommand,
  },
  eval: {
    usage: `eval --bank <bank> --from <split> [--limit n] [--samples n] [--k n] [--seeds n] [--shuffle]
     [--arms a,b,…] [--no-adaptive] [--out dir] [--discard] [--problem-field f] [--answer-field f]
                               compare arms on the same problems (default memory,static,control;
                               also step-back, analogical; Holm-adjusted past two arms);
                               split: gsm8k (test) | gsm8k-train | game24 | file.jsonl | file.csv;
                               writes result.json and report.html (default ./eval-results/<id>/)`,
    load: async () => (await import("./commands/eval.js")).evalCommand,
  },
  inspect: {
    usage:
      "inspect <run-id> [--json]      a run: recalls and scores, prompt, samples, vote, verdict, timings",
    load: async () => (await import("./commands/inspect.js")).inspectCommand,
  },
  impact: {
    usage: `impact --bank <bank> [--json]  does memory help? the lift over shadow control runs and each
                               memory's effect from ablations (the bank's shadowRate, ablationRate)`,
    load: async () => (await import("./commands/impact.js")).impactCommand,
  },
  export: {
    usage: `export --bank <bank> [--format jsonl|openai] [--min-verification tier] [--out file]
                               the bank's verified memories as JSON lines (re-import with seed, or
                               fine-tune: openai chat format); default tier: the bank's trust floor
export --all [--out file]      every record of the database (a backup, for import)`,
    load: async () => (await import("./commands/export.js")).exportCommand,
  },
  import: {
    usage: "import <file|->                restore a backup into an empty database and rebuild the index",
    load: async () => (await import("./commands/import.js")).importCommand,
  },
  reindex: {
    usage: "reindex [--bank <bank>]        rebuild the search index from the records",
    load: async () => (await import("./commands/reindex.js")).reindexCommand,
  },
  keys: {
    usage: `keys create --scope <scope>... [--name n] | keys list | keys revoke <key-id>
                               manage API keys; scopes: admin, bank:<id>:read, bank:<id>:write`,
    load: async () => (await import("./commands/keys.js")).keysCommand,
  },
};

/** The exit codes of every command (README, "Command line"). */
export const EXIT = {
  ok: 0,
  /** an unexpected failure: a bug, or a fault of the machine (the message says which) */
  failed: 1,
  /** the command cannot run as given: an unknown command or option, bad input, missing configuration, or refused */
  usage: 2,
  /** the embedded database is held by another process that is not a server this command can go through */
  locked: 3,
} as const;
