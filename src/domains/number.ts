import { findMarkedAnswer } from "./extract.js";

/** Unicode fractions models sometimes write (`¾ cup`), as the plain text the number patterns read. */
const VULGAR_FRACTIONS: Record<string, string> = {
  "¼": " 1/4",
  "½": " 1/2",
  "¾": " 3/4",
  "⅓": " 1/3",
  "⅔": " 2/3",
};

const SCALE_WORDS: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };

// A signed decimal: `-` counts as a sign only where it cannot be a hyphen or a subtraction (`10-5`, `x-5`).
const DECIMAL = String.raw`(?<![\w.])-?(?:\d+(?:\.\d+)?|\.\d+)`;
const NUMBER_PATTERN = new RegExp(
  String.raw`(?<mixedWhole>${DECIMAL})\s+(?<mixedNum>\d+)/(?<mixedDen>\d+)(?![\d.])` +
    String.raw`|(?<num>${DECIMAL})\s*/\s*(?<den>\d+(?:\.\d+)?)(?![\d.])` +
    String.raw`|(?<plain>${DECIMAL}(?:e[+-]?\d+)?)(?:\s*(?<scale>thousand|million|billion|trillion)\b)?`,
  "i",
);

/** Text with currency signs, thousands separators, LaTeX fractions and typographic minus signs normalised. */
export function normalizeNumberText(text: string): string {
  return text
    .replace(/\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}/g, "$1/$2")
    .replace(/[¼½¾⅓⅔]/g, (c) => VULGAR_FRACTIONS[c] ?? c)
    .replace(/[−–]/g, "-")
    .replace(/(?:US)?[$€£¥]|\b(?:USD|EUR|GBP)\b/g, "")
    .replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
}

/**
 * Canonical form of a numeric answer: `$1,000.50` → `1000.5`, `72 apples` → `72`, `50%` → `50`, `-0.0` → `0`,
 * `3/4` → `0.75`, `2 1/2` → `2.5`, `1.8 billion` → `1800000000`. The first number in the text counts; returns
 * undefined when the text holds no number.
 */
export function canonicalNumber(text: string): string | undefined {
  const value = parseNumber(text);
  return value === undefined ? undefined : formatNumber(value);
}

/** The value of the first number in a text (same reading as canonicalNumber), or undefined. */
export function parseNumber(text: string): number | undefined {
  const groups = normalizeNumberText(text).match(NUMBER_PATTERN)?.groups;
  if (!groups) return undefined;
  let value: number;
  if (groups.mixedWhole !== undefined) {
    const whole = Number(groups.mixedWhole);
    const part = Number(groups.mixedNum) / Number(groups.mixedDen);
    value = whole < 0 || Object.is(whole, -0) ? whole - part : whole + part;
  } else if (groups.num !== undefined) {
    value = Number(groups.num) / Number(groups.den);
  } else {
    value = Number(groups.plain) * (SCALE_WORDS[groups.scale?.toLowerCase() ?? ""] ?? 1);
  }
  return Number.isFinite(value) ? value : undefined;
}

// a number as written in running text, with its `$`, thousands separators and `%`
const WRITTEN_NUMBER = /(?<![\w.])-?[$€£]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|(?<![\w.])[$€£]?\.\d+%?/g;

/**
 * The final numeric answer of a chain of thought, as written: the marked answer (`#### 72`, `A: 72`,
 * `The answer is $72.`, `\boxed{72}`, `Answer: 72`; after the last `=` if it shows a sum), else the last number
 * in the text.
 */
export function extractNumber(chainOfThought: string): string | undefined {
  const marked = findMarkedAnswer(chainOfThought);
  if (marked !== undefined) {
    const result = marked.split("=").at(-1) ?? marked;
    if (parseNumber(result) !== undefined) return result.trim();
    if (parseNumber(marked) !== undefined) return marked;
  }
  return chainOfThought.match(WRITTEN_NUMBER)?.at(-1);
}

/** Whether two canonical numbers are the same answer: equal up to a relative tolerance of one in a million. */
export function numbersEqual(a: string, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  // 1e-9 relative absorbs float noise (0.1 + 0.2) but keeps 8.33 and 8.333…, or 1000000 and 1000000.5, apart
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}

function formatNumber(value: number): string {
  if (value === 0) return "0";
  // round away binary noise (0.1 + 0.2) without losing real precision
  return String(Number.parseFloat(value.toPrecision(12)));
}
