import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
/** Where browser tests save their screenshots. */
export const SCREENSHOTS = resolve(import.meta.dirname, "..", "..", "test-results");

/**
 * Whether Debian's Chromium is installed. CI installs it (.ci/run), so there its absence is an error;
 * elsewhere the browser tests are skipped, loudly.
 */
export function haveChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  console.warn(`\n*** ${what} SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium) ***\n`);
  return false;
}

/** Headless Chromium with the flags this machine's closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
