import { timingSafeEqual } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { assertAdmin } from "../../auth/scopes.js";
import type { Metrics } from "../../metrics/metrics.js";
import { type Authentication, bearerToken } from "../auth.js";
import { type ServicesSource, servicesOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";

/** Times every request into the metrics, by the route pattern that answered it (not the raw path). */
export function requestMetrics(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = routePath(c, -1);
      // only middleware matched (a wildcard): no route answered, and raw paths would explode the labels
      const label = route.endsWith("*") ? "unmatched" : route;
      metrics.request(label, c.req.method, c.res.status, (performance.now() - started) / 1000);
    }
  };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const metricsRoute = createRoute({
  operationId: "metrics",
  tags: ["operations"],
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics: request and solve-stage latency, model requests and tokens, queue, index lag",
  description:
    "Needs an admin key or PRECEDENT_METRICS_TOKEN (open on a server with no keys). Counters start at 0 with the process.",
  responses: {
    200: { description: "the metrics", content: { "text/plain": { schema: z.string() } } },
  },
});

/** GET /metrics in the Prometheus text format: for an admin key, or the metrics token. */
export function metricsRoutes(
  source: ServicesSource,
  metrics: Metrics,
  auth: Authentication,
  metricsToken?: string,
) {
  const app = createRouter();
  app.openapi(metricsRoute, async (c) => {
    const { db } = servicesOf(source, c);
    const token = bearerToken(c);
    if (!(metricsToken && token && sameToken(token, metricsToken)))
      assertAdmin(await auth.identify(db, token));
    return c.text(await metrics.scrape(db), 200, { "content-type": metrics.registry.contentType });
  });
  return app;
}
