import { randomBytes } from "node:crypto";
import type { DomainName } from "../domains/domain.js";
import { PrecedentError } from "../errors.js";
import { getBank } from "../memory/banks.js";
import type { Rejection } from "../memory/importProblems.js";
import type { CallContext } from "../services.js";
import { ARMS, type ArmOutcome, type ArmSettings, armCopy, type PerArm, runArm } from "./arms.js";
import { type EvalOptions, evalOptionsSchema, type ParsedEvalOptions } from "./options.js";
import { seededShuffle } from "./random.js";
import { copyBank, discardBank } from "./scratchBank.js";
import { type EvalProblem, loadStream, resolveEvalSource } from "./sources.js";
import { type ArmSummary, type Comparison, type EvalRecord, summarize } from "./summarize.js";

/** The scratch banks of one repetition: where the memory and static arms (and the control's runs) live. */
export interface ScratchBanks {
  seed: number;
  /** grows with the memory arm's write-backs */
  memory: string;
  /** gains no memories (only runs and usage counters): the static and control arms run here */
  static: string;
  /** memories copied from the evaluated bank into each */
  copied: number;
  discarded: boolean;
}

/** Everything an evaluation measured, as written to result.json. */
export interface EvalResult {
  version: 1;
  id: string;
  startedAt: string;
  finishedAt: string;
  bank: string;
  domain: DomainName;
  model: string;
  source: { name: string; path: string };
  options: Omit<ParsedEvalOptions, "dataDir" | "bank" | "from">;
  stream: {
    /** rows of the split read */
    read: number;
    /** distinct problems evaluated in each repetition */
    evaluated: number;
    /** leakage guard: problems skipped because the bank already held them */
    leaked: number;
    duplicates: number;
    rejected: Rejection[];
  };
  scratchBanks: ScratchBanks[];
  arms: PerArm<ArmSummary>;
  comparisons: Comparison[];
  records: EvalRecord[];
}

export type EvalProgress =
  | { type: "stream"; evaluated: number; leaked: number; duplicates: number; rejected: number; seeds: number }
  | { type: "copied"; seed: number; banks: ScratchBanks }
  | {
      type: "problem";
      seed: number;
      position: number;
      total: number;
      record: EvalRecord;
      /** right answers so far in this repetition, per arm */
      right: PerArm<number>;
    };

/** Scratch bank ids `<bank>--eval-<tag>-s<seed>-<arm>`, the bank part shortened to fit 63 characters. */
function scratchId(bankId: string, tag: string, seed: number, arm: string): string {
  const suffix = `--eval-${tag}-s${seed}-${arm}`;
  return `${bankId.slice(0, 63 - suffix.length)}${suffix}`;
}

/**
 * Streams a split through solve and compares the arms (memory, static, control) on the same problems in
 * the same order. Each repetition gets fresh copies of the bank: the memory arm writes back into its own
 * copy, the static arm recalls from a copy that gains no memories, so neither sees the other's effects
 * and a repetition never sees an earlier one's write-backs. Problems are solved one at a time, arm after
 * arm, so the model's request order (and with a seeded endpoint, its answers) is reproducible. The
 * evaluated bank itself is only read.
 */
export async function runEvaluation({
  ctx,
  options,
  onProgress,
}: {
  ctx: CallContext;
  options: EvalOptions;
  onProgress?: (progress: EvalProgress) => void;
}): Promise<EvalResult> {
  const opts = evalOptionsSchema.parse(options);
  if (!ctx.model) {
    throw new PrecedentError(
      "unavailable",
      "no model is configured: set PRECEDENT_MODEL (and OPENAI_BASE_URL, OPENAI_API_KEY for your endpoint) to evaluate",
    );
  }
  const startedAt = new Date();
  const bank = await getBank(ctx.db, opts.bank);
  const source = resolveEvalSource(opts.from, {
    dataDir: opts.dataDir,
    domain: bank.domain,
    fields: opts.fields,
  });
  if (source.domain !== bank.domain) {
    throw new PrecedentError(
      "invalid_input",
      `${source.name} holds ${source.domain} problems, but bank "${bank.id}" holds ${bank.domain} problems`,
      "from",
    );
  }
  const stream = await loadStream({ ctx, bank, source, limit: opts.limit });
  if (stream.problems.length === 0) {
    throw new PrecedentError(
      "invalid_input",
      `nothing to evaluate in ${source.name}: ${stream.read} read, ${stream.leaked} already in bank "${bank.id}" ` +
        `(leakage guard), ${stream.duplicates} repeated, ${stream.rejected.length} rejected`,
      "from",
    );
  }
  onProgress?.({
    type: "stream",
    evaluated: stream.problems.length,
    leaked: stream.leaked,
    duplicates: stream.duplicates,
    rejected: stream.rejected.length,
    seeds: opts.seeds,
  });

  const tag = randomBytes(3).toString("hex");
  const settings: ArmSettings = {
    k: opts.k,
    samples: opts.samples,
    adaptive: opts.adaptive,
    temperature: opts.temperature,
  };
  const scratch: ScratchBanks[] = [];
  const armsRun = ARMS.filter((arm) => opts.arms.includes(arm));
  const records: EvalRecord[] = [];
  try {
    for (let seed = 1; seed <= opts.seeds; seed++) {
      const order: EvalProblem[] = opts.shuffle ? seededShuffle(stream.problems, seed) : stream.problems;
      const memoryCopy = await copyBank({ ctx, from: bank, id: scratchId(bank.id, tag, seed, "memory") });
      const staticCopy = await copyBank({ ctx, from: bank, id: scratchId(bank.id, tag, seed, "static") });
      const banks: ScratchBanks = {
        seed,
        memory: memoryCopy.bank.id,
        static: staticCopy.bank.id,
        copied: memoryCopy.copied,
        discarded: false,
      };
      scratch.push(banks);
      onProgress?.({ type: "copied", seed, banks });
      const copies = { memory: memoryCopy.bank, static: staticCopy.bank };
      const right: PerArm<number> = Object.fromEntries(armsRun.map((arm) => [arm, 0]));
      for (const [position, problem] of order.entries()) {
        const arms: PerArm<ArmOutcome> = {};
        for (const arm of armsRun) {
          const outcome = await runArm({ ctx, arm, bank: copies[armCopy(arm)], problem, settings });
          arms[arm] = outcome;
          if (outcome.correct) right[arm] = (right[arm] ?? 0) + 1;
        }
        const record: EvalRecord = { seed, position, problem, arms };
        records.push(record);
        onProgress?.({ type: "problem", seed, position, total: order.length, record, right: { ...right } });
      }
    }
  } finally {
    if (opts.discard) {
      for (const s of scratch) {
        await discardBank(ctx, s.memory);
        await discardBank(ctx, s.static);
        s.discarded = true;
      }
    }
  }

  const { dataDir: _dataDir, bank: _bank, from: _from, ...rest } = opts;
  return {
    version: 1,
    id: `${startedAt.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}-${tag}`,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    bank: bank.id,
    domain: bank.domain,
    model: ctx.model.name,
    source: { name: source.name, path: source.path },
    options: rest,
    stream: {
      read: stream.read,
      evaluated: stream.problems.length,
      leaked: stream.leaked,
      duplicates: stream.duplicates,
      rejected: stream.rejected,
    },
    scratchBanks: scratch,
    ...summarize(records, opts.alpha, armsRun),
    records,
  };
}
