import { parseArgs } from "node:util";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { createLogger } from "../../log.js";
import { relayMcpOverStdio, serveMcpOverStdio } from "../../mcp/stdio.js";
import { runningServerUrl } from "../serverClient.js";

/**
 * `precedent mcp`: an MCP server on stdin/stdout for desktop clients. While `precedent serve` holds the
 * embedded database it relays to that server's /mcp (with PRECEDENT_API_KEY, else the admin token);
 * otherwise it opens the stores itself. Logs go to stderr: stdout carries the protocol.
 */
export async function mcpCommand(args: string[], config: Config): Promise<number> {
  parseArgs({ args, options: {} });
  const server = runningServerUrl(config);
  if (server) {
    const log = createLogger(config.logLevel);
    await relayMcpOverStdio({ url: server, token: config.clientToken, log });
    return 0;
  }
  const ctx = await openContext(config, { command: "mcp" });
  try {
    await serveMcpOverStdio(ctx);
  } finally {
    await ctx.close();
  }
  return 0;
}
