import { type ServerType, serve } from "@hono/node-server";
import { createApp } from "./api/app.js";
import type { Config } from "./config.js";
import { type OpenContext, openContext } from "./context.js";

export interface RunningServer {
  url: string;
  ctx: OpenContext;
  close(): Promise<void>;
}

/** Opens the stores, serves the app and records its URL in the lock so CLI commands can find it. */
export async function startServer(config: Config): Promise<RunningServer> {
  const ctx = await openContext(config, { command: "serve" });
  const app = createApp(ctx, { adminToken: config.adminToken });
  let server: ServerType | undefined;
  try {
    const address = await new Promise<{ port: number }>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: config.http.port, hostname: config.http.host }, (info) =>
        resolve(info),
      );
      server.once("error", reject);
    });
    const host = config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host;
    const url = `http://${host}:${address.port}`;
    ctx.lock?.update({ url });
    return {
      url,
      ctx,
      async close() {
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
        await ctx.close();
      },
    };
  } catch (e) {
    await ctx.close();
    throw e;
  }
}
