import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type ChatBehavior, createSampler, messageText } from "./fakeOpenAI/behaviors.js";
import { completionChunks, completionResponse, tokenize } from "./fakeOpenAI/chat.js";
import { approxTokens, createEmbeddings } from "./fakeOpenAI/embeddings.js";
import { FakeRequestError } from "./fakeOpenAI/errors.js";
import { seededRng } from "./fakeOpenAI/random.js";
import type { ChatRequest, Sample } from "./fakeOpenAI/sampler.js";

export type { ChatBehavior } from "./fakeOpenAI/behaviors.js";
export { GSM8K_MODEL_SOLUTIONS } from "./fakeOpenAI/behaviors.js";
export type { Branch } from "./fakeOpenAI/branching.js";
export { embedText } from "./fakeOpenAI/embeddings.js";
export { SELECTION_MARKER } from "./fakeOpenAI/freeText.js";
export type { Rng } from "./fakeOpenAI/random.js";
export type { ChatRequest, Sample } from "./fakeOpenAI/sampler.js";

/** One request as the fake received it, for assertions. */
export interface RecordedRequest {
  method: string;
  /** e.g. /v1/chat/completions */
  path: string;
  /** the parsed JSON body; the raw text when it was not JSON */
  body: unknown;
  authorization: string | undefined;
  /** the HTTP status it was answered with, once answered */
  status?: number;
}

export interface FakeOpenAIOptions {
  behavior?: ChatBehavior;
  /** delay before each answer, to make concurrency observable */
  latencyMs?: number;
  /** vector size when the request names no `dimensions` (default 64) */
  embeddingDimensions?: number;
  /** false: answer one choice whatever `n` asks, as servers without `n` do (default true) */
  supportsN?: boolean;
  /** false: ignore `logprobs: true` and answer `logprobs: null` (default true) */
  supportsLogprobs?: boolean;
  /**
   * false: refuse `continue_final_message` (an assistant prefix to continue) with 400, as OpenAI does with
   * an argument it does not know (default true: continue it, as vLLM does)
   */
  supportsPrefix?: boolean;
  /** seeds every sample's random source; same seed, same requests → same answers (default 0) */
  seed?: number;
  /** when set, requests without `Authorization: Bearer <key>` get 401 */
  requireApiKey?: string;
}

export interface FakeOpenAI {
  /** base URL including /v1, for `new OpenAI({ baseURL })` */
  url: string;
  requests: RecordedRequest[];
  /** the most requests it was answering at one time */
  maxInFlight(): number;
  setBehavior(behavior: ChatBehavior): void;
  /** the next n requests (any route) fail with this status (default 500) and an OpenAI error body */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

const DEFAULT_BEHAVIOR: ChatBehavior = { kind: "fixed", content: "fake completion" };

function send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown): void {
  record.status = status;
  res.writeHead(status, {
    "content-type": "application/json",
    // OpenAI's hint to back off this long; keeps the SDK's retries in tests to milliseconds, not seconds
    ...(status === 429 || status >= 500 ? { "retry-after-ms": "5" } : {}),
  });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The sample cut to `max_tokens` tokens, as a server stops generating there. */
function truncated(sample: Sample, maxTokens: number | undefined): Sample {
  if (maxTokens === undefined) return sample;
  return { ...sample, content: tokenize(sample.content).slice(0, maxTokens).join("") };
}

/** Starts a fake OpenAI-compatible model server on a free port of 127.0.0.1. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const seed = options.seed ?? 0;
  const dimensions = options.embeddingDimensions ?? 64;
  const requests: RecordedRequest[] = [];
  const failures: number[] = [];
  let sampler = createSampler(options.behavior ?? DEFAULT_BEHAVIOR);
  let chatCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  function chat(body: Record<string, unknown>, res: ServerResponse, record: RecordedRequest): void {
    if (typeof body.model !== "string") throw new FakeRequestError(400, "'model' is required");
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new FakeRequestError(400, "'messages' must be a non-empty array");
    }
    const request = body as unknown as ChatRequest;
    const asked = request.n ?? 1;
    if (!Number.isInteger(asked) || asked < 1 || asked > 128) {
      throw new FakeRequestError(400, "'n' must be an integer from 1 to 128");
    }
    const n = options.supportsN === false ? 1 : asked;
    if (options.supportsPrefix === false && body.continue_final_message !== undefined) {
      throw new FakeRequestError(400, "Unrecognized request argument supplied: continue_final_message");
    }
    const requestNumber = chatCount++;
    // temperature 0 is greedy decoding: every sample of the same prompt comes out the same
    const greedy = request.temperature === 0;
    const prompt = request.messages.map(messageText).join("\n");
    const limit = request.max_tokens ?? undefined;
    const samples = Array.from({ length: n }, (_, i) =>
      truncated(
        sampler(request, i, greedy ? seededRng(seed, "greedy", prompt) : seededRng(seed, requestNumber, i)),
        limit,
      ),
    );
    const completion = {
      id: `chatcmpl-fake${requestNumber}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      samples,
      logprobs: options.supportsLogprobs !== false && request.logprobs === true,
      topLogprobs: request.top_logprobs ?? 0,
      promptTokens: approxTokens(prompt),
    };
    if (!request.stream) {
      send(res, record, 200, completionResponse(completion));
      return;
    }
    record.status = 200;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const includeUsage = request.stream_options?.include_usage === true;
    for (const chunk of completionChunks(completion, includeUsage)) {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end("data: [DONE]\n\n");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      body: raw,
      authorization: req.headers.authorization,
    };
    requests.push(record);
    let json: unknown;
    let malformed = false;
    try {
      json = raw === "" ? undefined : JSON.parse(raw);
      record.body = json;
    } catch {
      malformed = true;
    }
    if (options.latencyMs) await sleep(options.latencyMs);
    try {
      const failure = failures.shift();
      if (failure !== undefined) throw new FakeRequestError(failure, "injected failure (failNext)");
      if (options.requireApiKey && req.headers.authorization !== `Bearer ${options.requireApiKey}`) {
        throw new FakeRequestError(401, "Incorrect API key provided.");
      }
      const route = `${req.method} ${path}`;
      if (route === "GET /v1/models") {
        return send(res, record, 200, { object: "list", data: [{ id: "fake-model", object: "model" }] });
      }
      if (route !== "POST /v1/embeddings" && route !== "POST /v1/chat/completions") {
        throw new FakeRequestError(404, `Unknown route: ${route}`);
      }
      if (malformed) throw new FakeRequestError(400, "The request body is not valid JSON.");
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        throw new FakeRequestError(400, "The request body is not a JSON object.");
      }
      const body = json as Record<string, unknown>;
      if (route === "POST /v1/embeddings") return send(res, record, 200, createEmbeddings(body, dimensions));
      return chat(body, res, record);
    } catch (e) {
      // anything else is a bug in a scripted behaviour: answer 500 with its message rather than hang
      const error = e instanceof FakeRequestError ? e : new FakeRequestError(500, `fake server: ${e}`);
      if (res.headersSent) res.end();
      else send(res, record, error.status, error);
    }
  }

  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    handle(req, res)
      .catch(() => res.destroy())
      .finally(() => inFlight--);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    maxInFlight: () => maxInFlight,
    setBehavior(behavior) {
      sampler = createSampler(behavior);
    },
    failNext(n, status = 500) {
      for (let i = 0; i < n; i++) failures.push(status);
    },
    close() {
      // the SDK keeps connections alive; without this close() would wait for them to time out
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
