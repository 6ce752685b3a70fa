import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { LOCAL_EMBEDDING_DIMENSIONS, loadConfig } from "../src/config.js";
import { createBank } from "../src/memory/banks.js";
import { createLocalEmbedder } from "../src/memory/embed/local.js";
import { importProblems } from "../src/memory/importProblems.js";
import { openLanceIndex } from "../src/memory/index/lance.js";
import { wordNetAnalyzer } from "../src/memory/lexical/wordNetAnalyzer.js";
import { checkIndex } from "../src/memory/reconcile.js";
import { syntheticProblems } from "./recall.js";
import { benchContext, gsm8kText, lexicalAgreement, listening, percentile, report } from "./support.js";

// `npm run bench:scale`: a bank of SCALE_SIZE (default 1,000,000) synthetic memories, 384-d, built by the
// bench in the embedded defaults; then a real server on it answers 200 recalls while its peak RSS is read,
// and the ANN search is compared with an exact scan of the same table on the same 200 queries.
const SIZE = Number(process.env.SCALE_SIZE ?? 1_000_000);
const QUERIES = 200;
// SCALE_HOME=<folder>: the bank is built there and kept; a later run with the same folder and size
// measures that bank again without building it (the build takes half an hour at 1M)
const KEPT_HOME = process.env.SCALE_HOME ? resolve(process.env.SCALE_HOME) : undefined;
const BIN = resolve(import.meta.dirname, "..", "bin", "precedent.mjs");

/** The peak resident set of a process, from /proc (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** Builds the synthetic bank in a home of its own (SCALE_HOME when set), timing the records and the ANN index. */
async function buildBank(
  bankId: string,
  figures: ReturnType<typeof report>[],
  label: string,
): Promise<string> {
  const { dataDir } = loadConfig();
  const { sentences } = gsm8kText(dataDir);
  // built with the bench's own context, then hand the folder to a server (PGlite allows one process)
  if (KEPT_HOME) mkdirSync(KEPT_HOME, { recursive: true });
  const ctx = await benchContext({ keep: true, dir: KEPT_HOME });
  try {
    await checkIndex({ ctx }); // records which embedder built the index, as a server's first start does
    const bank = await createBank({ ctx, input: { id: bankId, domain: "number" } });
    console.log(`building ${SIZE.toLocaleString()} synthetic memories…`);
    let started = performance.now();
    let last = started;
    await importProblems({
      ctx,
      input: {
        bankId: bank.id,
        rows: syntheticProblems(SIZE, sentences, SIZE),
        source: "import",
        onProgress: ({ read }) => {
          if (performance.now() - last > 30_000) {
            last = performance.now();
            console.log(`  ${read.toLocaleString()} imported (${((last - started) / 1000).toFixed(0)} s)`);
          }
        },
      },
    });
    figures.push(
      report(`scale: build ${label} (records + searchable index)`, (performance.now() - started) / 1000, "s"),
    );
    started = performance.now();
    await ctx.index.optimize(bankId, { vectorIndex: true });
    figures.push(
      report(`scale: ANN vector index build @ ${label}`, (performance.now() - started) / 1000, "s"),
    );
  } finally {
    await ctx.close();
  }
  return ctx.dir;
}

export async function benchScale() {
  const { dataDir } = loadConfig();
  const { testQuestions } = gsm8kText(dataDir);
  const queries = testQuestions.slice(0, QUERIES);
  const label = `${(SIZE / 1000).toLocaleString()}k`;
  const figures: ReturnType<typeof report>[] = [];

  const bankId = "synthetic";
  const built = KEPT_HOME ? join(KEPT_HOME, "scale.json") : undefined;
  let home: string;
  if (built && existsSync(built) && JSON.parse(readFileSync(built, "utf8")).size === SIZE) {
    home = KEPT_HOME as string;
    console.log(`measuring the ${SIZE.toLocaleString()} memories built before in ${home}`);
  } else {
    home = await buildBank(bankId, figures, label);
    if (built) writeFileSync(built, JSON.stringify({ size: SIZE }));
  }

  const server = spawn(process.execPath, [BIN, "serve"], {
    env: {
      ...process.env,
      PRECEDENT_HOME: home,
      PORT: "0",
      LOG_LEVEL: "warn",
      LANCEDB_LOG: "error",
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const url = await listening(server);
    const recall = async (query: string) => {
      const response = await fetch(`${url}/v1/banks/${bankId}/recall`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, k: 4 }),
      });
      const body = (await response.json()) as {
        timings: { embedMs: number; searchMs: number; rerankMs: number };
      };
      return body.timings;
    };
    for (const q of queries.slice(0, 20)) await recall(q); // warm-up: caches, the JIT, the index pages
    const inServer: number[] = [];
    const searches: number[] = [];
    const reranks: number[] = [];
    const roundTrips: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      const { embedMs, searchMs, rerankMs } = await recall(q);
      roundTrips.push(performance.now() - t);
      inServer.push(embedMs + searchMs + rerankMs);
      searches.push(searchMs);
      reranks.push(rerankMs);
    }
    const rss = peakRssMiB(server.pid as number);
    figures.push(
      report(`scale: recall p50 @ ${label} (in the server)`, percentile(inServer, 0.5), "ms", {
        op: "≤",
        value: 15,
      }),
      report(`scale: recall p99 @ ${label} (in the server)`, percentile(inServer, 0.99), "ms", {
        op: "≤",
        value: 50,
      }),
      report(`  of which the lexical search, p50`, percentile(searches, 0.5), "ms"),
      report(`  of which records and rerank, p50`, percentile(reranks, 0.5), "ms"),
      report(`scale: recall p50 @ ${label} over HTTP`, percentile(roundTrips, 0.5), "ms"),
      report(`scale: peak RSS of the server @ ${label}`, rss, "MiB", { op: "≤", value: 2048 }),
    );

    // the index's own search (the ANN with the server's parameters) against an exact scan of its table
    const embedder = createLocalEmbedder(LOCAL_EMBEDDING_DIMENSIONS);
    const index = await openLanceIndex({
      uri: join(home, "lance"),
      dimensions: LOCAL_EMBEDDING_DIMENSIONS,
      analyzer: wordNetAnalyzer,
    });
    const db = await lancedb.connect(join(home, "lance"));
    const table = await db.openTable(`bank_${bankId}`);
    let overlap = 0;
    for (const q of queries) {
      const [vector] = (await embedder.embed([q])) as [Float32Array];
      const ann = await index.searchVector(bankId, vector, 10);
      const exact = await table
        .vectorSearch(Array.from(vector))
        .distanceType("cosine")
        .bypassVectorIndex()
        .limit(10)
        .select(["id", "_distance"])
        .toArray();
      const truth = new Set(exact.map((r) => r.id as string));
      overlap += ann.filter((h) => truth.has(h.id)).length / Math.max(1, truth.size);
    }
    const agreement = lexicalAgreement(await index.lexicon(bankId), queries);
    await index.close();
    figures.push(
      report(`scale: lexical best 8 found, of an exhaustive search's @ ${label}`, agreement, ""),
      report(`scale: ANN recall@10 vs exact @ ${label}`, overlap / queries.length, "", {
        op: "≥",
        value: 0.95,
      }),
    );
    return figures;
  } finally {
    server.kill("SIGTERM");
    await new Promise((done) => server.once("exit", done));
    if (!KEPT_HOME) rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchScale();
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/scale-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, JSON.stringify({ node: process.version, size: SIZE, figures }, null, 2));
  console.log(`saved ${file}`);
}
