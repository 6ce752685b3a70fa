import { Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { type Authentication, bearerToken } from "../api/auth.js";
import { authenticate, ctxOf, type ServicesSource, servicesOf } from "../api/callContext.js";
import { accessibleBank, visibleBanks } from "../auth/access.js";
import { notFound, PrecedentError } from "../errors.js";
import { bankIdSchema } from "../memory/bankId.js";
import { bankWithStats } from "../memory/bankStats.js";
import { getMemory, listMemories } from "../memory/browseMemories.js";
import { MEMORY_STATUSES } from "../memory/trust.js";
import { bankImpact, memoryEffect } from "../reasoning/impact.js";
import { listRuns } from "../reasoning/listRuns.js";
import { RUN_VERDICTS } from "../reasoning/runVocabulary.js";
import { loadRunView } from "./loadRun.js";
import { BankPage } from "./pages/bank.js";
import { BanksPage } from "./pages/banks.js";
import { MemoriesPage } from "./pages/memories.js";
import { MemoryPage } from "./pages/memory.js";
import { LoginPage, MessagePage } from "./pages/message.js";
import { RunPage } from "./pages/run.js";

const TOKEN_COOKIE = "precedent_token";

function oneOf<T extends string>(values: readonly T[], value: string | undefined): T | undefined {
  return values.find((v) => v === value);
}

/** A path inside the inspector to return to after signing in; anything else goes home. */
function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?!\/)[\w\-/?=&.%]*$/.test(next) ? next : "/";
}

/**
 * The inspector: server-rendered pages over the same service functions as the REST API, readable
 * without JavaScript. It takes the API's bearer token, or a key kept in an HttpOnly cookie by /login.
 */
export function inspectorRoutes(source: ServicesSource, auth: Authentication) {
  const app = new Hono();

  app.get("/login", (c) => c.html(<LoginPage next={safeNext(c.req.query("next"))} />));
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const next = safeNext(form.next);
    try {
      const principal = await auth.identify(servicesOf(source, c).db, token || undefined);
      if (principal.kind === "open") return c.redirect(next, 303);
    } catch {
      return c.html(<LoginPage message="That key is unknown or revoked." next={next} />, 401);
    }
    setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.redirect(next, 303);
  });
  app.post("/logout", (c) => {
    deleteCookie(c, TOKEN_COOKIE, { path: "/" });
    return c.redirect("/login", 303);
  });

  const signedIn: MiddlewareHandler = async (c, next) => {
    try {
      await authenticate(c, source, auth, bearerToken(c) ?? getCookie(c, TOKEN_COOKIE));
    } catch (e) {
      if (e instanceof PrecedentError && e.code === "unauthorized") {
        return c.html(<LoginPage next={safeNext(c.req.path)} />, 401);
      }
      throw e;
    }
    await next();
  };
  const bankParam = (value: string) => {
    if (!bankIdSchema.safeParse(value).success) throw notFound("bank", value);
    return value;
  };

  app.get("/", signedIn, async (c) => {
    const ctx = ctxOf(c);
    const visible = await visibleBanks(ctx);
    const banks = await Promise.all(
      visible.map((bank) => bankWithStats({ ctx, input: { bankId: bank.id } })),
    );
    return c.html(<BanksPage banks={banks} />);
  });

  app.get("/banks/:bank", signedIn, async (c) => {
    const bankId = bankParam(c.req.param("bank"));
    const ctx = ctxOf(c);
    const verdict = oneOf(RUN_VERDICTS, c.req.query("verdict"));
    const [{ bank, stats }, impact, runs] = await Promise.all([
      bankWithStats({ ctx, input: { bankId } }),
      bankImpact({ ctx, input: { bankId } }),
      listRuns({ ctx, input: { bankId, verdict, cursor: c.req.query("cursor") || undefined } }),
    ]);
    return c.html(<BankPage bank={bank} stats={stats} impact={impact} runs={runs} verdict={verdict} />);
  });

  app.get("/banks/:bank/memories", signedIn, async (c) => {
    const bankId = bankParam(c.req.param("bank"));
    const ctx = ctxOf(c);
    const bank = await accessibleBank(ctx, bankId, "read");
    const q = c.req.query("q")?.trim().slice(0, 500);
    const filter = { ...(q ? { q } : {}), status: oneOf(MEMORY_STATUSES, c.req.query("status")) };
    const page = await listMemories({
      ctx,
      input: { bankId, filter, cursor: c.req.query("cursor") || undefined },
    });
    return c.html(<MemoriesPage bank={bank} page={page} filter={filter} />);
  });

  app.get("/banks/:bank/memories/:id", signedIn, async (c) => {
    const bankId = bankParam(c.req.param("bank"));
    const ctx = ctxOf(c);
    const memory = await getMemory({ ctx, input: { bankId, id: c.req.param("id") } });
    const effect = await memoryEffect({ ctx, input: { bankId, memoryId: memory.id } });
    return c.html(<MemoryPage memory={memory} effect={effect} />);
  });

  app.get("/runs/:id", signedIn, async (c) => {
    const id = c.req.param("id");
    const ctx = ctxOf(c);
    return c.html(<RunPage view={await loadRunView({ ctx, input: { runId: id } })} />);
  });

  app.onError((err, c) => {
    if (err instanceof PrecedentError && err.code === "not_found") {
      return c.html(<MessagePage title="Not found" message={err.message} />, 404);
    }
    if (err instanceof PrecedentError && err.code === "invalid_input") {
      return c.html(<MessagePage title="Bad request" message={err.message} />, 400);
    }
    servicesOf(source, c).log.error({ err, path: c.req.path }, "inspector page failed");
    return c.html(<MessagePage title="Something went wrong" message="The page could not be shown." />, 500);
  });
  return app;
}
