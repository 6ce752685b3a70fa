import type { Config } from "../../config.js";
import { openContext } from "../../context.js";

/** `precedent migrate`: opening the stores applies pending migrations. */
export async function migrateCommand(_args: string[], config: Config): Promise<number> {
  const ctx = await openContext(config, { command: "migrate" });
  await ctx.close();
  console.log("database is up to date");
  return 0;
}
