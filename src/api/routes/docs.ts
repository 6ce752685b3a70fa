import { Hono } from "hono";
import { z } from "zod";

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = "/openapi.json";
/** Where its human-readable page is served. */
export const DOCS_PATH = "/docs";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

// Only what the page shows; every other part of the document is ignored, not rejected
const parameterSchema = z.object({
  name: z.string().optional(),
  in: z.string().optional(),
  required: z.boolean().optional(),
  description: z.string().optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
  $ref: z.string().optional(),
});
const operationSchema = z.object({
  summary: z.string().optional(),
  description: z.string().optional(),
  parameters: z.array(parameterSchema).optional(),
  requestBody: z
    .object({ required: z.boolean().optional(), content: z.record(z.string(), z.unknown()).optional() })
    .optional(),
  responses: z
    .record(
      z.string(),
      z.object({
        description: z.string().optional(),
        content: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
});
const documentSchema = z.object({
  info: z.object({ title: z.string(), version: z.string(), description: z.string().optional() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] as string,
  );

/** `code` spans for backticked words, as the summaries use them; everything else escaped. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");

function schemaSummary(schema: Record<string, unknown> | undefined): string {
  if (!schema) return "";
  const parts = [typeof schema.type === "string" ? schema.type : ""];
  if (Array.isArray(schema.enum)) parts.push(`one of ${schema.enum.map(String).join(", ")}`);
  if (typeof schema.pattern === "string") parts.push(`pattern ${schema.pattern}`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.filter(Boolean).join("; ");
}

function renderOperation(method: string, path: string, op: z.infer<typeof operationSchema>): string {
  const id = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
  const params = (op.parameters ?? [])
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name ?? p.$ref ?? "")}</code></td><td>${escapeHtml(p.in ?? "")}</td>` +
        `<td>${p.required ? "yes" : "no"}</td><td>${escapeHtml(schemaSummary(p.schema))}</td>` +
        `<td>${prose(p.description ?? "")}</td></tr>`,
    )
    .join("");
  const body = op.requestBody
    ? `<p class="body">Body${op.requestBody.required ? "" : " (optional)"}: ${Object.keys(
        op.requestBody.content ?? {},
      )
        .map((t) => `<code>${escapeHtml(t)}</code>`)
        .join(", ")}</p>`
    : "";
  const responses = Object.entries(op.responses ?? {})
    .map(
      ([code, r]) =>
        `<tr><td class="status s${escapeHtml(code[0] ?? "")}">${escapeHtml(code)}</td>` +
        `<td>${prose(r.description ?? "")}</td>` +
        `<td>${Object.keys(r.content ?? {})
          .map((t) => `<code>${escapeHtml(t)}</code>`)
          .join(", ")}</td></tr>`,
    )
    .join("");
  return `<section id="${id}">
<h2><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2>
${op.summary ? `<p class="summary">${prose(op.summary)}</p>` : ""}
${op.description ? `<p>${prose(op.description)}</p>` : ""}
${params ? `<table><caption>Parameters</caption><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>${params}</table>` : ""}
${body}
${responses ? `<table><caption>Responses</caption><tr><th>status</th><th>description</th><th>content</th></tr>${responses}</table>` : ""}
</section>`;
}

/** The API reference as one self-contained HTML page (no script, no external resource). */
export function renderDocsPage(document: unknown): string {
  const doc = documentSchema.parse(document);
  const operations = Object.entries(doc.paths ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const op = operationSchema.safeParse(item[method]);
        return item[method] !== undefined && op.success ? [{ method, path, op: op.data }] : [];
      }),
    );
  const toc = operations
    .map(
      ({ method, path }) =>
        `<li><a href="#${`${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-")}"><span class="method ${method}">` +
        `${method.toUpperCase()}</span> ${escapeHtml(path)}</a></li>`,
    )
    .join("");
  const title = `${escapeHtml(doc.info.title)} ${escapeHtml(doc.info.version)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}: API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{font:13px ui-monospace,monospace;background:#f3f3f3;padding:0 .2em;border-radius:3px}
section{border-top:1px solid #ddd;padding:.5rem 0 1rem}
h2{font-size:1.05rem;margin:.6rem 0}
.method{display:inline-block;min-width:4.2em;text-align:center;font:bold 12px ui-monospace,monospace;
color:#fff;border-radius:3px;padding:.1em .3em;background:#666}
.get{background:#2f6fb0}.post{background:#2d8a4e}.put,.patch{background:#b07a12}.delete{background:#b03a2e}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #e2e2e2;padding:.25rem .5rem;text-align:left;vertical-align:top}
.s2{color:#2d8a4e}.s4{color:#b07a12}.s5{color:#b03a2e}
ul.toc{columns:2;list-style:none;padding:0}ul.toc a{text-decoration:none;color:inherit}
</style></head><body>
<h1>${title}</h1>
${doc.info.description ? `<p>${prose(doc.info.description)}</p>` : ""}
<p>The machine-readable document: <a href="${OPENAPI_PATH}"><code>${OPENAPI_PATH}</code></a>.</p>
<ul class="toc">${toc}</ul>
${operations.map(({ method, path, op }) => renderOperation(method, path, op)).join("\n")}
</body></html>
`;
}

/** GET /docs: the API reference rendered from the app's own OpenAPI document; public, like /healthz. */
export function docsRoutes(document: () => unknown) {
  const app = new Hono();
  app.get(DOCS_PATH, (c) => {
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    return c.html(renderDocsPage(document()));
  });
  return app;
}
