import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * Compiles the sources before the suite, so the processes it spawns (`bin/precedent.mjs`) run the same
 * JavaScript `npm install` builds, and never one compiled before the last edit.
 */
export default function buildOnce(): void {
  execFileSync("npm", ["run", "--silent", "build"], {
    cwd: resolve(import.meta.dirname, "..", ".."),
    stdio: "inherit",
  });
}
