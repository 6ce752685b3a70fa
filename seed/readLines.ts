import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** The lines of a text file with their 1-based numbers, streamed. */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  const reader = createInterface({
    input: createReadStream(path, { encoding: "utf8" }),
    crlfDelay: Infinity,
  });
  let line = 0;
  for await (const text of reader) {
    line++;
    yield { line, text };
  }
}

/** Counts the lines of a file (for a progress bar's total) without holding it in memory. */
export async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const { text } of readLines(path)) if (text.trim() !== "") n++;
  return n;
}
