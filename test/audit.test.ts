import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { auditLog, feedback, memories } from "../src/db/schema.js";
import { createModelClient } from "../src/reasoning/model.js";
import { useTestContext } from "./support/context.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fakeOpenAI.js";

const t = useTestContext();
const ADMIN = "admin-token-for-audit-0123456789";
let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ behavior: { kind: "fixed", content: "6 * 9 = 54\n#### 54" } });
});
afterAll(async () => {
  await fake.close();
});

function call(token: string, method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

async function json<T>(response: Response, status: number): Promise<T> {
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as T;
}

async function auditRows() {
  return t
    .ctx()
    .db.select({
      action: auditLog.action,
      principal: auditLog.principal,
      keyId: auditLog.keyId,
      bankId: auditLog.bankId,
      subject: auditLog.subject,
    })
    .from(auditLog)
    .orderBy(asc(auditLog.id));
}

/** An app with the admin token, a bank and a key that may write to it. */
async function withWriterKey() {
  const ctx = t.ctx();
  ctx.model = createModelClient({ name: "fake-model", baseURL: fake.url, maxRetries: 0 });
  const app = createApp(ctx, { adminToken: ADMIN });
  await json(await app.request("/v1/banks", call(ADMIN, "POST", { id: "arith", domain: "number" })), 201);
  const key = await json<{ id: string; token: string }>(
    await app.request("/v1/keys", call(ADMIN, "POST", { name: "writer", scopes: ["bank:arith:write"] })),
    201,
  );
  return { app, key };
}

describe("attribution of writes", () => {
  it("records the admin token's bank and key writes with no key id, and says it was the admin token", async () => {
    const { key } = await withWriterKey();
    expect(await auditRows()).toEqual([
      { action: "bank.create", principal: "admin-token", keyId: null, bankId: "arith", subject: null },
      { action: "key.create", principal: "admin-token", keyId: null, bankId: null, subject: key.id },
    ]);
  });

  it("records the key that imported problems, retired and restored a memory", async () => {
    const { app, key } = await withWriterKey();
    const problems = [
      { problem: "A box holds 6 rows of 9 eggs. How many eggs?", answer: "54", reasoning: "6 * 9" },
    ];
    await json(await app.request("/v1/banks/arith/problems", call(key.token, "POST", problems)), 200);
    const [memory] = await t.ctx().db.select({ id: memories.id }).from(memories);
    const id = memory?.id as string;
    await json(await app.request(`/v1/banks/arith/memories/${id}/retire`, call(key.token, "POST")), 200);
    await json(await app.request(`/v1/banks/arith/memories/${id}/restore`, call(key.token, "POST")), 200);

    const byKey = (await auditRows()).filter((r) => r.keyId === key.id);
    expect(byKey).toEqual([
      { action: "problems.import", principal: "key", keyId: key.id, bankId: "arith", subject: null },
      { action: "memory.retire", principal: "key", keyId: key.id, bankId: "arith", subject: id },
      { action: "memory.restore", principal: "key", keyId: key.id, bankId: "arith", subject: id },
    ]);
  });

  it("records nothing for a write that changed nothing (retiring a retired memory)", async () => {
    const { app, key } = await withWriterKey();
    const problems = [
      { problem: "A tray holds 4 rows of 5 cups. How many cups?", answer: "20", reasoning: "4 * 5" },
    ];
    await json(await app.request("/v1/banks/arith/problems", call(key.token, "POST", problems)), 200);
    const [memory] = await t.ctx().db.select({ id: memories.id }).from(memories);
    const retire = `/v1/banks/arith/memories/${memory?.id}/retire`;
    await json(await app.request(retire, call(key.token, "POST")), 200);
    await json(await app.request(retire, call(key.token, "POST")), 200);
    expect((await auditRows()).filter((r) => r.action === "memory.retire")).toHaveLength(1);
  });

  it("records the key that gave feedback on the feedback itself", async () => {
    const { app, key } = await withWriterKey();
    const solved = await json<{ runId: string }>(
      await app.request(
        "/v1/banks/arith/solve",
        call(key.token, "POST", { query: "A crate has 6 rows of 9 pears. How many pears?", samples: 4 }),
      ),
      200,
    );
    await json(
      await app.request(`/v1/runs/${solved.runId}/feedback`, call(key.token, "POST", { correct: true })),
      200,
    );
    const rows = await t.ctx().db.select().from(feedback).where(eq(feedback.runId, solved.runId));
    expect(rows.map((r) => r.keyId)).toEqual([key.id]);
  });

  it("records the key a revocation revoked, and who revoked it", async () => {
    const { app, key } = await withWriterKey();
    await json(await app.request(`/v1/keys/${key.id}/revoke`, call(ADMIN, "POST")), 200);
    expect((await auditRows()).at(-1)).toEqual({
      action: "key.revoke",
      principal: "admin-token",
      keyId: null,
      bankId: null,
      subject: key.id,
    });
  });

  it("records a bank's change of settings", async () => {
    const { app } = await withWriterKey();
    await json(await app.request("/v1/banks/arith", call(ADMIN, "PATCH", { settings: { k: 2 } })), 200);
    expect((await auditRows()).at(-1)).toMatchObject({ action: "bank.update", bankId: "arith" });
  });

  it("records the key that remembered a solution, with the run that keeps the attempt", async () => {
    const { app, key } = await withWriterKey();
    const remembered = await json<{ runId: string }>(
      await app.request(
        "/v1/banks/arith/solutions",
        call(key.token, "POST", {
          problem: "A crate has 3 rows of 7 jars. How many jars?",
          reasoning: "3 * 7 = 21",
          answer: "21",
          evidence: { kind: "gold", answer: "21" },
        }),
      ),
      200,
    );
    expect((await auditRows()).at(-1)).toEqual({
      action: "solution.remember",
      principal: "key",
      keyId: key.id,
      bankId: "arith",
      subject: remembered.runId,
    });
  });
});
