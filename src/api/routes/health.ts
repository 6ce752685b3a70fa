import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { type ServicesSource, servicesOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";

const checkSchema = z.object({ ok: z.boolean(), error: z.string().optional() });
const readySchema = z.object({
  status: z.enum(["ready", "unavailable"]),
  database: checkSchema,
  index: checkSchema,
});

async function check(run: () => Promise<unknown>) {
  try {
    await run();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

export const healthRoute = createRoute({
  operationId: "health",
  tags: ["operations"],
  security: [],
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  responses: {
    200: {
      description: "alive",
      content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
    },
  },
});

export const readinessRoute = createRoute({
  operationId: "readiness",
  tags: ["operations"],
  security: [],
  method: "get",
  path: "/readyz",
  summary: "Readiness: database and index reachable",
  responses: {
    200: { description: "ready", content: { "application/json": { schema: readySchema } } },
    503: { description: "not ready", content: { "application/json": { schema: readySchema } } },
  },
});

/** Liveness (the process answers) and readiness (database and index reachable). */
export function healthRoutes(source: ServicesSource) {
  const app = createRouter();
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readinessRoute, async (c) => {
    const ctx = servicesOf(source, c);
    const [database, index] = await Promise.all([
      check(() => ctx.db.execute(sql`select 1`)),
      check(() => ctx.index.ping()),
    ]);
    const ready = database.ok && index.ok;
    return c.json(
      { status: ready ? ("ready" as const) : ("unavailable" as const), database, index },
      ready ? 200 : 503,
    );
  });
  return app;
}
