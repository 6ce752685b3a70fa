import { createWriteStream, renameSync, rmSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { getBank } from "../../memory/banks.js";
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
      format: { type: "string" },
      "min-verification": { type: "string" },
      out: { type: "string" },
    },
  });
  if (!values.bank) throw new PrecedentError("invalid_input", "--bank is required", "bank");
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
  const write = (chunks: AsyncIterable<string | Uint8Array>) => writeOutput(chunks, values.out);

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

async function exportDirectly(
  config: Config,
  bankId: string,
  options: ExportOptions,
  write: (chunks: AsyncIterable<string>) => Promise<number>,
): Promise<number> {
  const ctx = await openContext(config, { command: "export" });
  try {
    const bank = await getBank(ctx.db, bankId);
    return await write(ndjsonChunks(exportMemories({ db: ctx.db, bank, options })));
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

/**
 * Writes the chunks to the file (through a temporary file renamed at the end, so a failed export never
 * leaves a truncated file behind) or to stdout, and returns how many lines were written.
 */
async function writeOutput(chunks: AsyncIterable<string | Uint8Array>, out?: string): Promise<number> {
  let lines = 0;
  const counted = async function* () {
    for await (const chunk of chunks) {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk);
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
      yield chunk;
    }
  };
  if (out === undefined) {
    try {
      await pipeline(Readable.from(counted()), process.stdout, { end: false });
    } catch (e) {
      // the reader stopped early (e.g. `| head`): that is its choice, not a failure of the export
      if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
    }
    return lines;
  }
  const partial = `${out}.partial-${process.pid}`;
  try {
    await pipeline(Readable.from(counted()), createWriteStream(partial));
    renameSync(partial, out);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  return lines;
}
