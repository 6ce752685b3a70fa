import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { createApp } from "../../src/api/app.js";

/** The name the test clients give in their handshake. */
export const CLIENT = { name: "precedent-test-agent", version: "1.2.3" };

/** Serves the app on a free port of 127.0.0.1, as `precedent serve` does. */
export async function listen(
  app: ReturnType<typeof createApp>,
): Promise<{ url: string; close(): Promise<void> }> {
  let server: ReturnType<typeof serve> | undefined;
  const { port } = await new Promise<AddressInfo>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(info));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server?.close(() => resolve());
      }),
  };
}

/** An MCP client connected over Streamable HTTP to the server's /mcp, presenting `token` when given. */
export async function connectHttp(url: string, token?: string): Promise<Client> {
  const client = new Client(CLIENT);
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
  });
  await client.connect(transport);
  return client;
}

/** A tool call's structured result; fails the test when the tool reported an error. */
export function structured<T = Record<string, unknown>>(result: unknown): T {
  const r = result as CallToolResult;
  if (r.isError) throw new Error(`the tool failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent as T;
}

/** The problem a failed tool call carries (its text is the problem as JSON). */
export function toolProblem(result: unknown): {
  type: string;
  status: number;
  detail: string;
  field?: string;
} {
  const r = result as CallToolResult;
  if (!r.isError) throw new Error(`the tool succeeded: ${JSON.stringify(r.structuredContent)}`);
  const text = r.content[0]?.type === "text" ? r.content[0].text : "";
  return JSON.parse(text);
}
