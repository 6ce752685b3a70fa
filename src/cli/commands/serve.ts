import type { Config } from "../../config.js";
import { startServer } from "../../server.js";

/** `precedent serve`: runs until SIGINT/SIGTERM, then closes the stores cleanly. */
export async function serveCommand(_args: string[], config: Config): Promise<number> {
  const server = await startServer(config);
  const db =
    config.database.kind === "pglite" ? `embedded database in ${config.database.dataDir}` : "Postgres";
  console.log(`precedent listening on ${server.url} (${db}, index ${config.lanceUri})`);
  if (server.open) {
    console.log(
      "no API key or admin token is configured: listening on 127.0.0.1 only" +
        (server.refusedHost ? ` (not on HOST=${server.refusedHost})` : "") +
        "; set PRECEDENT_ADMIN_TOKEN or create a key with `precedent keys create` to serve other hosts",
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
