import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { BankLexicon, type LexiconParts } from "./bankLexicon.js";
import type { FieldParts } from "./bm25.js";

// A lexicon file: "PRLX", the header's length (u32, little-endian), the header (JSON), then each array's
// bytes from an offset that is a multiple of 8, in the header's order.
const MAGIC = 0x584c5250; // "PRLX"
const FORMAT = 1;
const ALIGN = 8;

type Array32 = Int32Array<ArrayBuffer> | Float32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;
const ARRAY_TYPES = { i32: Int32Array, f32: Float32Array, u8: Uint8Array } as const;
type ArrayType = keyof typeof ARRAY_TYPES;

interface Header {
  format: number;
  analyzer: string;
  fingerprint: string;
  ids: string[];
  tombstones: number;
  sums: [number, number];
  fields: Record<"literal" | "structure", { documents: number; totalLength: number; terms: number }>;
  arrays: { name: string; type: ArrayType; length: number; offset: number }[];
}

/** A lexicon file's header: whom it is for and what it holds; `load` reads the rest. */
export interface SavedLexicon {
  analyzer: string;
  fingerprint: string;
  load(): Promise<BankLexicon>;
}

function typeOf(a: Array32): ArrayType {
  return a instanceof Int32Array ? "i32" : a instanceof Float32Array ? "f32" : "u8";
}

function fieldArrays(name: string, f: FieldParts): [string, Array32][] {
  return [
    [`${name}.first`, f.terms.first],
    [`${name}.second`, f.terms.second],
    [`${name}.ids`, f.terms.ids],
    [`${name}.start`, f.start],
    [`${name}.length`, f.length],
    [`${name}.pool`, f.pool],
    [`${name}.lengths`, f.lengths],
    [`${name}.live`, f.live],
  ];
}

/**
 * Writes a bank's lexicon to `file` (aside first, then renamed: a reader sees the old file or the new one),
 * marked with the analyzer that built it and the fingerprint of the texts it holds.
 */
export async function writeLexiconFile(file: string, lexicon: BankLexicon, analyzer: string): Promise<void> {
  const parts: LexiconParts = lexicon.parts();
  const arrays: [string, Array32][] = [
    ["textHashes", parts.textHashes],
    ...fieldArrays("literal", parts.literal),
    ...fieldArrays("structure", parts.structure),
  ];
  const field = (f: FieldParts) => ({
    documents: f.documents,
    totalLength: f.totalLength,
    terms: f.terms.count,
  });
  const header: Header = {
    format: FORMAT,
    analyzer,
    fingerprint: lexicon.fingerprint,
    ids: parts.ids,
    tombstones: parts.tombstones,
    sums: parts.fingerprint,
    fields: { literal: field(parts.literal), structure: field(parts.structure) },
    arrays: [],
  };
  // offsets follow the header, whose length depends on them: lay the arrays out after a generous guess
  let json = JSON.stringify(header);
  for (let room = Buffer.byteLength(json) + 4096; ; room *= 2) {
    let at = align(8 + room);
    header.arrays = arrays.map(([name, a]) => {
      const entry = { name, type: typeOf(a), length: a.length, offset: at };
      at = align(at + a.byteLength);
      return entry;
    });
    json = JSON.stringify(header);
    if (Buffer.byteLength(json) <= room) break;
  }
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  const handle = await open(partial, "w");
  try {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(Buffer.byteLength(json), 4);
    await handle.write(head, 0, 8, 0);
    await handle.write(Buffer.from(json), 0, Buffer.byteLength(json), 8);
    for (const [i, [, a]] of arrays.entries()) {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      await handle.write(bytes, 0, bytes.length, header.arrays[i]?.offset);
    }
    await handle.close();
    await rename(partial, file);
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(partial, { force: true });
    throw e;
  }
}

/** The header of a lexicon file, or undefined when there is none (or it is not one this version reads). */
export async function readLexiconFile(file: string): Promise<SavedLexicon | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  let header: Header;
  try {
    const head = Buffer.alloc(8);
    await readFully(handle, head, 0);
    if (head.readUInt32LE(0) !== MAGIC) return undefined;
    const json = Buffer.alloc(head.readUInt32LE(4));
    await readFully(handle, json, 8);
    header = JSON.parse(json.toString("utf8")) as Header;
    if (header.format !== FORMAT) return undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
  return {
    analyzer: header.analyzer,
    fingerprint: header.fingerprint,
    load: () => loadLexicon(file, header),
  };
}

async function loadLexicon(file: string, header: Header): Promise<BankLexicon> {
  const handle = await open(file, "r");
  const arrays = new Map<string, Array32>();
  try {
    for (const entry of header.arrays) {
      const a = new ARRAY_TYPES[entry.type](entry.length) as Array32;
      await readFully(handle, new Uint8Array(a.buffer), entry.offset);
      arrays.set(entry.name, a);
    }
  } finally {
    await handle.close();
  }
  const get = <T extends Array32>(name: string) => arrays.get(name) as T;
  const field = (name: "literal" | "structure"): FieldParts => ({
    documents: header.fields[name].documents,
    totalLength: header.fields[name].totalLength,
    terms: {
      count: header.fields[name].terms,
      first: get(`${name}.first`),
      second: get(`${name}.second`),
      ids: get(`${name}.ids`),
    },
    start: get(`${name}.start`),
    length: get(`${name}.length`),
    pool: get(`${name}.pool`),
    lengths: get(`${name}.lengths`),
    live: get(`${name}.live`),
  });
  return new BankLexicon({
    ids: header.ids,
    tombstones: header.tombstones,
    textHashes: get("textHashes"),
    fingerprint: header.sums,
    literal: field("literal"),
    structure: field("structure"),
  });
}

async function readFully(handle: Awaited<ReturnType<typeof open>>, into: Uint8Array, position: number) {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error("lexicon file is shorter than its header says");
    done += bytesRead;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
