import type { z } from "zod";
import { type Domain, domainOf } from "../domains/domain.js";
import { PrecedentError } from "../errors.js";
import { newId } from "../ids.js";
import type { Bank } from "../memory/banks.js";
import { problemHash } from "../memory/problemHash.js";
import { recallAnalogues } from "../memory/recall.js";
import type { RecallResult } from "../memory/recallResult.js";
import type { CallContext } from "../services.js";
import { checkDecodingOptions, DEFAULT_BRANCHES } from "./cotDecoding.js";
import { readyForCotDecoding } from "./endpointCapabilities.js";
import type { ModelClient } from "./model.js";
import type { RunRecord } from "./runs.js";
import type { ShadowPlan } from "./shadow.js";
import { solveOptionsSchema } from "./solveOptions.js";
import type { SolveEvent, SolveInput } from "./solveResult.js";
import { type Strategy, showsExamples, strategyFor } from "./strategy.js";
import { type Selection, selectionFor } from "./universalSelection.js";

const NO_TIMINGS = { embedMs: 0, searchMs: 0, rerankMs: 0 };
// what a strategy without worked examples recalls: nothing, and nothing is credited
const NOTHING_RECALLED: RecallResult = {
  memories: [],
  abstained: false,
  considered: 0,
  matchFloor: 0,
  timings: NO_TIMINGS,
};

/** The fields every run of a solve shares, whichever way it ends. */
export type RunBase = Pick<
  RunRecord,
  "id" | "bankId" | "query" | "queryHash" | "params" | "model" | "recalls" | "shadow"
>;

/** Everything decided before the model is asked: options, recall, strategy, and the run's shared fields. */
export interface SolvePlan {
  ctx: CallContext;
  bank: Bank;
  query: string;
  opts: z.output<typeof solveOptionsSchema>;
  model: ModelClient;
  domain: Domain;
  /** set when the solve CoT-decodes: whether this solve probed the endpoint first */
  cot: false | { probed: boolean };
  shadow?: ShadowPlan;
  onEvent?: (event: SolveEvent) => void;
  asked: Strategy;
  strategy: Strategy;
  selecting: Selection;
  recall: RecallResult;
  /** the memories this run credits with its outcome (a shadow credits none) */
  credited: string[];
  params: Record<string, unknown> & { samples: number; k: number; adaptive?: boolean };
  base: RunBase;
  /** the stage timings so far; `lap` closes one */
  timings: Record<string, number>;
  lap(name: string): void;
  /** the run's total time so far */
  elapsed(): number;
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Checks the options and the model, recalls the analogues (a shadow shows its plan's examples instead) and
 * settles the strategy and parameters the run will record.
 */
export async function planSolve(
  { ctx, bank, query, options = {}, onEvent }: SolveInput,
  shadow?: ShadowPlan,
): Promise<SolvePlan> {
  const opts = solveOptionsSchema.parse(options);
  if (!shadow) checkDecodingOptions(opts);
  const model = ctx.model;
  if (!model) {
    throw new PrecedentError(
      "unavailable",
      "no model is configured: set PRECEDENT_MODEL (and OPENAI_BASE_URL, OPENAI_API_KEY for your endpoint) to solve",
    );
  }
  // an endpoint that cannot CoT-decode is refused before anything is recalled or stored
  const cot = opts.decoding === "cot-decoding" && {
    probed: await readyForCotDecoding(model, opts.branches ?? DEFAULT_BRANCHES),
  };
  const started = performance.now();
  let since = started;
  const timings: Record<string, number> = {};
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = round(now - since);
    since = now;
  };

  // a control shadow is the query alone; an ablation shows what is left of the run's examples
  const asked: Strategy = shadow
    ? shadow.memories.length > 0
      ? "exemplars"
      : "plain"
    : (opts.strategy ?? bank.settings.strategy);
  const recall: RecallResult = shadow
    ? { memories: shadow.memories, abstained: false, considered: 0, matchFloor: 0, timings: NO_TIMINGS }
    : showsExamples(asked)
      ? await recallAnalogues({ ctx, bank, query, options: { k: opts.k } })
      : NOTHING_RECALLED;
  lap("recallMs");
  onEvent?.({ type: "recalled", recall });
  const strategy = shadow
    ? asked
    : strategyFor(asked, bank.settings.fallbackStrategy, recall.memories.length, opts.k ?? bank.settings.k);
  const domain = domainOf(bank.domain);
  const selecting = cot ? "vote" : selectionFor(domain.name, opts.selection, bank.settings.selection);
  const params = {
    ...opts,
    strategy,
    k: opts.k ?? bank.settings.k,
    samples: cot ? (opts.branches ?? DEFAULT_BRANCHES) : (opts.samples ?? bank.settings.samples),
    ...(cot ? {} : { adaptive: opts.adaptive ?? true, selection: selecting }),
    ...(shadow?.withheld ? { withheld: shadow.withheld } : {}),
  };
  return {
    ctx,
    bank,
    query,
    opts,
    model,
    domain,
    cot,
    shadow,
    onEvent,
    asked,
    strategy,
    selecting,
    recall,
    credited: shadow ? [] : recall.memories.map((m) => m.id),
    params,
    base: {
      id: newId("run"),
      bankId: bank.id,
      query,
      queryHash: problemHash(query),
      params,
      model: model.name,
      // a shadow's examples are in its prompt; only a run's own recall is recorded (and credited)
      recalls: shadow ? [] : recall.memories.map((m) => ({ memoryId: m.id, rank: m.rank, scores: m.scores })),
      ...(shadow ? { shadow: { of: shadow.of, kind: shadow.kind } } : {}),
    },
    timings,
    lap,
    elapsed: () => round(performance.now() - started),
  };
}
