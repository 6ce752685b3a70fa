/**
 * Shared reading of the final answer in a chain of thought. Models end answers in many ways (`#### 72`,
 * `A: 72`, `The answer is 72.`, `\boxed{72}`, `**Answer:** 72`); each domain then reads its own kind of value
 * out of the text that follows the marker.
 */

interface Marked {
  text: string;
  index: number;
}

// Explicit end-of-answer formats outrank phrases: a chain may say "the answer is …" midway and still end
// with `#### 72`, and the format we ask for is the one that counts.
const FORMAL_MARKERS = [/^[ \t]*####[ \t]*(.+)$/gm];
const PHRASE_MARKERS = [
  /^[ \t]*A[ \t]*:[ \t]*(.+)$/gm,
  /(?:^|[^A-Za-z])(?:final[ \t]+)?answer[ \t]*\**[ \t]*[:：][ \t]*\**[ \t]*(.+)$/gim,
  /\b(?:the|my)[ \t]+(?:final[ \t]+|correct[ \t]+)?answer[ \t]+(?:is|would be|will be)[ \t]*:?[ \t]*(.+)$/gim,
];

/** The text inside the last `\boxed{…}`, reading nested braces (`\boxed{\frac{1}{2}}`). */
function lastBoxed(text: string): Marked | undefined {
  const start = text.lastIndexOf("\\boxed{");
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start + "\\boxed".length; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) {
      return { text: text.slice(start + "\\boxed{".length, i), index: start };
    }
  }
  return undefined;
}

function lastMatch(text: string, patterns: RegExp[]): Marked | undefined {
  let last: Marked | undefined;
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const captured = match[1] ?? "";
      const index = match.index + match[0].length - captured.length;
      if (!last || index > last.index) last = { text: captured, index };
    }
  }
  return last;
}

/** An answer text without the decoration around it: markdown emphasis, LaTeX delimiters, a closing period. */
export function stripDecoration(answer: string): string {
  return answer
    .replace(/\\boxed\{(.*)\}/, "$1")
    .replace(/^[\s*_`"'“]+|[\s*_`"'”]+$/g, "")
    .replace(/^\\\(|\\\)$|^\$\$?(?=.*\$$)|\$\$?$/g, "")
    .replace(/[\s.。!]+$/, "")
    .trim();
}

/**
 * The text after the most authoritative final-answer marker in a chain of thought: the last `#### x` or
 * `\boxed{x}`, else the last `A: x`, `Answer: x` or `the answer is x`. Undefined when nothing is marked.
 */
export function findMarkedAnswer(chainOfThought: string): string | undefined {
  const formal = [lastMatch(chainOfThought, FORMAL_MARKERS), lastBoxed(chainOfThought)].filter(
    (m): m is Marked => m !== undefined,
  );
  const chosen = formal.length
    ? formal.reduce((a, b) => (b.index > a.index ? b : a))
    : lastMatch(chainOfThought, PHRASE_MARKERS);
  if (!chosen) return undefined;
  const answer = stripDecoration(chosen.text);
  return answer === "" ? undefined : answer;
}

/** The last line of a text that holds anything but whitespace. */
export function lastNonEmptyLine(text: string): string | undefined {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  return lines.at(-1)?.trim();
}
