// The words a run's columns may hold. Import-free, so the database schema can type its columns with them.

/** What a run's deciding verifier (or later feedback) concluded about its answer. */
export const RUN_VERDICTS = ["correct", "incorrect", "unknown"] as const;
export type RunVerdict = (typeof RUN_VERDICTS)[number];
/** How a solve ended. */
export const SOLVE_STATUSES = ["completed", "failed", "memory_hit"] as const;
export type SolveStatus = (typeof SOLVE_STATUSES)[number];
/** How a run ended: a solve's status, or `remembered` (a solution an agent found itself, verified and stored). */
export const RUN_STATUSES = [...SOLVE_STATUSES, "remembered"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** What a shadow run leaves out of its run's prompt: every recalled example, or one of them. */
export const SHADOW_KINDS = ["control", "ablation"] as const;
export type ShadowKind = (typeof SHADOW_KINDS)[number];
