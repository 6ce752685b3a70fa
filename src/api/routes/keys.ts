import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  type ApiKeyInfo,
  createApiKey,
  listApiKeys,
  newApiKeySchema,
  revokeApiKey,
} from "../../auth/apiKeys.js";
import { ctxOf } from "../callContext.js";
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

/** Managing API keys; admin only. */
export function keyRoutes(auth: { keysChanged(): void }) {
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: "post",
      path: "/keys",
      summary:
        "Create an API key with scopes (admin, bank:<id>:read, bank:<id>:write); its token is shown once",
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
    }),
    async (c) => {
      const key = await createApiKey({ ctx: ctxOf(c), input: c.req.valid("json") });
      auth.keysChanged();
      return c.json({ ...serializeKey(key), token: key.token }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/keys",
      summary: "List API keys (never their tokens)",
      responses: {
        200: {
          description: "keys, newest first",
          content: { "application/json": { schema: z.object({ keys: z.array(apiKeySchema) }) } },
        },
        ...problemResponses(401, 403),
      },
    }),
    async (c) => {
      return c.json({ keys: (await listApiKeys({ ctx: ctxOf(c) })).map(serializeKey) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/keys/{id}/revoke",
      summary: "Revoke an API key",
      request: { params: keyIdParamSchema },
      responses: {
        200: { description: "the revoked key", content: { "application/json": { schema: apiKeySchema } } },
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const key = await revokeApiKey({ ctx: ctxOf(c), input: { id: c.req.valid("param").id } });
      auth.keysChanged();
      return c.json(serializeKey(key), 200);
    },
  );
  return app;
}
