import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  InitializeResultSchema,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from "@modelcontextprotocol/sdk/types.js";
import { OPERATOR } from "../auth/principal.js";
import { newId } from "../ids.js";
import type { Logger } from "../log.js";
import type { Services } from "../services.js";
import { MCP_PATH } from "./http.js";
import { createMcpServer } from "./server.js";

/** Resolves once the client closes our stdin (it has gone): the stdio transport itself never says so. */
function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
}

/**
 * Serves MCP on stdin/stdout over these stores, until the client closes stdin. The caller owns the stores
 * (it opened them as the CLI does), so it acts with every right, as the CLI's own commands do.
 */
export async function serveMcpOverStdio(ctx: Services): Promise<void> {
  const transport = new StdioServerTransport();
  const server = createMcpServer({
    ctx: { ...ctx, principal: OPERATOR },
    client: () => server.getClientVersion(),
    requestId: () => newId("req"),
  });
  const closed = stdinClosed();
  await server.connect(transport);
  await closed;
  await server.close();
}

/**
 * Relays MCP between stdin/stdout and the running server's Streamable HTTP endpoint, presenting `token`:
 * what a desktop client sees is exactly what the server's /mcp answers, with that key's rights. A message
 * the server cannot be reached for is answered with a JSON-RPC error, so the client is not left waiting.
 */
export async function relayMcpOverStdio({
  url,
  token,
  log,
}: {
  url: string;
  token?: string;
  log: Logger;
}): Promise<void> {
  const local = new StdioServerTransport();
  const remote = new StreamableHTTPClientTransport(new URL(MCP_PATH, url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
  });
  const handshakes = new Set<string | number>();
  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === "initialize") handshakes.add(message.id);
    remote.send(message).catch((e: Error) => {
      log.warn({ err: e }, "the server did not take an MCP message");
      if (!isJSONRPCRequest(message)) return;
      void local.send({
        jsonrpc: "2.0",
        id: message.id,
        error: { code: -32000, message: `the server at ${url} did not answer: ${e.message}` },
      });
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    // later requests carry the protocol version the handshake agreed on, as the SDK's own client sends it
    if (isJSONRPCResultResponse(message) && handshakes.delete(message.id)) {
      const agreed = InitializeResultSchema.safeParse(message.result);
      if (agreed.success) remote.setProtocolVersion(agreed.data.protocolVersion);
    }
    void local.send(message);
  };
  remote.onerror = (e) => log.warn({ err: e }, "MCP relay to the server");
  const closed = stdinClosed();
  await remote.start();
  await local.start();
  await closed;
  await remote.close();
  await local.close();
}
