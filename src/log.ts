import { pino } from "pino";

export type Logger = pino.Logger;

/** Structured JSON logs on stderr, so stdout stays free for command output. */
export function createLogger(level: string, name = "precedent"): Logger {
  return pino({ name, level }, pino.destination(2));
}

/** Structured JSON lines on the console, for runtimes without file descriptors (Cloudflare Workers). */
export function createConsoleLogger(level: string, name = "precedent"): Logger {
  return pino({ name, level, browser: { write: (o) => console.log(JSON.stringify(o)) } });
}
