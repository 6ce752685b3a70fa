import { createHash } from "node:crypto";

/** Normalizes problem text so trivial differences (case, spacing, unicode forms) do not make a new problem. */
export function normalizeProblem(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

/** The per-bank identity of a problem: a hash of its normalized text. */
export function problemHash(text: string): string {
  return createHash("sha256").update(normalizeProblem(text)).digest("hex").slice(0, 32);
}
