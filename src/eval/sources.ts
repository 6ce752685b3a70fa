import { existsSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { readGame24 } from "../../seed/game24.js";
import { readGsm8k } from "../../seed/gsm8k.js";
import { DEFAULT_FIELDS } from "../../seed/jsonl.js";
import { resolveSeedSource } from "../../seed/sources.js";
import { queryRows } from "../db/database.js";
import { type DomainName, domainOf } from "../domains/domain.js";
import { PrecedentError } from "../errors.js";
import type { Bank } from "../memory/banks.js";
import { problemInputSchema, type Rejection, type SourceRow } from "../memory/importProblems.js";
import { problemHash } from "../memory/problemHash.js";
import type { Services } from "../services.js";

/** Where an evaluation's problems come from. */
export interface EvalSource {
  name: string;
  path: string;
  domain: DomainName;
  rows(): AsyncIterable<SourceRow>;
}

/** One problem of the stream: its text, its identity in the bank and the answer it is scored against. */
export interface EvalProblem {
  /** position in the split's evaluated problems (file order, before any shuffle) */
  index: number;
  /** line of the split it came from */
  line: number;
  problem: string;
  hash: string;
  /** the known answer; absent for Game of 24, which the checker scores */
  gold?: string;
}

export interface EvalStream {
  problems: EvalProblem[];
  /** rows of the split read before the limit was reached */
  read: number;
  /** leakage guard: problems skipped because the bank already holds them (same problem hash) */
  leaked: number;
  /** problems that occur again in the split (evaluated once) */
  duplicates: number;
  rejected: Rejection[];
}

// Evaluation reads the held-out split by default: `gsm8k` here is the test split, while `precedent seed`
// seeds from the train split.
const BUILT_IN = {
  gsm8k: { file: ["gsm8k", "test.jsonl"], domain: "number", read: readGsm8k },
  "gsm8k-test": { file: ["gsm8k", "test.jsonl"], domain: "number", read: readGsm8k },
  "gsm8k-train": { file: ["gsm8k", "train.jsonl"], domain: "number", read: readGsm8k },
  game24: { file: ["game24", "24.csv"], domain: "game24", read: readGame24 },
} as const;

/**
 * Resolves `--from` for an evaluation: a built-in split (`gsm8k` = GSM8K test, `gsm8k-train`, `game24`)
 * or a file read exactly as `precedent seed` reads it (JSONL with the field mapping, `.csv` as Game of 24).
 */
export function resolveEvalSource(
  from: string,
  options: {
    dataDir: string;
    domain: DomainName;
    fields?: { problem: string; answer: string; reasoning?: string };
  },
): EvalSource {
  const builtIn = BUILT_IN[from as keyof typeof BUILT_IN];
  if (!builtIn) {
    const seed = resolveSeedSource(from, {
      dataDir: options.dataDir,
      domain: options.domain,
      fields: options.fields ?? DEFAULT_FIELDS,
    });
    return { name: seed.name, path: seed.path, domain: seed.domain, rows: () => seed.rows() };
  }
  const path = join(options.dataDir, ...builtIn.file);
  if (!existsSync(path)) {
    throw new PrecedentError(
      "invalid_input",
      `the ${from} split is not at ${path}; set PRECEDENT_DATA_DIR to the folder holding ${builtIn.file[0]}/`,
      "from",
    );
  }
  return { name: from, path, domain: builtIn.domain, rows: () => builtIn.read(path) };
}

const CHUNK = 250;

/** The subset of these problem hashes the bank already holds, in any status. */
async function heldHashes(ctx: Services, bankId: string, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  // hashes are hex digests: safe inside an array literal
  const rows = await queryRows<{ problem_hash: string }>(
    ctx.db,
    sql`select problem_hash from memories where bank_id = ${bankId}
        and problem_hash = any(${`{${hashes.join(",")}}`}::text[])`,
  );
  return new Set(rows.map((r) => r.problem_hash));
}

/**
 * Reads the split into the stream of problems to evaluate, in file order: rows validated as seed validates
 * them (a bad row is rejected with its line), a problem the bank already holds skipped and counted
 * (leakage guard: the memory arm must not be scored on a problem it has the answer to), a repeat of an
 * earlier problem skipped and counted, and reading stops once `limit` problems are in.
 */
export async function loadStream({
  ctx,
  bank,
  source,
  limit,
}: {
  ctx: Services;
  bank: Bank;
  source: EvalSource;
  limit?: number;
}): Promise<EvalStream> {
  const domain = domainOf(bank.domain);
  const stream: EvalStream = { problems: [], read: 0, leaked: 0, duplicates: 0, rejected: [] };
  const seen = new Set<string>();
  let chunk: SourceRow[] = [];
  const full = () => limit !== undefined && stream.problems.length >= limit;

  const flush = async () => {
    const parsed = chunk.map((row) => {
      if ("error" in row) return { row, error: row.error };
      const p = problemInputSchema.safeParse(row.value);
      if (!p.success)
        return { row, error: p.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
      return { row, problem: p.data.problem, answer: p.data.answer, hash: problemHash(p.data.problem) };
    });
    chunk = [];
    const held = await heldHashes(
      ctx,
      bank.id,
      parsed.flatMap((p) => (p.hash ? [p.hash] : [])),
    );
    for (const p of parsed) {
      if (full()) return;
      stream.read++;
      if (p.error !== undefined || p.hash === undefined) {
        stream.rejected.push({ line: p.row.line, reason: p.error ?? "unreadable" });
        continue;
      }
      if (held.has(p.hash)) {
        stream.leaked++;
        continue;
      }
      if (seen.has(p.hash)) {
        stream.duplicates++;
        continue;
      }
      // Game of 24 has many right expressions: the checker scores it, not a gold expression
      const gold = bank.domain === "game24" ? undefined : p.answer;
      if (gold !== undefined && domain.canonicalize(gold) === undefined) {
        stream.rejected.push({
          line: p.row.line,
          reason: `answer: "${gold}" is not a ${bank.domain} answer`,
        });
        continue;
      }
      seen.add(p.hash);
      stream.problems.push({
        index: stream.problems.length,
        line: p.row.line,
        problem: p.problem,
        hash: p.hash,
        gold,
      });
    }
  };

  for await (const row of source.rows()) {
    chunk.push(row);
    if (chunk.length >= CHUNK) await flush();
    if (full()) break;
  }
  if (!full()) await flush();
  return stream;
}
