import { parseArgs } from "node:util";
import { type ApiKeyInfo, createApiKey, listApiKeys, revokeApiKey } from "../../auth/apiKeys.js";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { PrecedentError } from "../../errors.js";
import { runningServerUrl, serverJson } from "../serverClient.js";

/** A key as this command prints it, whether it came from the database or over HTTP. */
type KeyLike = Omit<ApiKeyInfo, "createdAt" | "revokedAt"> & { revokedAt?: Date | string; token?: string };

interface KeyOperations {
  create(name: string, scopes: string[]): Promise<KeyLike>;
  list(): Promise<KeyLike[]>;
  revoke(id: string): Promise<KeyLike>;
}

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
  const print = (value: unknown, text: string) =>
    console.log(values.json ? JSON.stringify(value, null, 2) : text);
  await withKeys(config, `keys ${action}`, async (keys) => {
    if (action === "create") {
      const key = await keys.create(values.name ?? "", values.scope ?? []);
      print(key, `${formatKey(key)}\ntoken (shown once, store it now): ${key.token}`);
    } else if (action === "list") {
      const list = await keys.list();
      print(list, list.length ? list.map(formatKey).join("\n") : "no keys");
    } else {
      const id = positionals[0];
      if (!id) throw new PrecedentError("invalid_input", "usage: precedent keys revoke <key-id>", "id");
      const key = await keys.revoke(id);
      print(key, formatKey(key));
    }
  });
  return 0;
}

/** Runs `fn` against the database, or through the running server when it holds the embedded database. */
async function withKeys(config: Config, command: string, fn: (keys: KeyOperations) => Promise<void>) {
  const url = runningServerUrl(config);
  if (url) {
    return fn({
      create: (name, scopes) =>
        serverJson(config, url, "/v1/keys", { method: "POST", body: { name, scopes } }),
      list: async () => (await serverJson<{ keys: KeyLike[] }>(config, url, "/v1/keys")).keys,
      revoke: (id) =>
        serverJson(config, url, `/v1/keys/${encodeURIComponent(id)}/revoke`, { method: "POST" }),
    });
  }
  const ctx = await openContext(config, { command });
  try {
    await fn({
      create: (name, scopes) => createApiKey({ ctx, input: { name, scopes } }),
      list: () => listApiKeys({ ctx }),
      revoke: (id) => revokeApiKey({ ctx, input: { id } }),
    });
  } finally {
    await ctx.close();
  }
}

function formatKey(key: KeyLike): string {
  const state = key.revokedAt ? `revoked ${new Date(key.revokedAt).toISOString()}` : "active";
  return `${key.id}  ${state}  ${key.scopes.join(" ")}${key.name ? `  "${key.name}"` : ""}`;
}
