/**
 * Canonical form of a numeric answer: `$1,000.50` → `1000.5`, `72 apples` → `72`, `-0.0` → `0`,
 * `3/4` → `0.75`. Returns undefined when the text holds no number.
 */
export function canonicalNumber(text: string): string | undefined {
  const cleaned = text.replace(/[$€£¥\s]/g, "").replace(/(\d),(?=\d{3}\b)/g, "$1");
  const fraction = cleaned.match(/^(-?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)/);
  if (fraction) {
    const value = Number(fraction[1]) / Number(fraction[2]);
    return Number.isFinite(value) ? formatNumber(value) : undefined;
  }
  const match = cleaned.match(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/i);
  if (!match) return undefined;
  const value = Number(match[0]);
  return Number.isFinite(value) ? formatNumber(value) : undefined;
}

function formatNumber(value: number): string {
  if (Object.is(value, -0) || value === 0) return "0";
  // round away binary noise (0.1 + 0.2) without losing real precision
  return String(Number.parseFloat(value.toPrecision(12)));
}
