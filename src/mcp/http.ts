import { StreamableHTTPTransport } from "@hono/mcp";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ctxOf } from "../api/callContext.js";
import { formatBytes, MAX_JSON_BODY_BYTES } from "../api/limits.js";
import { PrecedentError } from "../errors.js";
import { clientFromSessionId, sessionIdFor } from "./clientSession.js";
import { createMcpServer } from "./server.js";

/** The path of the Streamable HTTP endpoint. */
export const MCP_PATH = "/mcp";

const jsonRpcError = (code: number, message: string) => ({
  jsonrpc: "2.0",
  error: { code, message },
  id: null,
});

/**
 * MCP over Streamable HTTP at /mcp, behind the same bearer keys, scopes and rate limits as /v1 (the app
 * applies them). Stateless: each POST is served by a server of its own for the request's principal, so any
 * replica (or a Worker) can answer any request and nothing is kept between them; the session id only
 * carries the client's name from the handshake, for the provenance of what it remembers. A solve's
 * progress streams as server-sent events on its own POST, so there is no standalone GET stream.
 */
export function mcpRoutes() {
  const app = new Hono();
  app.get(MCP_PATH, (c) =>
    c.json(jsonRpcError(-32000, "this server sends messages only in answer to a POST"), 405, {
      Allow: "POST, DELETE",
    }),
  );
  // nothing to end: no request leaves state behind
  app.delete(MCP_PATH, (c) => c.body(null, 200));
  app.post(
    MCP_PATH,
    bodyLimit({
      maxSize: MAX_JSON_BODY_BYTES,
      onError: () => {
        throw new PrecedentError(
          "too_large",
          `the request body exceeds the ${formatBytes(MAX_JSON_BODY_BYTES)} this route accepts`,
          "body",
        );
      },
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json(jsonRpcError(-32700, "the body is not JSON"), 400);
      }
      const handshake = isInitializeRequest(body) ? body.params.clientInfo : undefined;
      const client = handshake ?? clientFromSessionId(c.req.header("mcp-session-id"));
      const server = createMcpServer({
        ctx: ctxOf(c),
        client: () => client,
        requestId: () => c.get("requestId"),
      });
      const transport = new StreamableHTTPTransport();
      await server.connect(transport);
      if (handshake) c.header("mcp-session-id", sessionIdFor(handshake));
      return transport.handleRequest(c, body);
    },
  );
  return app;
}
