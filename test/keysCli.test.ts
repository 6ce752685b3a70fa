import { afterEach, describe, expect, it } from "vitest";
import { cliEnvironment, exited, runCli, spawnCli, waitForOutput } from "./support/cli.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function place() {
  const p = await cliEnvironment();
  cleanups.push(p.drop);
  return p;
}

async function serve(env: Record<string, string>) {
  const server = spawnCli(["serve"], { PORT: "0", ...env });
  cleanups.push(async () => {
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      await exited(server, 30_000);
    }
  });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/\S+:\d+)/);
  return { server, url: url as string };
}

describe("precedent keys", () => {
  it("creates a key whose token the server accepts, lists it without the token, and revokes it", async () => {
    const { env } = await place();
    const created = await runCli(["keys", "create", "--scope", "bank:fruit:read", "--name", "reader"], env);
    expect(created.code, created.stderr).toBe(0);
    const id = /^(key_[0-9a-z]+)/m.exec(created.stdout)?.[1];
    const token = /token \(shown once, store it now\): (pk_\S+)/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(token).toBeDefined();

    const listed = await runCli(["keys", "list"], env);
    expect(listed.stdout).toContain(`${id}  active  bank:fruit:read  "reader"`);
    expect(listed.stdout).not.toContain(token);

    const { server, url } = await serve(env);
    expect((await fetch(`${url}/v1/banks`)).status).toBe(401);
    const banks = await fetch(`${url}/v1/banks`, { headers: { authorization: `Bearer ${token}` } });
    expect(banks.status).toBe(200);
    server.kill("SIGTERM");
    await exited(server, 30_000);

    const revoked = await runCli(["keys", "revoke", id as string], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await runCli(["keys", "list"], env)).stdout).toMatch(
      new RegExp(`${id}  revoked \\S+  bank:fruit:read`),
    );
  });

  it("refuses a scope it does not know with exit code 2 and a message naming the field", async () => {
    const { env } = await place();
    const result = await runCli(["keys", "create", "--scope", "bank:fruit:delete"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("scopes.0");
    expect((await runCli(["keys", "list"], env)).stdout.trim()).toBe("no keys");
  });
});

describe("precedent keys while a server runs", () => {
  it("creates and revokes keys the running server honours at once (through it, on the embedded database)", async () => {
    const { env: base } = await place();
    const env = { ...base, PRECEDENT_ADMIN_TOKEN: "admin-token-for-tests-0123456789" };
    const { url } = await serve(env);
    const created = await runCli(["keys", "create", "--scope", "bank:fruit:write", "--json"], env);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; token: string; scopes: string[] };
    expect(key.scopes).toEqual(["bank:fruit:write"]);
    const withKey = { headers: { authorization: `Bearer ${key.token}` } };
    expect((await fetch(`${url}/v1/banks`, withKey)).status).toBe(200);

    const revoked = await runCli(["keys", "revoke", key.id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await fetch(`${url}/v1/banks`, withKey)).status).toBe(401);
  });
});

describe("where the server listens", () => {
  it("an open server listens on 127.0.0.1 only, even when HOST asks for every interface, and says so", async () => {
    const { env } = await place();
    const { server, url } = await serve({ ...env, HOST: "0.0.0.0" });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output.stdout).toContain("listening on 127.0.0.1 only (not on HOST=0.0.0.0)");
  });

  it("with an admin token it listens where HOST says", async () => {
    const { env } = await place();
    const { server, url } = await serve({
      ...env,
      HOST: "0.0.0.0",
      PRECEDENT_ADMIN_TOKEN: "admin-token-for-tests-0123456789",
    });
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(server.output.stdout).not.toContain("127.0.0.1 only");
    const port = new URL(url).port;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
