import { z } from "zod";

/** How an answer was verified, weakest first: the order is the trust tier. */
export const VERIFICATIONS = ["none", "consensus", "judge", "feedback", "checker", "gold"] as const;
export const verificationSchema = z.enum(VERIFICATIONS);
export type Verification = z.infer<typeof verificationSchema>;

/** The trust tier of a verification: its rank in VERIFICATIONS. */
export function trustOf(verification: Verification): number {
  return VERIFICATIONS.indexOf(verification);
}

export const MEMORY_STATUSES = ["active", "quarantined", "retired"] as const;
export type MemoryStatus = (typeof MEMORY_STATUSES)[number];

/** Where a memory came from: a seeded dataset, a solve, a bulk import, or an agent that solved it itself. */
export const MEMORY_SOURCES = ["seed", "run", "import", "agent"] as const;
export type MemorySource = (typeof MEMORY_SOURCES)[number];
