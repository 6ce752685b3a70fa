import { inArray } from "drizzle-orm";
import { memories } from "../db/schema.js";
import { type MemoryView, toMemoryView } from "../memory/browseMemories.js";
import { getRun, type RunRecord } from "../reasoning/runs.js";
import type { Services } from "../services.js";

export interface RunView {
  run: RunRecord;
  /** the recalled memories by id, as they are now (a recalled memory may since have been retired) */
  recalled: Map<string, MemoryView>;
}

/** A run with the memories it recalled, for the run page. */
export async function loadRunView(ctx: Services, id: string): Promise<RunView | undefined> {
  const run = await getRun(ctx.db, id);
  if (!run) return undefined;
  const ids = run.recalls.map((r) => r.memoryId);
  const rows = ids.length ? await ctx.db.select().from(memories).where(inArray(memories.id, ids)) : [];
  return { run, recalled: new Map(rows.map((row) => [row.id, toMemoryView(row)])) };
}
