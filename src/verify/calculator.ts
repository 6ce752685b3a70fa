/**
 * A lenient calculator for the arithmetic written in chains of thought: numbers as people write them
 * (`$1,200.50`, `.4`, `20%`), + - * / and parentheses, embedded in prose. Floating point is enough here:
 * results are compared to the precision the chain shows, not exactly.
 */

export type Token =
  | {
      kind: "number";
      text: string;
      value: number;
      decimals: number;
      percent: boolean;
      start: number;
      end: number;
    }
  | { kind: "op"; op: "+" | "-" | "*" | "/"; start: number; end: number }
  | { kind: "paren"; open: boolean; start: number; end: number }
  | { kind: "word"; text: string; start: number; end: number };

/** How `%` is read: as "/100" (`20% * 50 = 10`) or as a label on a number already scaled (`0.2 * 100 = 20%`). */
export type PercentReading = "scale" | "label";

const VULGAR_FRACTIONS: Record<string, string> = { "¼": "(1/4)", "½": "(1/2)", "¾": "(3/4)" };

/** Arithmetic in its plain-ASCII form: `×`, `÷`, `x` between numbers, typographic minus and fractions. */
export function normalizeArithmetic(text: string): string {
  return (
    text
      .replace(/[×]/g, "*")
      .replace(/[÷]/g, "/")
      .replace(/[−–]/g, "-")
      .replace(/(?<=[\d)%]\s*)[xX](?=\s*[$\d(.])/g, "*")
      // "15 pages x 1/3": an x standing alone before a number is a times sign too
      .replace(/(?<=\s)[xX](?=\s+[$\d(.])/g, "*")
      // "2¾" is the mixed number 2 3/4; a lone "¾" is a fraction in its own right
      .replace(/(?<=\d)[¼½¾]/g, (c) => ` ${VULGAR_FRACTIONS[c]?.slice(1, -1)}`)
      .replace(/[¼½¾]/g, (c) => VULGAR_FRACTIONS[c] ?? c)
  );
}

// `3 1/2` (a mixed number), `350 000` (space-separated thousands) and `1,200.50` are each one number
const TOKEN =
  /(\s+|[$€£])|(\d+ \d+\/\d+(?![\d.]))|(\d{1,3}(?: \d{3})+(?![\d/]|[.,]\d)|(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\.\d+%?)|([-+*/])|([()])|([A-Za-z]+|.)/gsy;

/** The tokens of a text; whitespace and currency signs are dropped, everything else not arithmetic is a word. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match; match = TOKEN.exec(text)) {
    const [whole, skip, mixed, number, op, paren] = match;
    const start = match.index;
    const end = start + whole.length;
    if (skip !== undefined) continue;
    if (mixed !== undefined) {
      const [integer, numerator, denominator] = mixed.split(/[ /]/).map(Number) as [number, number, number];
      // an exact fraction: shown precision is not the issue, so give it a fine one
      const value = integer + numerator / denominator;
      tokens.push({ kind: "number", text: mixed, value, decimals: 6, percent: false, start, end });
    } else if (number !== undefined) {
      const percent = number.endsWith("%");
      const digits = number.replace(/[,% ]/g, "");
      const decimals = digits.includes(".") ? digits.length - digits.indexOf(".") - 1 : 0;
      tokens.push({ kind: "number", text: number, value: Number(digits), decimals, percent, start, end });
    } else if (op !== undefined) tokens.push({ kind: "op", op: op as "+" | "-" | "*" | "/", start, end });
    else if (paren !== undefined) tokens.push({ kind: "paren", open: paren === "(", start, end });
    else tokens.push({ kind: "word", text: whole, start, end });
  }
  return tokens;
}

/** The value of a whole token list as an expression, or undefined when it is not one (or divides by zero). */
export function evaluate(tokens: Token[], percent: PercentReading): number | undefined {
  let pos = 0;
  const invalid = Symbol("invalid");
  const fail = (): never => {
    throw invalid;
  };
  const primary = (): number => {
    const token = tokens[pos++];
    if (token?.kind === "number")
      return percent === "scale" && token.percent ? token.value / 100 : token.value;
    if (token?.kind === "op" && token.op === "-") return -primary();
    if (token?.kind !== "paren" || !token.open) return fail();
    const inner = sum();
    const close = tokens[pos++];
    return close?.kind === "paren" && !close.open ? inner : fail();
  };
  // "2(40 + 9)" and "(1/2) 278" multiply without a sign, as written in school arithmetic
  const implicitTimes = (t: Token | undefined) =>
    (t?.kind === "paren" && t.open) || (t?.kind === "number" && tokens[pos - 1]?.kind === "paren");
  const product = (): number => {
    let left = primary();
    for (let t = tokens[pos]; t; t = tokens[pos]) {
      if (implicitTimes(t)) {
        left *= primary();
        continue;
      }
      if (t.kind !== "op" || (t.op !== "*" && t.op !== "/")) break;
      pos++;
      const right = primary();
      if (t.op === "/" && right === 0) fail();
      left = t.op === "*" ? left * right : left / right;
    }
    return left;
  };
  const sum = (): number => {
    let left = product();
    for (let t = tokens[pos]; t?.kind === "op" && (t.op === "+" || t.op === "-"); t = tokens[pos]) {
      pos++;
      left = t.op === "+" ? left + product() : left - product();
    }
    return left;
  };
  try {
    if (tokens.length === 0) return undefined;
    const value = sum();
    return pos === tokens.length && Number.isFinite(value) ? value : undefined;
  } catch (e) {
    if (e === invalid) return undefined;
    throw e;
  }
}

/** A token list written back as text, e.g. `7 * 2`. */
export function formatTokens(tokens: Token[]): string {
  const texts = tokens.map((t) => {
    if (t.kind === "op") return ` ${t.op} `;
    if (t.kind === "paren") return t.open ? "(" : ")";
    return t.text;
  });
  return texts.join("").replace(/\s+/g, " ").trim();
}

/** Whether a token list holds a binary operator, i.e. is a calculation rather than a number. */
export function hasBinaryOperator(tokens: Token[]): boolean {
  return tokens.some((t, i) => {
    if (t.kind !== "op" || i === 0) return false;
    const before = tokens[i - 1];
    return before?.kind === "number" || (before?.kind === "paren" && !before.open);
  });
}

/**
 * How far a shown result may be from the exact one and still count: one unit of its last shown digit (so both
 * rounding, `10/3 = 3.33`, and truncation, `2/3 = 0.66`, pass), plus float noise.
 */
export function shownPrecision(tokens: Token[], percent: PercentReading): number {
  let unit = 1;
  for (const t of tokens) {
    if (t.kind !== "number") continue;
    const scale = percent === "scale" && t.percent ? 0.01 : 1;
    unit = Math.min(unit, 10 ** -t.decimals * scale);
  }
  return unit;
}

// words that join clauses are never units: in "3 countries is -48" the calculation starts after "is"
const NOT_UNITS = new Set(
  "is are was were be been because and so then which that gives makes equals has have had will would to for from by than in on at with or but if as it he she they we his her their".split(
    " ",
  ),
);
const isUnitWord = (t: Token | undefined) =>
  t?.kind === "word" && /^[A-Za-z]{2,}$/.test(t.text) && !NOT_UNITS.has(t.text.toLowerCase());

/**
 * The tokens without the unit words written between a number and the next operator or the end:
 * `9 hours * 2/3` → `9 * 2/3`, `5 pounds/sheep * 8` → `5 * 8`, `13 ducks` → `13`. Single letters stay,
 * since `2x` is algebra, not a unit.
 */
export function dropUnits(tokens: Token[]): Token[] {
  const kept: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    kept.push(token);
    if (token.kind !== "number" && !(token.kind === "paren" && !token.open)) continue;
    let j = i + 1;
    for (;;) {
      const next = tokens[j];
      if (isUnitWord(next)) j++;
      else if (next?.kind === "op" && next.op === "/" && j > i + 1 && isUnitWord(tokens[j + 1])) j += 2;
      else break;
    }
    const after = tokens[j];
    // "-48" written against its number is a sign that starts a new calculation, not a subtraction
    const sign = after?.kind === "op" && after.op === "-" && tokens[j + 1]?.start === after.end;
    if (j > i + 1 && (after === undefined || (after.kind === "op" && !sign))) i = j - 1;
  }
  return kept;
}
