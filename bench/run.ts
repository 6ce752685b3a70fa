import { mkdirSync, writeFileSync } from "node:fs";
import { benchRecall } from "./recall.js";
import { benchSeed } from "./seed.js";
import { benchSolve } from "./solve.js";

// `npm run bench [seed|recall|solve]`: prints each figure next to its target and saves them to bench/results/.
const only = process.argv[2];
const results = [];
if (!only || only === "seed") results.push(...(await benchSeed()));
if (!only || only === "recall") results.push(...(await benchRecall()));
if (!only || only === "solve") results.push(...(await benchSolve()));
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, JSON.stringify({ node: process.version, results }, null, 2));
const missed = results.filter((r) => r.met === false);
console.log(`\n${results.length} figures, ${missed.length} targets missed; saved ${file}`);
