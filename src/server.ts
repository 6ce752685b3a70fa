import type { ServerType } from "@hono/node-server";
import type { Config } from "./config.js";
import { type OpenContext, openContext } from "./context.js";

export interface RunningServer {
  url: string;
  /** true when no key and no admin token is configured: anyone who can connect may do anything */
  open: boolean;
  /** set when HOST asked for a public address that was refused because the server is open */
  refusedHost?: string;
  ctx: OpenContext;
  close(): Promise<void>;
}

/** Opens the stores, serves the app and records its URL in the lock so CLI commands can find it. */
export async function startServer(config: Config): Promise<RunningServer> {
  // the app's code (its routes and their schemas: a quarter of a second) loads while the stores open
  const [
    ctx,
    { serve },
    { createApp },
    { trackInFlight },
    { createRateLimiter },
    { hasActiveKeys },
    { warmLexicons },
  ] = await Promise.all([
    openContext(config, { command: "serve" }),
    import("@hono/node-server"),
    import("./api/app.js"),
    import("./api/inFlight.js"),
    import("./api/rateLimit.js"),
    import("./auth/apiKeys.js"),
    import("./memory/warmLexicons.js"),
  ]);
  const app = createApp(ctx, {
    adminToken: config.adminToken,
    metricsToken: config.metricsToken,
    rateLimiter: createRateLimiter(config.rateLimit),
  });
  let server: ServerType | undefined;
  try {
    const open = !config.adminToken && !(await hasActiveKeys(ctx.db));
    const inFlight = trackInFlight((request, ...rest) => app.fetch(request, ...(rest as [])));
    // an open server must not be reachable from other machines
    const hostname = open && !isLoopback(config.http.host) ? "127.0.0.1" : config.http.host;
    const address = await new Promise<{ port: number }>((resolve, reject) => {
      server = serve({ fetch: inFlight.fetch, port: config.http.port, hostname }, (info) => resolve(info));
      server.once("error", reject);
    });
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const url = `http://${host}:${address.port}`;
    ctx.lock?.update({ url });
    const warmUntil = { stopped: false };
    const warming = warmLexicons(ctx, warmUntil).catch((err) =>
      ctx.log.warn({ err }, "lexicon warm-up stopped"),
    );
    return {
      url,
      open,
      ...(hostname !== config.http.host ? { refusedHost: config.http.host } : {}),
      ctx,
      async close() {
        // no new connections; then the requests still being served (a solve whose client hung up goes on to
        // store its run) finish before the stores close
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
        await inFlight.drained();
        warmUntil.stopped = true;
        await warming;
        await ctx.close();
      },
    };
  } catch (e) {
    await ctx.close();
    throw e;
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
