import { createRoute, z } from "@hono/zod-openapi";
import { getMemory, listMemories, type MemoryView } from "../../memory/browseMemories.js";
import { restoreMemory, retireMemory } from "../../memory/retire.js";
import { MEMORY_SOURCES, MEMORY_STATUSES, VERIFICATIONS } from "../../memory/trust.js";
import { ctxOf } from "../callContext.js";
import { createRouter } from "../createRouter.js";
import { bankParamSchema, pageQuerySchema, problemResponses } from "../schemas.js";

const memorySchema = z
  .object({
    id: z.string(),
    bankId: z.string(),
    problem: z.string(),
    reasoning: z.string(),
    answer: z.string(),
    answerCanonical: z.string(),
    source: z.string(),
    runId: z.string().optional(),
    model: z.string().optional(),
    verification: z.string(),
    verificationDetail: z.record(z.string(), z.unknown()),
    trust: z.number().int(),
    status: z.string(),
    usage: z.object({
      recalled: z.number().int(),
      helped: z.number().int(),
      hurt: z.number().int(),
      support: z.number().int(),
    }),
    utility: z.object({
      prior: z.number().openapi({ description: "(helped + 1) / (recalled + 2): what recall ranks by" }),
      verified: z
        .number()
        .openapi({ description: "(helped + 1) / (helped + hurt + 2): what automatic retirement judges by" }),
    }),
    metadata: z.record(z.string(), z.unknown()),
    version: z.number().int(),
    indexed: z.boolean().openapi({ description: "whether the search index has caught up with this version" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Memory");

const memoryDetailSchema = memorySchema
  .extend({
    recalledBy: z
      .array(
        z.object({
          runId: z.string(),
          rank: z.number().int(),
          finalScore: z.number(),
          verdict: z.string(),
          createdAt: z.string(),
        }),
      )
      .openapi({ description: "the runs that recalled it, newest first (at most 50)" }),
  })
  .openapi("MemoryDetail");

const memoryPageSchema = z
  .object({ memories: z.array(memorySchema), nextCursor: z.string().optional() })
  .openapi("MemoryPage");

const memoryListQuerySchema = pageQuerySchema.extend({
  status: z.enum(MEMORY_STATUSES).optional(),
  verification: z.enum(VERIFICATIONS).optional(),
  source: z.enum(MEMORY_SOURCES).optional(),
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .openapi({ description: "case-insensitive text in the problem, reasoning or answer" }),
});

const memoryParamSchema = bankParamSchema.extend({
  id: z.string().regex(/^mem_[0-9a-z]+$/, "must be a memory id (mem_…)"),
});

function serializeMemory(m: MemoryView) {
  return { ...m, createdAt: m.createdAt.toISOString(), updatedAt: m.updatedAt.toISOString() };
}

export const listMemoriesRoute = createRoute({
  operationId: "listMemories",
  tags: ["memories"],
  method: "get",
  path: "/v1/banks/{bank}/memories",
  summary: "A bank's memories, newest first, filtered by status, verification, source or text",
  request: { params: bankParamSchema, query: memoryListQuerySchema },
  responses: {
    200: {
      description: "a page of memories",
      content: { "application/json": { schema: memoryPageSchema } },
    },
    ...problemResponses(400, 401, 404),
  },
});

export const getMemoryRoute = createRoute({
  operationId: "getMemory",
  tags: ["memories"],
  method: "get",
  path: "/v1/banks/{bank}/memories/{id}",
  summary: "A memory with its provenance, usage and the runs that recalled it",
  request: { params: memoryParamSchema },
  responses: {
    200: { description: "the memory", content: { "application/json": { schema: memoryDetailSchema } } },
    ...problemResponses(400, 401, 404),
  },
});

export const retireMemoryRoute = createRoute({
  operationId: "retireMemory",
  tags: ["memories"],
  method: "post",
  path: "/v1/banks/{bank}/memories/{id}/retire",
  summary: "Retire a memory: kept with its history, never recalled again (no hard delete)",
  request: { params: memoryParamSchema },
  responses: {
    200: { description: "the retired memory", content: { "application/json": { schema: memorySchema } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const restoreMemoryRoute = createRoute({
  operationId: "restoreMemory",
  tags: ["memories"],
  method: "post",
  path: "/v1/banks/{bank}/memories/{id}/restore",
  summary: "Restore a retired memory: active when verified at the bank's write-back tier, else quarantined",
  request: { params: memoryParamSchema },
  responses: {
    200: {
      description: "the restored memory",
      content: { "application/json": { schema: memorySchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

/** Browsing a bank's memories with their provenance and usage, and retiring or restoring one. */
export function memoryRoutes() {
  const app = createRouter();
  app.openapi(listMemoriesRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank } = c.req.valid("param");
    const { limit, cursor, q, ...filter } = c.req.valid("query");
    const page = await listMemories({
      ctx,
      input: { bankId: bank, filter: { ...filter, q: q || undefined }, limit, cursor },
    });
    return c.json({ ...page, memories: page.memories.map(serializeMemory) }, 200);
  });
  app.openapi(getMemoryRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank, id } = c.req.valid("param");
    const memory = await getMemory({ ctx, input: { bankId: bank, id } });
    return c.json(
      {
        ...serializeMemory(memory),
        recalledBy: memory.recalledBy.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })),
      },
      200,
    );
  });
  app.openapi(retireMemoryRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank, id } = c.req.valid("param");
    return c.json(serializeMemory(await retireMemory({ ctx, input: { bankId: bank, id } })), 200);
  });
  app.openapi(restoreMemoryRoute, async (c) => {
    const ctx = ctxOf(c);
    const { bank, id } = c.req.valid("param");
    return c.json(serializeMemory(await restoreMemory({ ctx, input: { bankId: bank, id } })), 200);
  });
  return app;
}
