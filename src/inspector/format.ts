/** A score as the inspector prints it; the exact value travels alongside in a data attribute. */
export function formatScore(value: number): string {
  return value.toFixed(4);
}

/** A share (0..1) as a percentage. */
export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

/** Milliseconds, readably. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

/** A timestamp in UTC, to the second. */
export function formatDate(date: Date | string): string {
  return new Date(date).toISOString().replace("T", " ").slice(0, 19);
}

/** At most `max` characters of a one-line rendering of the text. */
export function excerpt(text: string, max = 140): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
