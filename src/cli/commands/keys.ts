import { parseArgs } from "node:util";
import { type ApiKeyInfo, createApiKey, listApiKeys, revokeApiKey } from "../../auth/apiKeys.js";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";

/** `precedent keys create|list|revoke`: manages the bearer keys the REST API accepts. */
export async function keysCommand(args: string[], config: Config): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      scope: { type: "string", multiple: true },
      name: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (action !== "create" && action !== "list" && action !== "revoke") {
    throw new PrecedentError("invalid_input", "usage: precedent keys create|list|revoke", "action");
  }
  const ctx = await openContext(config, { command: `keys ${action}` });
  try {
    if (action === "create") {
      const key = await createApiKey({ ctx, input: { name: values.name ?? "", scopes: values.scope ?? [] } });
      if (values.json) console.log(JSON.stringify(key, null, 2));
      else console.log(`${formatKey(key)}\ntoken (shown once, store it now): ${key.token}`);
    } else if (action === "list") {
      const keys = await listApiKeys({ ctx });
      if (values.json) console.log(JSON.stringify(keys, null, 2));
      else console.log(keys.length ? keys.map(formatKey).join("\n") : "no keys");
    } else {
      const id = positionals[0];
      if (!id) throw new PrecedentError("invalid_input", "usage: precedent keys revoke <key-id>", "id");
      const key = await revokeApiKey({ ctx, id });
      console.log(values.json ? JSON.stringify(key, null, 2) : formatKey(key));
    }
  } finally {
    await ctx.close();
  }
  return 0;
}

function formatKey(key: ApiKeyInfo): string {
  const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active";
  return `${key.id}  ${state}  ${key.scopes.join(" ")}${key.name ? `  "${key.name}"` : ""}`;
}
