import type { Context as HonoContext } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "../../log.js";
import type { ChatSolve } from "../../reasoning/chatCompletion.js";
import type { SolveEvent } from "../../reasoning/solveResult.js";
import { problemForError } from "../problem.js";
import { queueSolve } from "../solveStream.js";
import { modelFailedProblem, openAIErrorOf } from "./errors.js";
import { RECALLED_HEADER } from "./request.js";
import { type CompletionMeta, extensionOf, usageOf } from "./response.js";

/**
 * Streams a chat completion as OpenAI's `chat.completion.chunk` server-sent events.
 *
 * The chosen chain is known only once the solve has voted and verified, so the stream opens when the
 * solve produces its first event (recall done): a failure before that (no model, …) answers as an
 * ordinary error with its own status. It then sends the role chunk at once, an SSE comment per pipeline
 * event while sampling (keeps proxies from timing out; clients ignore comments), the content line by line,
 * a final chunk with `finish_reason: "stop"` and the `precedent` extension (run id included), a usage
 * chunk when `stream_options.include_usage` asks for one, then `data: [DONE]`. `X-Precedent-Recalled` is
 * a response header (recall is done when the stream opens); the run id exists only at the end, so it is
 * in the final chunk's `precedent.runId` only. A failure after the stream opened (the model endpoint
 * failing) sends `data: {"error": …}`, which the openai SDK raises as an APIError, and closes the stream.
 */
export async function streamChatCompletion(
  c: HonoContext,
  log: Logger,
  meta: CompletionMeta & { includeUsage: boolean },
  run: (onEvent: (event: SolveEvent) => void) => Promise<ChatSolve>,
): Promise<Response> {
  const solve = queueSolve(run);
  await solve.started();
  const first = solve.first();
  const early = first ? undefined : solve.outcome();
  if (first?.type === "recalled") {
    c.header(RECALLED_HEADER, first.recall.memories.map((m) => m.id).join(","));
  } else if (early?.ok) {
    c.header(RECALLED_HEADER, early.result.result.recalled.map((r) => r.memoryId).join(","));
  }

  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: meta.id,
      object: "chat.completion.chunk",
      created: meta.created,
      model: meta.model,
      choices,
      ...extra,
    });
  const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
    index: 0,
    delta: d,
    logprobs: null,
    finish_reason: finish,
  });

  return streamSSE(c, async (stream) => {
    await stream.writeSSE({ data: chunk([delta({ role: "assistant", content: "" })]) });
    for await (const event of solve.events()) await stream.write(`: ${event.type}\n\n`);
    const ended = solve.outcome();
    if (!ended.ok) {
      const problem = problemForError(ended.error, c.get("requestId"));
      if (problem.status >= 500) {
        log.error(
          { err: ended.error, requestId: c.get("requestId"), path: c.req.path },
          "chat completion failed after its stream started",
        );
      }
      await stream.writeSSE({ data: JSON.stringify(openAIErrorOf(problem)) });
      return;
    }
    const solved = ended.result;
    if (solved.result.status === "failed") {
      await stream.writeSSE({ data: JSON.stringify(openAIErrorOf(modelFailedProblem(solved))) });
      return;
    }
    for (const line of solved.content.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
      await stream.writeSSE({ data: chunk([delta({ content: line })]) });
    }
    await stream.writeSSE({
      data: chunk([delta({}, "stop")], { precedent: extensionOf(meta.bank, solved) }),
    });
    if (meta.includeUsage) await stream.writeSSE({ data: chunk([], { usage: usageOf(solved) }) });
    await stream.writeSSE({ data: "[DONE]" });
  });
}
