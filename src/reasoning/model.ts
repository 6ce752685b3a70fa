import OpenAI from "openai";

/** The chat model a solve samples from: any OpenAI-compatible endpoint. */
export interface ModelClient {
  client: OpenAI;
  name: string;
}

/** A client for the configured endpoint, with the SDK's retries on 429, 5xx and connection errors. */
export function createModelClient(options: {
  name: string;
  baseURL?: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
}): ModelClient {
  return {
    name: options.name,
    client: new OpenAI({
      baseURL: options.baseURL,
      // local servers (Ollama, vLLM, llama.cpp) take any key; the SDK insists on one
      apiKey: options.apiKey ?? "unused",
      timeout: options.timeoutMs ?? 120_000,
      maxRetries: options.maxRetries ?? 2,
    }),
  };
}
