import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "../../context.js";
import { createBank, getBank, listBanks, newBankSchema } from "../../memory/banks.js";
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
        ...problemResponses(400, 409),
      },
    }),
    async (c) => c.json(serializeBank(await createBank(ctx.db, c.req.valid("json"))), 201),
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
    async (c) => c.json({ banks: (await listBanks(ctx.db)).map(serializeBank) }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/banks/{bank}",
      summary: "Get a bank",
      request: { params: bankParamSchema },
      responses: {
        200: { description: "the bank", content: { "application/json": { schema: bankSchema } } },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json(serializeBank(await getBank(ctx.db, c.req.valid("param").bank)), 200),
  );
  return app;
}
