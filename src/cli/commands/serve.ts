import type { Config } from "../../config.js";
import { startServer } from "../../server.js";

/** `precedent serve`: runs until SIGINT/SIGTERM, then closes the stores cleanly. */
export async function serveCommand(_args: string[], config: Config): Promise<number> {
  const server = await startServer(config);
  const db =
    config.database.kind === "pglite" ? `embedded database in ${config.database.dataDir}` : "Postgres";
  const index = config.index === "postgres" ? "index in the database" : `index ${config.lanceUri}`;
  const lines = [`precedent listening on ${server.url} (${db}, ${index})`];
  if (server.open) {
    lines.push(
      "no API key or admin token is configured: listening on 127.0.0.1 only" +
        (server.refusedHost ? ` (not on HOST=${server.refusedHost})` : "") +
        "; set PRECEDENT_ADMIN_TOKEN or create a key with `precedent keys create` to serve other hosts",
    );
  }
  // one write, so whoever waits for "listening on" reads the warning with it
  console.log(lines.join("\n"));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
