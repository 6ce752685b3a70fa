/**
 * The tokens of a problem, each in two forms: literal (what it says) and masked (numbers → `#`, proper
 * names → `@`). A paraphrase keeps the literal values; a variant of the same problem keeps only the
 * masked shape. Recall scores both.
 */

// Function words and common sentence openers: capitalized at the start of a sentence, yet not names.
export const COMMON_WORDS = new Set(
  `a about above after again against all also an and another any are as at be because been before being
  below between both but by can could did do does doing down during each every few for from further had has
  have having he her here hers herself him himself his how i if in into is it its itself just let me more
  most my myself no nor not now of off on once only or other our ours ourselves out over own same she
  should so some such than that the their theirs them themselves then there these they this those through
  to too under until up very was we were what when where which while who whom why will with would you your
  yours yourself yourselves one two three four five six seven eight nine ten half twice suppose given
  find calculate compute determine today yesterday tomorrow last next first second third many much
  several mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday january february march
  april may june july august september october november december`.split(/\s+/),
);

/** One token of a text: its literal form (lowercased, numbers without thousands separators) and its masked one. */
export interface Token {
  literal: string;
  masked: string;
  /** `number` and `name` are the values a variant changes; `word` is everything else */
  kind: "word" | "number" | "name" | "symbol";
}

const TOKEN = /[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:[.,]\d+)*|[^\s\w]/g;
// a possessive is not part of the word: "Nick's candies" names Nick
const POSSESSIVE = /(?<=[A-Za-z])'s\b/g;
const SENTENCE_END = new Set([".", "!", "?", ":", ";"]);

/** The tokens of a text in order; punctuation other than `$` and `%` only marks where sentences end. */
export function tokenize(text: string): Token[] {
  const raw = text.replace(POSSESSIVE, "").match(TOKEN) ?? [];
  const lowerSeen = new Set<string>();
  for (const t of raw) if (/^[a-z]/.test(t)) lowerSeen.add(t);
  const out: Token[] = [];
  let sentenceStart = true;
  for (const t of raw) {
    if (/^\d/.test(t)) {
      out.push({ literal: t.replace(/,(?=\d{3}(?:\D|$))/g, ""), masked: "#", kind: "number" });
    } else if (/^[A-Z]/.test(t)) {
      const lower = t.toLowerCase();
      const isName = sentenceStart
        ? !COMMON_WORDS.has(lower) && !lowerSeen.has(lower)
        : !COMMON_WORDS.has(lower);
      out.push(
        isName
          ? { literal: lower, masked: "@", kind: "name" }
          : { literal: lower, masked: lower, kind: "word" },
      );
    } else if (/^[a-z]/.test(t)) {
      out.push({ literal: t, masked: t, kind: "word" });
    } else {
      if (t === "$" || t === "%") out.push({ literal: t, masked: t, kind: "symbol" });
      sentenceStart = SENTENCE_END.has(t);
      continue;
    }
    sentenceStart = false;
  }
  return out;
}

/** Tokens with numbers masked as `#` and proper names as `@`, lowercased. */
export function maskedTokens(text: string): string[] {
  return tokenize(text).map((t) => t.masked);
}
