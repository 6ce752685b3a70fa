import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/database.js";
import { apiKeys } from "../db/schema.js";
import { notFound, PrecedentError } from "../errors.js";
import { newId } from "../ids.js";
import type { CallContext } from "../services.js";
import { recordAction } from "./audit.js";
import type { Principal } from "./principal.js";
import { assertAdmin, scopeSchema } from "./scopes.js";

export const newApiKeySchema = z
  .object({
    name: z.string().max(200).default(""),
    scopes: z.array(scopeSchema).min(1, "a key needs at least one scope").max(100),
  })
  .strict();
export type NewApiKey = z.input<typeof newApiKeySchema>;

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  revokedAt?: Date;
}

/** A key is `pk_<id>_<secret>`; only the SHA-256 of the whole token is stored (the secret has 256 bits). */
function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function toInfo(row: typeof apiKeys.$inferSelect): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.createdAt,
    ...(row.revokedAt ? { revokedAt: row.revokedAt } : {}),
  };
}

/** Creates an API key (administrators only); the token is returned once and never stored. */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: Pick<CallContext, "db" | "principal">;
  input: NewApiKey;
}): Promise<ApiKeyInfo & { token: string }> {
  assertAdmin(ctx.principal);
  const parsed = newApiKeySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "scopes";
    throw new PrecedentError("invalid_input", `${field}: ${issue?.message ?? "invalid"}`, field);
  }
  const { name, scopes } = parsed.data;
  const id = newId("key");
  const token = `pk_${id.slice(4)}_${randomBytes(32).toString("base64url")}`;
  const row = await ctx.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(apiKeys)
      .values({ id, name, scopes: [...new Set(scopes)], hash: hashToken(token) })
      .returning();
    if (!inserted) throw new Error("inserting the key returned no row");
    await recordAction({ ...ctx, db: tx }, "key.create", {
      subject: id,
      detail: { scopes: inserted.scopes },
    });
    return inserted;
  });
  return { ...toInfo(row), token };
}

/** Every key, newest first, revoked ones included (without their secrets, which are not stored); administrators only. */
export async function listApiKeys({
  ctx,
}: {
  ctx: Pick<CallContext, "db" | "principal">;
  input?: Record<string, never>;
}): Promise<ApiKeyInfo[]> {
  assertAdmin(ctx.principal);
  const rows = await ctx.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  return rows.map(toInfo);
}

/** Revokes a key (administrators only); revoking it again is harmless. */
export async function revokeApiKey({
  ctx,
  input: { id },
}: {
  ctx: Pick<CallContext, "db" | "principal">;
  input: { id: string };
}): Promise<ApiKeyInfo> {
  assertAdmin(ctx.principal);
  const row = await ctx.db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.id, id))
      .returning();
    if (!revoked) throw notFound("key", id, "id");
    await recordAction({ ...ctx, db: tx }, "key.revoke", { subject: id });
    return revoked;
  });
  return toInfo(row);
}

/** Whether any unrevoked key exists, which turns authentication on. */
export async function hasActiveKeys(db: Database): Promise<boolean> {
  const [row] = await db.select({ id: apiKeys.id }).from(apiKeys).where(isNull(apiKeys.revokedAt)).limit(1);
  return row !== undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Resolves a bearer token to its principal: the admin token from the environment, or an unrevoked key.
 * Undefined for anything else.
 */
export async function principalForToken(
  db: Database,
  token: string,
  adminToken?: string,
): Promise<Principal | undefined> {
  if (adminToken && sameSecret(token, adminToken)) return { kind: "admin-token" };
  if (!token.startsWith("pk_")) return undefined;
  const [row] = await db
    .select({ id: apiKeys.id, scopes: apiKeys.scopes })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hashToken(token)), isNull(apiKeys.revokedAt)));
  return row ? { kind: "key", keyId: row.id, scopes: row.scopes } : undefined;
}
