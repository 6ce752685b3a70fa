import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { ClientInfo } from "./tools.js";

// What a session id may tell of the client: its handshake's self-declared name and version, bounded
const clientInfoSchema = z.object({
  name: z.string().min(1).max(100),
  version: z.string().max(50).optional(),
});

/**
 * A session id for a client's handshake: its name and version (base64url JSON), then a random UUID. The
 * client sends it back with every request, so a stateless server still knows whom it is answering. It
 * proves nothing (the name is the client's own claim, as in the handshake): it is provenance, never a
 * right; the bearer key decides what a request may do.
 */
export function sessionIdFor(client: ClientInfo): string {
  const info = { name: client.name.slice(0, 100), version: client.version?.slice(0, 50) };
  return `${Buffer.from(JSON.stringify(info)).toString("base64url")}.${randomUUID()}`;
}

/** The client a session id names; undefined for no id or one this server did not issue. */
export function clientFromSessionId(sessionId: string | undefined): ClientInfo | undefined {
  const encoded = sessionId?.split(".")[0];
  if (!encoded) return undefined;
  try {
    const parsed = clientInfoSchema.safeParse(JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
