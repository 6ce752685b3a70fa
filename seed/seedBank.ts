import type { DomainName } from "../src/domains/domain.js";
import { ensureBank } from "../src/memory/banks.js";
import { type ImportResult, importProblems } from "../src/memory/importProblems.js";
import type { CallContext } from "../src/services.js";
import type { FieldMapping } from "./jsonl.js";
import { resolveSeedSource } from "./sources.js";

export interface SeedInput {
  bankId: string;
  from: string;
  dataDir: string;
  fields?: FieldMapping;
  domain?: DomainName;
}

export interface SeedResult extends ImportResult {
  bank: string;
  created: boolean;
  total: number;
  /** importing: records written and searchable */
  seconds: number;
  /** building the approximate vector index afterwards (large banks only) */
  indexSeconds: number;
}

/** Seeds a bank from a built-in dataset or a file, creating the bank when it does not exist yet. */
export async function seedBank({
  ctx,
  input,
  onStart,
  onProgress,
}: {
  ctx: CallContext;
  input: SeedInput;
  onStart?: (total: number) => void;
  onProgress?: (progress: ImportResult & { read: number }) => void;
}): Promise<SeedResult> {
  const source = resolveSeedSource(input.from, input);
  const { bank, created } = await ensureBank(ctx.db, {
    id: input.bankId,
    domain: input.domain ?? source.domain,
    description: source.description,
  });
  const total = await source.total();
  onStart?.(total);
  const started = performance.now();
  const result = await importProblems({
    ctx,
    input: { bankId: bank.id, rows: source.rows(), source: "seed", onProgress },
  });
  const seconds = (performance.now() - started) / 1000;
  await ctx.index.optimize(bank.id);
  return {
    ...result,
    bank: bank.id,
    created,
    total,
    seconds,
    indexSeconds: (performance.now() - started) / 1000 - seconds,
  };
}
