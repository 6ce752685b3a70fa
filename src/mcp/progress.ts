import type { SolveEvent } from "../reasoning/solveResult.js";

/** A solve's progress event in words, as an MCP progress notification carries it. */
export function progressMessage(event: SolveEvent): string {
  switch (event.type) {
    case "recalled": {
      const ids = event.recall.memories.map((m) => m.id);
      return ids.length > 0
        ? `recalled ${ids.length} ${ids.length === 1 ? "memory" : "memories"}: ${ids.join(", ")}`
        : "recalled no memory (abstained)";
    }
    case "sample":
      return `sample ${event.sample.index + 1}: answer ${event.sample.answer ?? "(none)"}`;
    case "vote":
      return event.vote.winner
        ? `vote: ${event.vote.winner.display} (share ${event.vote.confidence.toFixed(2)})`
        : "vote: no answer";
    case "selected":
      return event.selection.fallback
        ? `selected: ${event.selection.fallback}`
        : `selected: sample ${event.selection.sample} (${event.selection.agreeing} of ${event.selection.of} agree)`;
    case "verified":
      return `verified: ${event.verification.verdict} by ${event.verification.verification} (${event.verification.reason})`;
  }
}
