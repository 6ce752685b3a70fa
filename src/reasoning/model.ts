import type OpenAI from "openai";
import type { CapabilityCache } from "./endpointCapabilities.js";
import { createModelGate, type ModelGate } from "./modelGate.js";

/** The chat model a solve samples from: any OpenAI-compatible endpoint. */
export interface ModelClient {
  /** the SDK's client, loaded on the first solve: commands that only recall never load the SDK */
  client(): Promise<OpenAI>;
  name: string;
  /** the endpoint's base URL, as capabilities are keyed */
  endpoint: string;
  /** what the endpoint was found able to do (CoT-decoding), detected once per process */
  capabilities: CapabilityCache;
  /** every request to the model passes through it: at most `gate.limit` at once, the rest queue */
  gate: ModelGate;
}

export const DEFAULT_MODEL_CONCURRENCY = 8;
export const DEFAULT_MODEL_TIMEOUT_MS = 120_000;
export const DEFAULT_MODEL_MAX_RETRIES = 2;
/** The SDK's base URL when none is configured. */
const OPENAI_BASE_URL = "https://api.openai.com/v1";

/**
 * A client for the configured endpoint: each request times out after `timeoutMs`, and 408/409/429, 5xx,
 * timeouts and connection errors are retried up to `maxRetries` times with the SDK's exponential backoff
 * (with jitter, honouring Retry-After); at most `concurrency` requests are in flight at once.
 */
export function createModelClient(options: {
  name: string;
  baseURL?: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  concurrency?: number;
}): ModelClient {
  let client: Promise<OpenAI> | undefined;
  return {
    name: options.name,
    endpoint: options.baseURL ?? OPENAI_BASE_URL,
    capabilities: new Map(),
    client() {
      client ??= import("openai").then(
        ({ default: SDK }) =>
          new SDK({
            baseURL: options.baseURL,
            // local servers (Ollama, vLLM, llama.cpp) take any key; the SDK insists on one
            apiKey: options.apiKey ?? "unused",
            timeout: options.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS,
            maxRetries: options.maxRetries ?? DEFAULT_MODEL_MAX_RETRIES,
          }),
      );
      return client;
    },
    gate: createModelGate(options.concurrency ?? DEFAULT_MODEL_CONCURRENCY),
  };
}
