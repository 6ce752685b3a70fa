import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { accessibleBank } from "../auth/access.js";
import { recordAction } from "../auth/audit.js";
import { keyIdOf } from "../auth/principal.js";
import { memories } from "../db/schema.js";
import { domainOf } from "../domains/domain.js";
import { PrecedentError } from "../errors.js";
import { newId } from "../ids.js";
import { atomically } from "../memory/atomically.js";
import { problemInputSchema } from "../memory/importProblems.js";
import { problemHash } from "../memory/problemHash.js";
import { type WriteBackResult, writeBack } from "../memory/writeBack.js";
import type { CallContext, Services } from "../services.js";
import { type RunRecord, saveRun } from "./runs.js";
import { verifyAnswer } from "./verifyAnswer.js";

const { problem, answer, reasoning } = problemInputSchema.shape;

/**
 * What the agent can show for its answer: the problem's known answer (`gold`), the bank's domain checker
 * (`checker`: only a domain whose checker decides, i.e. Game of 24), or nothing (`none`). It is a claim:
 * the bank's verifiers check it like any write-back.
 */
export const solutionEvidenceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("gold"), answer }).strict(),
  z.object({ kind: z.literal("checker") }).strict(),
  z.object({ kind: z.literal("none") }).strict(),
]);

/** A solution an agent found with its own tools, as REST and MCP take it. */
export const solutionInputSchema = z
  .object({ problem, reasoning, answer, evidence: solutionEvidenceSchema.default({ kind: "none" }) })
  .strict();
export type SolutionInput = z.input<typeof solutionInputSchema>;

/** Through what a solution was remembered, beside the caller: the MCP client, when there is one. */
export interface SolutionProvenance {
  client?: { name: string; version?: string };
}

export interface RememberResult {
  /** the run that records the attempt: feedback on it confirms or refutes a quarantined memory */
  runId: string;
  verdict: RunRecord["verdict"];
  verification: RunRecord["verification"];
  reason: string;
  /** the memory created or supported; absent when a verifier refuted the answer (nothing is stored) */
  writtenMemory?: WriteBackResult;
}

/** The gold answer the bank already holds for exactly this problem, if it holds one. */
async function bankGold(ctx: Services, bankId: string, text: string): Promise<string | undefined> {
  const [row] = await ctx.db
    .select({ answer: memories.answer })
    .from(memories)
    .where(
      and(
        eq(memories.bankId, bankId),
        eq(memories.problemHash, problemHash(text)),
        eq(memories.verification, "gold"),
        ne(memories.status, "retired"),
      ),
    );
  return row?.answer;
}

/**
 * Stores a solution an agent found itself, decided by the bank's verifiers as a run's write-back is: gold
 * (the agent's or the bank's known answer) or the domain checker agreeing → an active memory with that
 * trust; nothing vouching → quarantined until feedback; a verifier refuting it → nothing stored. The same
 * problem already in the bank gains support instead of a copy. The attempt is kept as a run with status
 * `remembered` (its one sample is the agent's reasoning), so it can be inspected and given feedback.
 * Needs write access to the bank.
 */
export async function rememberSolution({
  ctx,
  input: { bankId, solution: given, provenance = {} },
}: {
  ctx: CallContext;
  input: { bankId: string; solution: SolutionInput; provenance?: SolutionProvenance };
}): Promise<RememberResult> {
  const bank = await accessibleBank(ctx, bankId, "write");
  const started = performance.now();
  const solution = solutionInputSchema.parse(given);
  const domain = domainOf(bank.domain);
  const answerCanonical = domain.canonicalize(solution.answer);
  if (answerCanonical === undefined) {
    throw new PrecedentError(
      "invalid_input",
      `"${solution.answer}" is not a ${bank.domain} answer`,
      "answer",
    );
  }
  const { evidence } = solution;
  if (evidence.kind === "checker" && domain.checker !== "decides") {
    throw new PrecedentError(
      "invalid_input",
      `bank "${bank.id}" holds ${bank.domain} problems, which have no checker that can vouch for an answer: ` +
        'send evidence {kind: "gold", answer} with the known answer, or {kind: "none"} (stored quarantined)',
      "evidence.kind",
    );
  }
  if (evidence.kind === "gold" && domain.canonicalize(evidence.answer) === undefined) {
    throw new PrecedentError(
      "invalid_input",
      `"${evidence.answer}" is not a ${bank.domain} answer`,
      "evidence.answer",
    );
  }

  const gold = evidence.kind === "gold" ? evidence.answer : await bankGold(ctx, bank.id, solution.problem);
  const sample = {
    index: 0,
    text: solution.reasoning,
    answer: solution.answer,
    answerCanonical,
    tokens: 0,
  };
  // one voice: consensus can never speak for it, only gold or the domain checker
  const verified = verifyAnswer({
    domain,
    query: solution.problem,
    samples: [sample],
    winner: { answerCanonical, share: 1, voters: 1 },
    gold,
  });
  const runId = newId("run");
  const keyId = keyIdOf(ctx.principal);
  const agent = { source: "agent", ...(keyId ? { keyId } : {}), ...provenance, evidence: evidence.kind };

  return atomically(ctx, async (tx) => {
    const writtenMemory =
      verified.verdict === "incorrect"
        ? undefined
        : await writeBack({
            ctx: tx,
            input: {
              bank,
              problem: solution.problem,
              reasoning: solution.reasoning,
              answer: solution.answer,
              answerCanonical,
              verification: verified.verification,
              verificationDetail: {
                verdict: verified.verdict,
                reason: verified.reason,
                verdicts: verified.verdicts,
              },
              runId,
              source: "agent",
              metadata: { agent },
            },
          });
    const run: RunRecord = {
      id: runId,
      bankId: bank.id,
      query: solution.problem,
      queryHash: problemHash(solution.problem),
      params: agent,
      prompt: [],
      answer: solution.answer,
      answerCanonical,
      votes: {},
      verification: verified.verification,
      verificationDetail: { reason: verified.reason, verdicts: verified.verdicts, chosenSample: 0 },
      verdict: verified.verdict,
      status: "remembered",
      writtenMemoryId: writtenMemory?.memoryId,
      timings: { totalMs: Math.round((performance.now() - started) * 100) / 100 },
      usage: {},
      recalls: [],
      samples: [sample],
    };
    await saveRun(tx.db, run);
    await recordAction(tx, "solution.remember", {
      bankId: bank.id,
      subject: runId,
      detail: { verdict: verified.verdict, memoryId: writtenMemory?.memoryId ?? null },
    });
    return {
      runId,
      verdict: verified.verdict,
      verification: verified.verification,
      reason: verified.reason,
      ...(writtenMemory ? { writtenMemory } : {}),
    };
  });
}
