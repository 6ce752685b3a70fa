import { COMMON_WORDS, type Token, tokenize } from "./tokens.js";
import type { Generalize } from "./wordnet.js";

/** A term and how often a text holds it. */
export type TermCounts = Map<string, number>;

/**
 * The lexical evidence of one text, in three fields:
 * - `literal`: its words, numbers and names as written, with word pairs (a paraphrase keeps these);
 * - `structure`: numbers → `#`, names → `@`, each noun replaced by its kind (WordNet), with pairs (a
 *   variant keeps these: "Maria sold # cupcakes" and "Natalia sold # clips" share "@ sold", "sold #");
 * - `values`: just the numbers and names (the same problem reworded keeps most of them).
 */
export interface AnalyzedText {
  literal: TermCounts;
  structure: TermCounts;
  values: TermCounts;
}

/** Turns a text into its lexical fields; `id` names what it does, so a lexicon built by another is not reused. */
export interface Analyzer {
  (text: string): AnalyzedText;
  readonly id: string;
}

// Raised with any change to what an analysis gives (tokens, masks, pairs): lexicons kept in files by an
// earlier version are then built again.
const ANALYSIS_VERSION = 1;

/** An analyzer; nouns are generalized to their kinds when a `generalize` is given. */
export function createAnalyzer(generalize?: Generalize): Analyzer {
  const kinds = new Map<string, string | undefined>();
  const kindOf = (word: string) => {
    if (!generalize) return undefined;
    if (!kinds.has(word)) kinds.set(word, generalize(word));
    return kinds.get(word);
  };
  const structural = (t: Token) => {
    if (t.kind !== "word" || t.masked.length <= 2 || COMMON_WORDS.has(t.masked)) return t.masked;
    const kind = kindOf(t.masked);
    return kind === undefined ? t.masked : `~${kind}`;
  };
  const analyze = (text: string): AnalyzedText => {
    const tokens = tokenize(text);
    const values: TermCounts = new Map();
    for (const t of tokens) if (t.kind === "number" || t.kind === "name") add(values, t.literal);
    return {
      literal: withPairs(tokens.map((t) => t.literal)),
      structure: withPairs(tokens.map(structural)),
      values,
    };
  };
  return Object.assign(analyze, {
    id: `analysis-${ANALYSIS_VERSION}${generalize ? `+${generalize.id}` : ""}`,
  });
}

function add(counts: TermCounts, term: string): void {
  counts.set(term, (counts.get(term) ?? 0) + 1);
}

function withPairs(words: string[]): TermCounts {
  const counts: TermCounts = new Map();
  for (let i = 0; i < words.length; i++) {
    add(counts, words[i] as string);
    if (i > 0) add(counts, `${words[i - 1]} ${words[i]}`);
  }
  return counts;
}
