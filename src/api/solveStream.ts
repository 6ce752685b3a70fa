import { z } from "@hono/zod-openapi";
import type { Context as HonoContext } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "../log.js";
import type { SolveEvent, SolveResult } from "../reasoning/solveResult.js";
import { problemForError } from "./problem.js";

/** One server-sent event: its name and its JSON data. */
export interface StreamedEvent {
  event: "recalled" | "sample" | "vote" | "selected" | "verified" | "done" | "error";
  data: unknown;
}

/** The wire form of a pipeline event: what a client needs to show progress, not the whole internals. */
export function solveEventData(event: SolveEvent): StreamedEvent {
  switch (event.type) {
    case "recalled":
      return {
        event: "recalled",
        data: {
          memories: event.recall.memories.map((m) => ({ id: m.id, rank: m.rank, scores: m.scores })),
          abstained: event.recall.abstained,
          considered: event.recall.considered,
        },
      };
    case "sample":
      return {
        event: "sample",
        data: {
          index: event.sample.index,
          answer: event.sample.answer ?? null,
          answerCanonical: event.sample.answerCanonical ?? null,
          confidence: event.sample.confidence ?? null,
        },
      };
    case "vote":
      return {
        event: "vote",
        data: {
          tally: event.vote.tallies,
          winner: event.vote.winner ?? null,
          confidence: event.vote.confidence,
          weighted: event.vote.weighted,
        },
      };
    case "selected": {
      const { sample, agreeing, of, reason, fallback } = event.selection;
      return {
        event: "selected",
        data: { sample: sample ?? null, agreeing, of, reason: reason ?? null, fallback: fallback ?? null },
      };
    }
    case "verified":
      return {
        event: "verified",
        data: {
          verdict: event.verification.verdict,
          verifier: event.verification.verification,
          reason: event.verification.reason,
        },
      };
  }
}

/** Whether the caller asked for server-sent events rather than one JSON answer. */
export function wantsEventStream(c: HonoContext): boolean {
  return /\btext\/event-stream\b/i.test(c.req.header("accept") ?? "");
}

/** The OpenAPI description of the event stream. */
export const solveEventStreamDoc = {
  schema: z.string().openapi({
    description:
      "Server-sent events, in order: `recalled` {memories: [{id, rank, scores}], abstained, considered}; " +
      "one `sample` per chain {index, answer, answerCanonical, confidence}; `vote` {tally, winner, " +
      "confidence, weighted}; with universal selection `selected` {sample, agreeing, of, reason, fallback}; " +
      "`verified` {verdict, verifier, reason}; then `done` with the same body as " +
      "the JSON answer (SolveResponse, with runId). An answer from memory sends `recalled` then `done`. A " +
      "failure after the stream started sends `error` with a Problem and closes the stream; failures " +
      "before it (validation, auth, unknown bank, no model) answer as ordinary problem+json.",
    example:
      'event: recalled\ndata: {"memories":[],"abstained":false,"considered":0}\n\n' +
      'event: sample\ndata: {"index":0,"answer":"54","answerCanonical":"54","confidence":null}\n\n' +
      'event: done\ndata: {"runId":"run_…","status":"completed","answer":"54"}\n\n',
  }),
};

/** How a queued solve ended. */
export type SolveOutcome<R> = { ok: true; result: R } | { ok: false; error: unknown };

/**
 * A solve running with its progress events held in a queue until read: a slow reader never slows the
 * solve, and a reader that goes away does not stop it (the run is still stored).
 */
export interface QueuedSolve<R> {
  /** Resolves once the first event (or the end) is there; rethrows a failure that came before any event. */
  started(): Promise<void>;
  /** The first event, once started: e.g. the recall, known before the stream opens. */
  first(): SolveEvent | undefined;
  /** The events in order, as they come; ends when the solve has. */
  events(): AsyncGenerator<SolveEvent>;
  /** How it ended; once events() is done. */
  outcome(): SolveOutcome<R>;
}

/** Starts `run` with its events queued (see QueuedSolve). */
export function queueSolve<R>(run: (onEvent: (event: SolveEvent) => void) => Promise<R>): QueuedSolve<R> {
  const queue: SolveEvent[] = [];
  let ended: SolveOutcome<R> | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const progress = () =>
    new Promise<void>((resolve) => {
      if (queue.length > 0 || ended) resolve();
      else wake = resolve;
    });
  run((event) => {
    queue.push(event);
    notify();
  }).then(
    (result) => {
      ended = { ok: true, result };
      notify();
    },
    (error: unknown) => {
      ended = { ok: false, error };
      notify();
    },
  );
  return {
    async started() {
      await progress();
      if (queue.length === 0 && ended && !ended.ok) throw ended.error;
    },
    first: () => queue[0],
    async *events() {
      for (;;) {
        const next = queue.shift();
        if (next) yield next;
        else if (ended) return;
        else await progress();
      }
    },
    outcome: () => ended as SolveOutcome<R>,
  };
}

/**
 * Runs a solve and streams its progress as server-sent events. The stream opens only once the solve has
 * produced its first event, so a failure before that (e.g. no model configured) is thrown to the caller
 * and answers as an ordinary problem+json with its own status. Events are queued (queueSolve).
 */
export async function streamSolve(
  c: HonoContext,
  log: Logger,
  run: (onEvent: (event: SolveEvent) => void) => Promise<SolveResult>,
): Promise<Response> {
  const solve = queueSolve(run);
  await solve.started();
  return streamSSE(c, async (stream) => {
    for await (const event of solve.events()) {
      const next = solveEventData(event);
      await stream.writeSSE({ event: next.event, data: JSON.stringify(next.data) });
    }
    const ended = solve.outcome();
    if (ended.ok) {
      await stream.writeSSE({ event: "done", data: JSON.stringify(ended.result) });
      return;
    }
    const problem = problemForError(ended.error, c.get("requestId"));
    if (problem.status >= 500) {
      log.error(
        { err: ended.error, requestId: c.get("requestId"), path: c.req.path },
        "solve failed after its event stream started",
      );
    }
    await stream.writeSSE({ event: "error", data: JSON.stringify(problem) });
  });
}
