/**
 * The words of a problem that carry its structure. Numbers and proper names are values, not structure:
 * they are masked (`#`, `@`) so that problems alike but for their values look alike.
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

const TOKEN = /[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:[.,]\d+)*|[^\s\w]/g;
const SENTENCE_END = new Set([".", "!", "?", ":", ";"]);

/** Tokens with numbers masked as `#` and proper names as `@`, lowercased. */
export function maskedTokens(text: string): string[] {
  const raw = text.match(TOKEN) ?? [];
  const lowerSeen = new Set<string>();
  for (const t of raw) if (/^[a-z]/.test(t)) lowerSeen.add(t);
  const out: string[] = [];
  let sentenceStart = true;
  for (const t of raw) {
    if (/^\d/.test(t)) {
      out.push("#");
    } else if (/^[A-Z]/.test(t)) {
      const lower = t.toLowerCase();
      const isName = sentenceStart
        ? !COMMON_WORDS.has(lower) && !lowerSeen.has(lower)
        : !COMMON_WORDS.has(lower);
      out.push(isName ? "@" : lower);
    } else if (/^[a-z]/.test(t)) {
      out.push(t);
    } else {
      if (t === "$" || t === "%") out.push(t);
      sentenceStart = SENTENCE_END.has(t);
      continue;
    }
    sentenceStart = false;
  }
  return out;
}

const MAX_CONTENT_TERMS = 10;

/**
 * The distinct content words of a text (no numbers, names or function words), the longest 10 of them in
 * their order of appearance: the lexical half of recall searches with these. Longer words are rarer, so
 * they carry most of what BM25 would weigh, and a short query keeps the full-text search fast (each term
 * is a posting list to merge).
 */
export function contentTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const t of maskedTokens(text)) {
    if (t.length > 1 && /^[a-z]/.test(t) && !COMMON_WORDS.has(t)) terms.add(t);
  }
  const all = [...terms];
  if (all.length <= MAX_CONTENT_TERMS) return all;
  const keep = new Set([...all].sort((a, b) => b.length - a.length).slice(0, MAX_CONTENT_TERMS));
  return all.filter((t) => keep.has(t));
}
