import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { canAccessBank } from "../../auth/scopes.js";
import type { Context } from "../../context.js";
import { createBank, getBank, listBanks, newBankSchema } from "../../memory/banks.js";
import { principalOf, requireAdmin, requireBankAccess } from "../auth.js";
import { bankParamSchema, bankSchema, problemResponses, serializeBank } from "../schemas.js";

/** Creating, listing and reading banks. */
export function bankRoutes(ctx: Context) {
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: "post",
      path: "/banks",
      summary: "Create a bank",
      request: { body: { content: { "application/json": { schema: newBankSchema } }, required: true } },
      responses: {
        201: { description: "created", content: { "application/json": { schema: bankSchema } } },
        ...problemResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      requireAdmin(c);
      return c.json(serializeBank(await createBank(ctx.db, c.req.valid("json"))), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/banks",
      summary: "List banks",
      responses: {
        200: {
          description: "banks",
          content: { "application/json": { schema: z.object({ banks: z.array(bankSchema) }) } },
        },
      },
    }),
    async (c) => {
      const principal = principalOf(c);
      const visible = (await listBanks(ctx.db)).filter((b) => canAccessBank(principal, b.id, "read"));
      return c.json({ banks: visible.map(serializeBank) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/banks/{bank}",
      summary: "Get a bank",
      request: { params: bankParamSchema },
      responses: {
        200: { description: "the bank", content: { "application/json": { schema: bankSchema } } },
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      const { bank } = c.req.valid("param");
      requireBankAccess(c, bank, "read");
      return c.json(serializeBank(await getBank(ctx.db, bank)), 200);
    },
  );
  return app;
}
