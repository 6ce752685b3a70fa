import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { BEARER_AUTH, createApp } from "../src/api/app.js";
import { bankRoutes } from "../src/api/routes/banks.js";
import { DOCS_PATH, OPENAPI_PATH } from "../src/api/routes/docs.js";
import { useTestContext } from "./support/context.js";

const t = useTestContext();

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  summary?: string;
  parameters?: { name: string }[];
  responses: Record<string, unknown>;
}
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

/** Each operation of the document with its method and path. */
function operationsOf(doc: OpenApiDocument): { at: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ at: `${method} ${path}`, op })),
  );
}

async function documentOf(app: ReturnType<typeof createApp>): Promise<OpenApiDocument> {
  const response = await app.request(OPENAPI_PATH);
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

/** "post /v1/banks/{bank}/solve" for each operation of the document. */
function documentedOperations(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => `${method} ${path}`),
  );
}

/** The same for every route the app serves, from hono's own route list (middleware excluded). */
function servedOperations(app: ReturnType<typeof createApp>): string[] {
  const served = app.routes
    .filter((r) => r.method !== "ALL")
    // hono writes /banks/:bank (optionally :bank{regex}); OpenAPI writes /banks/{bank}
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}")}`);
  // each validator of a route is registered as its own handler under the same method and path
  return [...new Set(served)];
}

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const doc = await documentOf(createApp(t.ctx()));
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every API route the app serves, and nothing it does not serve", async () => {
    const app = createApp(t.ctx());
    const served = servedOperations(app);
    const documented = documentedOperations(await documentOf(app));
    // the derivation sees the routes at all
    expect(served).toEqual(expect.arrayContaining(["post /v1/banks/{bank}/solve", "get /healthz"]));
    // the API is everything under /v1; outside it only health (documented) and web pages for people live
    // (the inspector, /docs, the document itself), which are no part of the API
    const api = served.filter((op) => op.split(" ")[1]?.startsWith("/v1/"));
    expect(api.length).toBeGreaterThan(5);
    expect(api.filter((op) => !documented.includes(op))).toEqual([]);
    expect(documented.filter((op) => !served.includes(op))).toEqual([]);
    expect(served).toEqual(expect.arrayContaining([`get ${OPENAPI_PATH}`, `get ${DOCS_PATH}`]));
    expect(documented).not.toContain(`get ${DOCS_PATH}`);
  });

  it("names and tags every operation, each name once", async () => {
    const operations = operationsOf(await documentOf(createApp(t.ctx())));
    expect(operations.length).toBeGreaterThan(20);
    for (const { at, op } of operations) {
      expect(op.operationId, at).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, at).toBeGreaterThan(0);
    }
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("asks for the bearer key on every operation but the health probes", async () => {
    const doc = await documentOf(createApp(t.ctx()));
    expect(doc.components?.securitySchemes?.[BEARER_AUTH]).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ [BEARER_AUTH]: [] }]);
    const open = operationsOf(doc)
      .filter(({ op }) => op.security !== undefined)
      .map(({ at, op }) => ({ at, security: op.security }));
    expect(open).toEqual([
      { at: "get /healthz", security: [] },
      { at: "get /readyz", security: [] },
    ]);
  });

  it("answers a bad request in each router's own error shape, also from a router served on its own", async () => {
    const app = createApp(t.ctx());
    // without its own hook, a router served alone answers zod's raw result as application/json
    const alone = await bankRoutes().request("/v1/banks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: 7 }),
    });
    expect(alone.status).toBe(400);
    expect(alone.headers.get("content-type")).toBe("application/problem+json");
    expect(await alone.json()).toMatchObject({ type: "/problems/validation-error", field: "id" });
    const bad = await app.request("/v1/banks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: 7 }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    const openAI = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: 7 }),
    });
    expect(openAI.status).toBe(400);
    expect(await openAI.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("documents the solve event stream next to its JSON answer", async () => {
    const doc = await documentOf(createApp(t.ctx()));
    const solve = doc.paths["/v1/banks/{bank}/solve"]?.post as unknown as {
      responses: Record<string, { content: Record<string, { schema: { description?: string } }> }>;
    };
    expect(Object.keys(solve.responses["200"]?.content ?? {}).sort()).toEqual([
      "application/json",
      "text/event-stream",
    ]);
    expect(solve.responses["200"]?.content["text/event-stream"]?.schema.description).toMatch(
      /recalled.*sample.*vote.*verified.*done.*error/s,
    );
    expect(Object.keys(solve.responses)).toEqual(expect.arrayContaining(["400", "413", "503"]));
  });
});

describe("the docs page", () => {
  it("is served without authentication, as HTML that loads nothing from anywhere", async () => {
    const app = createApp(t.ctx(), { adminToken: "secret" });
    expect((await app.request("/v1/banks")).status).toBe(401);
    const response = await app.request(DOCS_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|(src|href)="https?:/i);
  });

  it("shows each operation with its method, path, summary, parameters and response codes", async () => {
    const app = createApp(t.ctx());
    const doc = await documentOf(app);
    const html = await (await app.request(DOCS_PATH)).text();
    const asHtml = (s: string) =>
      s
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&#39;");
    const sections = html.split("<section ").slice(1);
    expect(sections).toHaveLength(documentedOperations(doc).length);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item).filter(([m]) => METHODS.includes(m))) {
        const section = sections.find((s) =>
          s.includes(`${method.toUpperCase()}</span> <code>${asHtml(path)}</code>`),
        );
        expect(section, `${method} ${path}`).toBeDefined();
        if (op.summary)
          expect(section).toContain(asHtml(op.summary).replace(/`([^`]+)`/g, "<code>$1</code>"));
        for (const p of op.parameters ?? []) expect(section).toContain(`<code>${asHtml(p.name)}</code>`);
        for (const code of Object.keys(op.responses)) expect(section).toContain(`>${code}</td>`);
      }
    }
  });
});
