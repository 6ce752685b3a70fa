import { once } from "node:events";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { describeRows, exportDatabase } from "../../db/backup.js";
import { PrecedentError } from "../../errors.js";
import {
  EXPORT_FORMATS,
  type ExportOptions,
  exportMemories,
  exportOptionsSchema,
  ndjsonChunks,
} from "../../memory/exportMemories.js";
import { VERIFICATIONS } from "../../memory/trust.js";
import { runningServerUrl, serverRequest } from "../serverClient.js";

/**
 * `precedent export --bank B [--format jsonl|openai] [--min-verification tier] [--out file]`: the bank's
 * verified memories as JSON lines, to stdout or a file; through the running server when it holds the
 * embedded database.
 */
export async function exportCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      bank: { type: "string" },
      all: { type: "boolean" },
      format: { type: "string" },
      "min-verification": { type: "string" },
      out: { type: "string" },
    },
  });
  if (values.all) {
    if (values.bank || values.format || values["min-verification"]) {
      throw new PrecedentError("invalid_input", "--all exports every record: it takes only --out", "all");
    }
    return exportAll(config, values.out);
  }
  if (!values.bank) throw new PrecedentError("invalid_input", "--bank (or --all) is required", "bank");
  const parsed = exportOptionsSchema.safeParse({
    format: values.format,
    minVerification: values["min-verification"],
  });
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path[0] === "format" ? "format" : "min-verification";
    const allowed = field === "format" ? EXPORT_FORMATS : VERIFICATIONS;
    throw new PrecedentError("invalid_input", `--${field} must be one of ${allowed.join(", ")}`, field);
  }
  const options = parsed.data;
  const bank = values.bank;
  const write = (chunks: AsyncIterable<string | Uint8Array>) => writeOutput(each(chunks), values.out);

  const server = runningServerUrl(config);
  let lines: number;
  if (server) {
    const query = new URLSearchParams({ format: options.format });
    if (options.minVerification) query.set("minVerification", options.minVerification);
    const response = await serverRequest(
      config,
      server,
      `/v1/banks/${encodeURIComponent(bank)}/export?${query}`,
    );
    if (!response.body) throw new PrecedentError("unavailable", `the server at ${server} sent no export`);
    lines = await write(cutShortAsError(response.body, server));
  } else {
    lines = await exportDirectly(config, bank, options, write);
  }
  if (values.out) {
    console.log(`exported ${lines} memories of bank ${bank} as ${options.format} to ${values.out}`);
  }
  return 0;
}

/** `export --all`: every record of the database, for `precedent import` to restore. */
async function exportAll(config: Config, out: string | undefined): Promise<number> {
  const ctx = await openContext(config, { command: "export", readOnly: true });
  try {
    let rows: Record<string, number> = {};
    await writeOutput(async (write) => {
      rows = await exportDatabase({ db: ctx.db, write });
    }, out);
    if (out) console.log(`exported ${describeRows(rows)} to ${out}`);
    return 0;
  } finally {
    await ctx.close();
  }
}

async function exportDirectly(
  config: Config,
  bankId: string,
  options: ExportOptions,
  write: (chunks: AsyncIterable<string>) => Promise<number>,
): Promise<number> {
  const ctx = await openContext(config, { command: "export", readOnly: true });
  try {
    return await write(ndjsonChunks(await exportMemories({ ctx, input: { bankId, options } })));
  } finally {
    await ctx.close();
  }
}

/** A server that dies mid-export breaks the transfer; say so rather than fail with a bare "terminated". */
async function* cutShortAsError(body: AsyncIterable<Uint8Array>, url: string): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (e) {
    throw new PrecedentError("unavailable", `the export from ${url} was cut short (${(e as Error).message})`);
  }
}

type Write = (chunk: string | Uint8Array) => Promise<void>;

/** Hands every chunk of `chunks` to `write`, in order. */
function each(chunks: AsyncIterable<string | Uint8Array>): (write: Write) => Promise<void> {
  return async (write) => {
    for await (const chunk of chunks) await write(chunk);
  };
}

/**
 * Runs `produce` with a `write` that goes to the file (through a temporary file renamed at the end, so a
 * failed export never leaves a truncated file behind) or to stdout, waiting whenever the output is behind,
 * and returns how many lines were written.
 */
async function writeOutput(produce: (write: Write) => Promise<void>, out?: string): Promise<number> {
  let lines = 0;
  const partial = out === undefined ? undefined : `${out}.partial-${process.pid}`;
  const target: Writable = partial === undefined ? process.stdout : createWriteStream(partial);
  let failed: Error | undefined;
  const onError = (e: Error) => {
    failed ??= e;
  };
  target.on("error", onError);
  const write: Write = async (chunk) => {
    if (failed) throw failed;
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk);
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
    // once() also rejects should the output fail while we wait
    if (!target.write(chunk)) await once(target, "drain");
  };
  try {
    await produce(write);
    if (partial !== undefined && out !== undefined) {
      await new Promise<void>((resolve, reject) =>
        target.end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
      if (failed) throw failed;
      renameSync(partial, out);
    }
  } catch (e) {
    if (partial !== undefined) {
      target.destroy();
      rmSync(partial, { force: true });
    }
    // the reader stopped early (e.g. `| head`): that is its choice, not a failure of the export
    if (partial === undefined && (e as NodeJS.ErrnoException).code === "EPIPE") return lines;
    throw e;
  } finally {
    target.off("error", onError);
  }
  return lines;
}
