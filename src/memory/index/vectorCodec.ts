import { sql } from "drizzle-orm";

/**
 * A `real[]` as the database sends it to us: `encode(array_send(vector), 'base64')`. Reading vectors this
 * way instead of as array text is 2-3× faster on both drivers (20k × 384: Postgres 0.8 s instead of 2 s,
 * PGlite 1.6 s instead of 4 s).
 */
export const VECTOR_OUT = sql.raw("encode(array_send(vector), 'base64')");

function base64Bytes(text: string): Uint8Array {
  const nodeBuffer = (globalThis as { Buffer?: { from(s: string, e: "base64"): Uint8Array } }).Buffer;
  if (nodeBuffer) return nodeBuffer.from(text, "base64");
  const binary = atob(text.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Decodes array_send's binary form of a one-dimensional real[] (big-endian, a length before each item). */
export function decodeVector(base64: string): Float32Array {
  const bytes = base64Bytes(base64);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20 || view.getInt32(0) !== 1) return new Float32Array();
  const n = view.getInt32(12);
  const out = new Float32Array(n);
  for (let i = 0, at = 20; i < n; i++, at += 8) out[i] = view.getFloat32(at + 4);
  return out;
}

/** A vector as a `real[]` literal; 9 significant digits give back exactly the same float32. */
export function vectorLiteral(vector: Float32Array): string {
  let out = "{";
  for (let i = 0; i < vector.length; i++) out += (i ? "," : "") + (vector[i] as number).toPrecision(9);
  return `${out}}`;
}
