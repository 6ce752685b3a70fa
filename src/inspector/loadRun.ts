import { inArray } from "drizzle-orm";
import { readableRun } from "../auth/access.js";
import { memories } from "../db/schema.js";
import { type MemoryView, toMemoryView } from "../memory/browseMemories.js";
import type { RunRecord } from "../reasoning/runs.js";
import type { CallContext } from "../services.js";

export interface RunView {
  run: RunRecord;
  /** the recalled memories by id, as they are now (a recalled memory may since have been retired) */
  recalled: Map<string, MemoryView>;
}

/** A run with the memories it recalled, for the run page; not found unless the caller may read its bank. */
export async function loadRunView({
  ctx,
  input: { runId },
}: {
  ctx: CallContext;
  input: { runId: string };
}): Promise<RunView> {
  const run = await readableRun(ctx, runId);
  const ids = run.recalls.map((r) => r.memoryId);
  const rows = ids.length ? await ctx.db.select().from(memories).where(inArray(memories.id, ids)) : [];
  return { run, recalled: new Map(rows.map((row) => [row.id, toMemoryView(row)])) };
}
