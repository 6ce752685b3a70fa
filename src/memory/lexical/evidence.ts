import type { AnalyzedText } from "./analyze.js";
import type { BankLexicon, LexicalMatches } from "./bankLexicon.js";
import type { PreparedTerms } from "./bm25.js";

/** What a query's own analysis says before any memory is looked at. */
export interface QueryEvidence {
  text: AnalyzedText;
  /** the query's structure BM25 against itself: the most a memory could score */
  structureSelf: number;
  /** the query's length in structure terms, and its log over the bank's average (short questions are not problems) */
  structureLength: number;
  logLength: number;
  /** the best literal and structure scores in the bank, to put every memory's on a 0..1 scale */
  literalBest: number;
  structureBest: number;
  /** the literal field's best memory and how far it stands out from the runner-up (best / second) */
  literalLeader?: { id: string; lead: number };
  /** the query's terms as the fields' ids, to score memories by their slots */
  literalTerms: PreparedTerms;
  structureTerms: PreparedTerms;
  /** the query's values in order: the literal term id (-1 when no memory holds it), idf, whether a number */
  values: { id: number; idf: number; number: boolean }[];
}

/** The lexical evidence that a memory is an analogue of the query. */
export interface MemoryEvidence {
  /** literal BM25 over the best in the bank: same words, numbers and names (a paraphrase) */
  literal: number;
  /** structure BM25 over the best in the bank: same shape and kinds of things (a variant) */
  structure: number;
  /** share of the query's numbers and names (idf-weighted) the memory holds */
  values: number;
  /**
   * how much of the query's structure the memory covers (its BM25 over the query's own), and of the
   * memory's the query covers: the match model's inputs, with the length ratio
   */
  queryCoverage: number;
  memoryCoverage: number;
  /** log of the query's length over the memory's (structure terms): an analogue is about as long */
  logLengthRatio: number;
  /** how many of the query's numbers the memory holds */
  numbersHeld: number;
}

/** Reads a query's evidence from the bank's best lexical matches. */
export function queryEvidence(
  lexicon: BankLexicon,
  text: AnalyzedText,
  matches: LexicalMatches,
): QueryEvidence {
  let length = 0;
  for (const count of text.structure.values()) length += count;
  const [first, second] = matches.literal;
  return {
    text,
    structureSelf: lexicon.structure.score(text.structure, text.structure),
    structureLength: length,
    logLength: Math.log(Math.max(length, 1) / lexicon.structure.averageLength),
    literalBest: first?.score ?? 0,
    structureBest: matches.structure[0]?.score ?? 0,
    literalLeader: first
      ? { id: first.id, lead: second ? first.score / second.score : Number.POSITIVE_INFINITY }
      : undefined,
    literalTerms: lexicon.literal.prepare(text.literal),
    structureTerms: lexicon.structure.prepare(text.structure),
    values: [...text.values.keys()].map((value) => ({
      id: lexicon.literal.idOf(value),
      idf: lexicon.literal.idf(value),
      number: /^\d/.test(value),
    })),
  };
}

/** Scores one memory's text against the query, exactly, with the bank's term statistics. */
export function memoryEvidence(
  lexicon: BankLexicon,
  query: QueryEvidence,
  memory: AnalyzedText,
): MemoryEvidence {
  const literal = lexicon.literal.score(query.text.literal, memory.literal);
  const structure = lexicon.structure.score(query.text.structure, memory.structure);
  const memorySelf = lexicon.structure.score(memory.structure, memory.structure);
  let memoryLength = 0;
  for (const count of memory.structure.values()) memoryLength += count;
  let held = 0;
  let all = 0;
  let numbersHeld = 0;
  for (const value of query.text.values.keys()) {
    const idf = lexicon.literal.idf(value);
    all += idf;
    if (memory.values.has(value)) {
      held += idf;
      if (/^\d/.test(value)) numbersHeld++;
    }
  }
  return evidenceOf(query, { literal, structure, held, all, memorySelf, memoryLength, numbersHeld });
}

/**
 * `memoryEvidence` for the memory in `slot` of the lexicon, its terms read from the fields rather than
 * from an analysis of its text; `values` are its values' literal term ids (BankLexicon.valuesOf).
 */
export function memoryEvidenceAt(
  lexicon: BankLexicon,
  query: QueryEvidence,
  slot: number,
  values: ArrayLike<number>,
): MemoryEvidence {
  const literal = lexicon.literal.scoreSlot(query.literalTerms, slot);
  const structure = lexicon.structure.scoreSlot(query.structureTerms, slot);
  const memorySelf = lexicon.structure.selfScore(slot);
  const memoryLength = lexicon.structure.lengthOf(slot);
  let held = 0;
  let all = 0;
  let numbersHeld = 0;
  for (const value of query.values) {
    all += value.idf;
    if (value.id >= 0 && holds(values, value.id)) {
      held += value.idf;
      if (value.number) numbersHeld++;
    }
  }
  return evidenceOf(query, { literal, structure, held, all, memorySelf, memoryLength, numbersHeld });
}

function holds(ids: ArrayLike<number>, id: number): boolean {
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) return true;
  return false;
}

/** The evidence from a memory's raw scores against the query, each normalised as MemoryEvidence says. */
function evidenceOf(
  query: QueryEvidence,
  raw: {
    literal: number;
    structure: number;
    held: number;
    all: number;
    memorySelf: number;
    memoryLength: number;
    numbersHeld: number;
  },
): MemoryEvidence {
  const { literal, structure, held, all, memorySelf, memoryLength, numbersHeld } = raw;
  return {
    literal: query.literalBest > 0 ? Math.min(1, literal / query.literalBest) : 0,
    structure: query.structureBest > 0 ? Math.min(1, structure / query.structureBest) : 0,
    values: all > 0 ? held / all : 0,
    queryCoverage: query.structureSelf > 0 ? structure / query.structureSelf : 0,
    memoryCoverage: memorySelf > 0 ? structure / memorySelf : 0,
    logLengthRatio: Math.log(Math.max(query.structureLength, 1) / Math.max(memoryLength, 1)),
    numbersHeld,
  };
}
