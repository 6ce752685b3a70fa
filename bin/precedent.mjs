#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` through the prepare script, or `npm run build`);
// a checkout without it runs the TypeScript sources through tsx.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/main.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
