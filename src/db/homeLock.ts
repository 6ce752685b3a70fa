import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const holderSchema = z.object({
  pid: z.number().int(),
  command: z.string(),
  url: z.string().optional(),
  startedAt: z.string(),
});
export type LockHolder = z.infer<typeof holderSchema>;

export interface HomeLock {
  path: string;
  /** Records where the holder can be reached (the server's URL once it listens). */
  update(fields: Partial<Pick<LockHolder, "url">>): void;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Who holds the embedded database now, if a live process does. */
export function lockHolder(home: string): LockHolder | undefined {
  try {
    const holder = holderSchema.parse(JSON.parse(readFileSync(join(home, "precedent.lock"), "utf8")));
    return alive(holder.pid) && holder.pid !== process.pid ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the single-process lock on an embedded data directory: PGlite has no lock of its own, and two
 * processes on one directory corrupt it. A lock left by a dead process is taken over.
 * Returns the live holder instead when another process has it.
 */
export function acquireHomeLock(home: string, command: string): { lock: HomeLock } | { heldBy: LockHolder } {
  mkdirSync(home, { recursive: true });
  const path = join(home, "precedent.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    const holder: LockHolder = { pid: process.pid, command, startedAt: new Date().toISOString() };
    try {
      writeFileSync(path, JSON.stringify(holder), { flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const current = lockHolder(home);
      if (current) return { heldBy: current };
      // stale: its process is gone; remove and race for it again
      rmSync(path, { force: true });
      continue;
    }
    let state = holder;
    return {
      lock: {
        path,
        update(fields) {
          state = { ...state, ...fields };
          writeFileSync(path, JSON.stringify(state));
        },
        release() {
          try {
            const onDisk = holderSchema.parse(JSON.parse(readFileSync(path, "utf8")));
            if (onDisk.pid === process.pid) rmSync(path, { force: true });
          } catch {
            // already gone
          }
        },
      },
    };
  }
  throw new Error(`could not take the lock ${path}`);
}
