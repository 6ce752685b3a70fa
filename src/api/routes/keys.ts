import { createRoute, z } from "@hono/zod-openapi";
import {
  type ApiKeyInfo,
  createApiKey,
  listApiKeys,
  newApiKeySchema,
  revokeApiKey,
} from "../../auth/apiKeys.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { problemResponses } from "../schemas.js";

const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    revokedAt: z.string().optional(),
  })
  .openapi("ApiKey");

const keyIdParamSchema = z.object({ id: z.string().regex(/^key_[0-9a-z]+$/, "must be a key id (key_…)") });

function serializeKey(key: ApiKeyInfo) {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    createdAt: key.createdAt.toISOString(),
    ...(key.revokedAt ? { revokedAt: key.revokedAt.toISOString() } : {}),
  };
}

export const createKeyRoute = createRoute({
  operationId: "createApiKey",
  tags: ["keys"],
  method: "post",
  path: "/v1/keys",
  summary: "Create an API key with scopes (admin, bank:<id>:read, bank:<id>:write); its token is shown once",
  request: { body: { content: { "application/json": { schema: newApiKeySchema } }, required: true } },
  responses: {
    201: {
      description: "the key and its token",
      content: {
        "application/json": {
          schema: apiKeySchema.extend({ token: z.string() }).openapi("NewApiKeyToken"),
        },
      },
    },
    ...problemResponses(400, 401, 403),
  },
});

export const listKeysRoute = createRoute({
  operationId: "listApiKeys",
  tags: ["keys"],
  method: "get",
  path: "/v1/keys",
  summary: "List API keys (never their tokens)",
  responses: {
    200: {
      description: "keys, newest first",
      content: { "application/json": { schema: z.object({ keys: z.array(apiKeySchema) }) } },
    },
    ...problemResponses(401, 403),
  },
});

export const revokeKeyRoute = createRoute({
  operationId: "revokeApiKey",
  tags: ["keys"],
  method: "post",
  path: "/v1/keys/{id}/revoke",
  summary: "Revoke an API key",
  request: { params: keyIdParamSchema },
  responses: {
    200: { description: "the revoked key", content: { "application/json": { schema: apiKeySchema } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

/** Managing API keys; admin only. */
export function keyRoutes(auth: { keysChanged(): void }) {
  const app = createRouter();
  app.openapi(createKeyRoute, async (c) => {
    const key = await createApiKey({ ctx: ctxOf(c), input: c.req.valid("json") });
    auth.keysChanged();
    return c.json({ ...serializeKey(key), token: key.token }, 201);
  });
  app.openapi(listKeysRoute, async (c) => {
    return c.json({ keys: (await listApiKeys({ ctx: ctxOf(c) })).map(serializeKey) }, 200);
  });
  app.openapi(revokeKeyRoute, async (c) => {
    const key = await revokeApiKey({ ctx: ctxOf(c), input: { id: c.req.valid("param").id } });
    auth.keysChanged();
    return c.json(serializeKey(key), 200);
  });
  return app;
}
