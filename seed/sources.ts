import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DomainName } from "../src/domains/domain.js";
import { PrecedentError } from "../src/errors.js";
import type { SourceRow } from "../src/memory/importProblems.js";
import { readGame24 } from "./game24.js";
import { readGsm8k } from "./gsm8k.js";
import { type FieldMapping, readJsonl } from "./jsonl.js";
import { countLines } from "./readLines.js";

/** Where a seed's problems come from: a built-in dataset or a JSONL file. */
export interface SeedSource {
  name: string;
  path: string;
  /** the domain a bank created from this source gets */
  domain: DomainName;
  description: string;
  rows(): AsyncIterable<SourceRow>;
  /** rows to expect, for a progress bar */
  total(): Promise<number>;
}

const BUILT_IN = {
  gsm8k: {
    file: ["gsm8k", "train.jsonl"],
    domain: "number",
    description: "GSM8K grade-school math word problems (train split) with worked rationales",
    read: readGsm8k,
  },
  game24: {
    file: ["game24", "24.csv"],
    domain: "game24",
    description: "Game of 24 puzzles, solved by search and verified by the checker",
    read: readGame24,
  },
} as const;

/**
 * Resolves `--from`: `gsm8k` or `game24` name a built-in dataset under the data directory; anything else
 * is a JSONL file read with the given field mapping (its `.csv` twin is read as Game of 24).
 */
export function resolveSeedSource(
  from: string,
  options: { dataDir: string; fields?: FieldMapping; domain?: DomainName },
): SeedSource {
  const builtIn = BUILT_IN[from as keyof typeof BUILT_IN];
  const path = builtIn ? join(options.dataDir, ...builtIn.file) : from;
  if (!existsSync(path)) {
    throw new PrecedentError(
      "invalid_input",
      builtIn
        ? `the ${from} dataset is not at ${path}; set PRECEDENT_DATA_DIR to the folder holding ${builtIn.file[0]}/`
        : `no such file: ${path}`,
      "from",
    );
  }
  const total = async () => Math.max(0, (await countLines(path)) - (path.endsWith(".csv") ? 1 : 0));
  if (builtIn) {
    return {
      name: from,
      path,
      domain: builtIn.domain,
      description: builtIn.description,
      rows: () => builtIn.read(path),
      total,
    };
  }
  if (path.endsWith(".csv")) {
    return {
      name: path,
      path,
      domain: "game24",
      description: `imported from ${path}`,
      rows: () => readGame24(path),
      total,
    };
  }
  return {
    name: path,
    path,
    domain: options.domain ?? "number",
    description: `imported from ${path}`,
    rows: () => readJsonl(path, options.fields),
    total,
  };
}
