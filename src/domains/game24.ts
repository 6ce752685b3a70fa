import { findMarkedAnswer } from "./extract.js";

/** Exact rational numbers: 24 must be reached exactly, so floating point is not good enough (8/(3-8/3)). */
export interface Rational {
  n: bigint;
  d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y) [x, y] = [y, x % y];
  return x;
}

function rational(n: bigint, d: bigint): Rational {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

type Op = "+" | "-" | "*" | "/";

function apply(op: Op, a: Rational, b: Rational): Rational | undefined {
  switch (op) {
    case "+":
      return rational(a.n * b.d + b.n * a.d, a.d * b.d);
    case "-":
      return rational(a.n * b.d - b.n * a.d, a.d * b.d);
    case "*":
      return rational(a.n * b.n, a.d * b.d);
    case "/":
      return b.n === 0n ? undefined : rational(a.n * b.d, a.d * b.n);
  }
}

function formatRational(r: Rational): string {
  return r.d === 1n ? String(r.n) : `${r.n}/${r.d}`;
}

/** The four numbers of a puzzle written as `4 9 10 13` (or anywhere in a problem text). */
export function parsePuzzle(text: string): number[] | undefined {
  // the stored problem says "Use the numbers 4 9 10 13 … to make 24": the target is not a puzzle number
  const stated = text.match(/numbers?\s*:?\s*(\d+(?:[\s,]+\d+){3})\b/i)?.[1] ?? text;
  const numbers = (stated.match(/\d+/g) ?? []).map(Number);
  return numbers.length === 4 ? numbers : undefined;
}

/** The problem statement stored for a puzzle. */
export function game24Problem(numbers: number[]): string {
  return `Use the numbers ${numbers.join(" ")} exactly once each, with + - * / and parentheses, to make 24.`;
}

export type Game24Check = { ok: true } | { ok: false; reason: string };

/** Parses an arithmetic expression over integers with + - * / ( ) into a value and the numbers it used. */
function evaluate(expression: string): { value: Rational; used: number[] } | { error: string } {
  // "1 3" would otherwise read as 13 once spaces are gone
  if (/\d\s+\d/.test(expression)) return { error: "numbers must be joined by an operator" };
  const source = expression.replace(/[×x]/g, "*").replace(/÷/g, "/").replace(/\s+/g, "");
  if (source === "") return { error: "empty expression" };
  if (/[^0-9+\-*/()]/.test(source)) return { error: `unexpected character in "${expression}"` };
  let pos = 0;
  const used: number[] = [];
  const fail = (message: string): never => {
    throw new SyntaxError(message);
  };
  const primary = (): Rational => {
    const ch = source[pos];
    if (ch === "(") {
      pos++;
      const inner = sum();
      if (source[pos] !== ")") fail("missing closing parenthesis");
      pos++;
      return inner;
    }
    const digits = source.slice(pos).match(/^\d+/);
    if (!digits) fail(ch === "-" ? "unary minus is not allowed" : `expected a number at position ${pos + 1}`);
    const text = (digits as RegExpMatchArray)[0];
    pos += text.length;
    used.push(Number(text));
    return rational(BigInt(text), 1n);
  };
  const product = (): Rational => {
    let left = primary();
    while (source[pos] === "*" || source[pos] === "/") {
      const op = source[pos++] as Op;
      const result = apply(op, left, primary());
      if (!result) fail("division by zero");
      left = result as Rational;
    }
    return left;
  };
  const sum = (): Rational => {
    let left = product();
    while (source[pos] === "+" || source[pos] === "-") {
      const op = source[pos++] as Op;
      left = apply(op, left, product()) as Rational;
    }
    return left;
  };
  try {
    const value = sum();
    if (pos !== source.length) fail(`unexpected "${source[pos]}" at position ${pos + 1}`);
    return { value, used };
  } catch (e) {
    if (e instanceof SyntaxError) return { error: e.message };
    throw e;
  }
}

/** Checks that an expression uses exactly the puzzle's four numbers once each and equals 24 exactly. */
export function checkGame24(numbers: number[], expression: string): Game24Check {
  const result = evaluate(expression);
  if ("error" in result) return { ok: false, reason: result.error };
  const want = [...numbers].sort((a, b) => a - b).join(",");
  const got = [...result.used].sort((a, b) => a - b).join(",");
  if (want !== got) return { ok: false, reason: `uses ${got || "no numbers"}, the puzzle gives ${want}` };
  if (!(result.value.n === 24n && result.value.d === 1n)) {
    return { ok: false, reason: `equals ${formatRational(result.value)}, not 24` };
  }
  return { ok: true };
}

interface Term {
  value: Rational;
  expr: string;
  atomic: boolean;
}

export interface Game24Solution {
  expression: string;
  /** One line per operation, e.g. `13 - 9 = 4`, in the order they are done. */
  steps: string[];
}

/** Finds an expression for a puzzle by exhaustive search, with the steps that build it. */
export function solveGame24(numbers: number[]): Game24Solution | undefined {
  const search = (terms: Term[], steps: string[]): Game24Solution | undefined => {
    if (terms.length === 1) {
      const only = terms[0] as Term;
      return only.value.n === 24n && only.value.d === 1n ? { expression: only.expr, steps } : undefined;
    }
    for (let i = 0; i < terms.length; i++) {
      for (let j = 0; j < terms.length; j++) {
        if (i === j) continue;
        const a = terms[i] as Term;
        const b = terms[j] as Term;
        const rest = terms.filter((_, k) => k !== i && k !== j);
        for (const op of ["+", "-", "*", "/"] as Op[]) {
          // + and * commute: trying one order is enough
          if ((op === "+" || op === "*") && i > j) continue;
          const value = apply(op, a.value, b.value);
          if (!value) continue;
          const wrap = (t: Term) => (t.atomic ? t.expr : `(${t.expr})`);
          const term = { value, expr: `${wrap(a)} ${op} ${wrap(b)}`, atomic: false };
          const step = `${formatRational(a.value)} ${op} ${formatRational(b.value)} = ${formatRational(value)}`;
          const found = search([...rest, term], [...steps, step]);
          if (found) return found;
        }
      }
    }
    return undefined;
  };
  const terms = numbers.map((n) => ({ value: rational(BigInt(n), 1n), expr: String(n), atomic: true }));
  return search(terms, []);
}

/** Canonical form of a game24 answer: the expression without spaces or `= 24`, with `×`/`÷` as `*`/`/`. */
export function canonicalGame24(expression: string): string {
  return expression.replace(/[×x]/g, "*").replace(/÷/g, "/").replace(/\s+/g, "").replace(/=24$/, "");
}

/** Drops parentheses that have no partner, e.g. the `)` of "(which is 6 * 4)" when only "6 * 4)" was cut out. */
function dropUnmatchedParentheses(text: string): string {
  const open: number[] = [];
  const unmatched = new Set<number>();
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") open.push(i);
    else if (text[i] === ")" && open.pop() === undefined) unmatched.add(i);
  }
  for (const i of open) unmatched.add(i);
  return [...text].filter((_, i) => !unmatched.has(i)).join("");
}

/** The arithmetic expression over at least two numbers in a line of prose, e.g. "So (10 - 4) * (13 - 9) = 24." */
function expressionIn(line: string): string | undefined {
  const normalized = line
    .replace(/(?<=[\d)]\s*)[x×](?=\s*[\d(])/g, "*")
    .replace(/÷/g, "/")
    .replace(/[−–]/g, "-");
  let best: { text: string; numbers: number } | undefined;
  // "expr = 24", "24 = expr" and "expr = 6 * 4 = 24" all hold the answer in the run with the most numbers
  for (const run of normalized.match(/[\d+\-*/() ]+/g) ?? []) {
    const text = dropUnmatchedParentheses(run.trim().replace(/^[+\-*/\s]+|[+\-*/\s]+$/g, "")).trim();
    const numbers = text.match(/\d+/g)?.length ?? 0;
    if (numbers >= 2 && /\d\s*\)*\s*[+\-*/]/.test(text) && numbers > (best?.numbers ?? 0)) {
      best = { text, numbers };
    }
  }
  return best?.text;
}

/**
 * The expression a Game of 24 chain of thought ends on: the one after `Answer:` (or another answer marker),
 * else the last line that holds an arithmetic expression; a trailing `= 24` is left out.
 */
export function extractGame24Expression(chainOfThought: string): string | undefined {
  const marked = findMarkedAnswer(chainOfThought);
  const fromMarker = marked === undefined ? undefined : expressionIn(marked);
  if (fromMarker) return fromMarker;
  const lines = chainOfThought.split(/\r?\n/).reverse();
  for (const line of lines) {
    const expression = expressionIn(line);
    if (expression) return expression;
  }
  return undefined;
}
