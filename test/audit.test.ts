import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/api/app.js";
import { createBankRoute, updateBankRoute } from "../src/api/routes/banks.js";
import { createKeyRoute, revokeKeyRoute } from "../src/api/routes/keys.js";
import { restoreMemoryRoute, retireMemoryRoute } from "../src/api/routes/memories.js";
import { importProblemsRoute } from "../src/api/routes/problems.js";
import { feedbackRoute } from "../src/api/routes/runs.js";
import { rememberSolutionRoute } from "../src/api/routes/solutions.js";
import { solveRoute } from "../src/api/routes/solve.js";
import { auditLog, feedback, memories } from "../src/db/schema.js";
import { createModelClient } from "../src/reasoning/model.js";
import { apiClient } from "./support/api.js";
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
  const admin = apiClient(app, { token: ADMIN });
  await admin.ok(createBankRoute, { json: { id: "arith", domain: "number" } });
  const key = await admin.ok(createKeyRoute, { json: { name: "writer", scopes: ["bank:arith:write"] } });
  return { admin, writer: apiClient(app, { token: key.token }), key };
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
    const { writer, key } = await withWriterKey();
    const problems = [
      { problem: "A box holds 6 rows of 9 eggs. How many eggs?", answer: "54", reasoning: "6 * 9" },
    ];
    await writer.ok(importProblemsRoute, { params: { bank: "arith" }, json: problems });
    const [memory] = await t.ctx().db.select({ id: memories.id }).from(memories);
    const id = memory?.id as string;
    await writer.ok(retireMemoryRoute, { params: { bank: "arith", id } });
    await writer.ok(restoreMemoryRoute, { params: { bank: "arith", id } });

    const byKey = (await auditRows()).filter((r) => r.keyId === key.id);
    expect(byKey).toEqual([
      { action: "problems.import", principal: "key", keyId: key.id, bankId: "arith", subject: null },
      { action: "memory.retire", principal: "key", keyId: key.id, bankId: "arith", subject: id },
      { action: "memory.restore", principal: "key", keyId: key.id, bankId: "arith", subject: id },
    ]);
  });

  it("records nothing for a write that changed nothing (retiring a retired memory)", async () => {
    const { writer } = await withWriterKey();
    const problems = [
      { problem: "A tray holds 4 rows of 5 cups. How many cups?", answer: "20", reasoning: "4 * 5" },
    ];
    await writer.ok(importProblemsRoute, { params: { bank: "arith" }, json: problems });
    const [memory] = await t.ctx().db.select({ id: memories.id }).from(memories);
    const params = { bank: "arith", id: memory?.id as string };
    await writer.ok(retireMemoryRoute, { params });
    await writer.ok(retireMemoryRoute, { params });
    expect((await auditRows()).filter((r) => r.action === "memory.retire")).toHaveLength(1);
  });

  it("records the key that gave feedback on the feedback itself", async () => {
    const { writer, key } = await withWriterKey();
    const solved = await writer.ok(solveRoute, {
      params: { bank: "arith" },
      json: { query: "A crate has 6 rows of 9 pears. How many pears?", samples: 4 },
    });
    await writer.ok(feedbackRoute, { params: { id: solved.runId }, json: { correct: true } });
    const rows = await t.ctx().db.select().from(feedback).where(eq(feedback.runId, solved.runId));
    expect(rows.map((r) => r.keyId)).toEqual([key.id]);
  });

  it("records the key a revocation revoked, and who revoked it", async () => {
    const { admin, key } = await withWriterKey();
    await admin.ok(revokeKeyRoute, { params: { id: key.id } });
    expect((await auditRows()).at(-1)).toEqual({
      action: "key.revoke",
      principal: "admin-token",
      keyId: null,
      bankId: null,
      subject: key.id,
    });
  });

  it("records a bank's change of settings", async () => {
    const { admin } = await withWriterKey();
    await admin.ok(updateBankRoute, { params: { bank: "arith" }, json: { settings: { k: 2 } } });
    expect((await auditRows()).at(-1)).toMatchObject({ action: "bank.update", bankId: "arith" });
  });

  it("records the key that remembered a solution, with the run that keeps the attempt", async () => {
    const { writer, key } = await withWriterKey();
    const remembered = await writer.ok(rememberSolutionRoute, {
      params: { bank: "arith" },
      json: {
        problem: "A crate has 3 rows of 7 jars. How many jars?",
        reasoning: "3 * 7 = 21",
        answer: "21",
        evidence: { kind: "gold", answer: "21" },
      },
    });
    expect((await auditRows()).at(-1)).toEqual({
      action: "solution.remember",
      principal: "key",
      keyId: key.id,
      bankId: "arith",
      subject: remembered.runId,
    });
  });
});
