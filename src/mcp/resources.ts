import {
  ErrorCode,
  McpError,
  type Resource,
  type ResourceTemplate,
} from "@modelcontextprotocol/sdk/types.js";
import { runIdSchema } from "../api/routes/runs.js";
import { serializeBankWithStats } from "../api/schemas.js";
import { readableRun, visibleBanks } from "../auth/access.js";
import { PrecedentError } from "../errors.js";
import { bankIdSchema } from "../memory/bankId.js";
import { bankWithStats } from "../memory/bankStats.js";
import type { CallContext } from "../services.js";
import { problemOf } from "./errors.js";

const JSON_TYPE = "application/json";
const bankUri = (id: string) => `precedent://banks/${id}`;

/** A bank with its figures and a run with everything, by URI (MCP resources). */
export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: "precedent://banks/{bank}",
    name: "bank",
    title: "A bank with its figures",
    description: "memories by status and verification, runs by verdict, accuracy of its solves",
    mimeType: JSON_TYPE,
  },
  {
    uriTemplate: "precedent://runs/{runId}",
    name: "run",
    title: "A run with everything",
    description: "recalled memories and scores, the exact prompt, every sample, the vote and the verdict",
    mimeType: JSON_TYPE,
  },
];

/** The banks the principal may read, each as the resource of its figures. */
export async function listResources(ctx: CallContext): Promise<Resource[]> {
  return (await visibleBanks(ctx)).map((b) => ({
    uri: bankUri(b.id),
    name: b.id,
    title: `bank ${b.id} (${b.domain})`,
    description: b.description || undefined,
    mimeType: JSON_TYPE,
  }));
}

async function resourceBody(ctx: CallContext, uri: string): Promise<unknown> {
  const bank = /^precedent:\/\/banks\/([^/]+)$/.exec(uri)?.[1];
  if (bank !== undefined && bankIdSchema.safeParse(bank).success) {
    return serializeBankWithStats(await bankWithStats({ ctx, input: { bankId: bank } }));
  }
  const runId = /^precedent:\/\/runs\/([^/]+)$/.exec(uri)?.[1];
  if (runId !== undefined && runIdSchema.safeParse(runId).success) {
    return readableRun(ctx, runId, "uri");
  }
  throw new PrecedentError("not_found", `no resource "${uri}"`, "uri");
}

/**
 * The resource's contents as JSON; a resource the principal may not read does not exist for it. A failure
 * is a JSON-RPC error whose data is the problem REST would answer.
 */
export async function readResource(ctx: CallContext, uri: string, requestId: string) {
  try {
    const body = await resourceBody(ctx, uri);
    return { uri, mimeType: JSON_TYPE, text: JSON.stringify(body) };
  } catch (e) {
    const problem = problemOf(e, requestId);
    if (problem.status === 500) ctx.log.error({ err: e, uri, requestId }, "MCP resource failed");
    // -32002: the code MCP gives a resource that is not found
    const code =
      problem.status === 404
        ? -32002
        : problem.status === 500
          ? ErrorCode.InternalError
          : ErrorCode.InvalidParams;
    throw new McpError(code, problem.detail, problem);
  }
}
