import { mkdirSync, writeFileSync } from "node:fs";
import { benchCalibrate } from "./calibrate.js";
import { benchDecoding } from "./decoding.js";
import { benchQuality } from "./quality.js";
import { benchRecall } from "./recall.js";
import { benchSeed } from "./seed.js";
import { benchSolve } from "./solve.js";

// `npm run bench [seed|recall|solve|decoding|quality|calibrate]`: prints each figure next to its target and saves them to bench/results/.
const only = process.argv[2];
const results = [];
if (!only || only === "seed") results.push(...(await benchSeed()));
if (!only || only === "recall") results.push(...(await benchRecall()));
if (!only || only === "solve") results.push(...(await benchSolve()));
if (!only || only === "decoding") results.push(...(await benchDecoding()));
if (!only || only === "quality") results.push(...(await benchQuality(process.argv.slice(3))));
// fits a model rather than measuring the code as it is: only when asked for
if (only === "calibrate") results.push(...(await benchCalibrate()));
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, JSON.stringify({ node: process.version, results }, null, 2));
const missed = results.filter((r) => r.met === false);
console.log(`\n${results.length} figures, ${missed.length} targets missed; saved ${file}`);
