import { and, asc, eq, gt, gte } from "drizzle-orm";
import { z } from "zod";
import { accessibleBank } from "../auth/access.js";
import type { Database } from "../db/database.js";
import { memories } from "../db/schema.js";
import { domainOf } from "../domains/domain.js";
import { buildPrompt, type ChatMessage, workedAnswer } from "../reasoning/prompt.js";
import type { CallContext } from "../services.js";
import type { Bank } from "./banks.js";
import { trustOf, verificationSchema } from "./trust.js";

export const EXPORT_FORMATS = ["jsonl", "openai"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const exportOptionsSchema = z
  .object({
    /** `jsonl`: one memory per line, re-importable with `seed`; `openai`: fine-tuning chat examples */
    format: z.enum(EXPORT_FORMATS).default("jsonl"),
    /** the weakest verification exported (default: the bank's trust floor, what recall would use) */
    minVerification: verificationSchema.optional(),
  })
  .strict();
export type ExportOptions = z.input<typeof exportOptionsSchema>;

/** One memory as read for export; the `jsonl` format writes its id and source under `metadata`. */
export interface ExportedMemory {
  id: string;
  problem: string;
  reasoning: string;
  answer: string;
  verification: string;
  source: string;
}

/** One line of the `openai` format: a chat fine-tuning example. */
export interface FineTuningExample {
  messages: ChatMessage[];
}

/** Memories read per query: bounds memory use whatever the bank's size. */
export const EXPORT_PAGE_SIZE = 500;

/**
 * The bank's active memories verified at or above `minVerification` (default: the bank's trust floor),
 * in the order they were written, one JSON line each (without the newline). Reads page by page on `seq`,
 * so a bank of any size streams in constant memory; memories written meanwhile come last or not at all.
 * Needs read access to the bank, checked before the first line (an unknown bank is an error, not an
 * empty export).
 */
export async function exportMemories({
  ctx,
  input: { bankId, options = {}, pageSize = EXPORT_PAGE_SIZE },
}: {
  ctx: CallContext;
  input: { bankId: string; options?: ExportOptions; pageSize?: number };
}): Promise<AsyncGenerator<string>> {
  const bank = await accessibleBank(ctx, bankId, "read");
  return memoryLines(ctx.db, bank, options, pageSize);
}

async function* memoryLines(
  db: Database,
  bank: Bank,
  options: ExportOptions,
  pageSize: number,
): AsyncGenerator<string> {
  const { format, minVerification } = exportOptionsSchema.parse(options);
  const minTrust = trustOf(minVerification ?? bank.settings.trustFloor);
  const toLine = format === "openai" ? openaiLine(bank) : jsonlLine;
  let after = 0;
  for (;;) {
    const page = await db
      .select({
        id: memories.id,
        problem: memories.problem,
        reasoning: memories.reasoning,
        answer: memories.answer,
        verification: memories.verification,
        source: memories.source,
        seq: memories.seq,
      })
      .from(memories)
      .where(
        and(
          eq(memories.bankId, bank.id),
          eq(memories.status, "active"),
          gte(memories.trust, minTrust),
          gt(memories.seq, after),
        ),
      )
      .orderBy(asc(memories.seq))
      .limit(pageSize);
    for (const { seq: _seq, ...memory } of page) yield toLine(memory);
    if (page.length < pageSize) return;
    after = page.at(-1)?.seq ?? after;
  }
}

function jsonlLine(memory: ExportedMemory): string {
  // the fields an import takes (seed's defaults, the REST import's schema); where it came from rides in metadata
  return JSON.stringify({
    problem: memory.problem,
    reasoning: memory.reasoning,
    answer: memory.answer,
    verification: memory.verification,
    metadata: { id: memory.id, source: memory.source },
  });
}

/**
 * The zero-shot solve prompt (the scaffold a solve uses when it recalls nothing) followed by the memory's
 * solution rendered exactly as a worked example: what the model should learn to produce unaided.
 */
function openaiLine(bank: Bank): (memory: ExportedMemory) => string {
  const domain = domainOf(bank.domain);
  return (memory) => {
    const example: FineTuningExample = {
      messages: [
        ...buildPrompt(domain, [], memory.problem),
        { role: "assistant", content: workedAnswer(domain, memory) },
      ],
    };
    return JSON.stringify(example);
  };
}

/**
 * Newline-terminated lines joined into chunks of about `chunkChars` characters: one write per chunk
 * instead of one per memory when the export goes to a socket or a file.
 */
export async function* ndjsonChunks(
  lines: AsyncIterable<string>,
  chunkChars = 64 * 1024,
): AsyncGenerator<string> {
  let chunk = "";
  for await (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}
