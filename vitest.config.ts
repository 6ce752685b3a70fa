import postgres from "postgres";
import { defineConfig } from "vitest/config";

const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function postgresReachable(): Promise<string | undefined> {
  const sql = postgres(POSTGRES_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

// The suite runs twice: on embedded PGlite and on a real Postgres server. Without a server the Postgres
// half is skipped loudly, and PRECEDENT_REQUIRE_POSTGRES=1 (set by .ci/run) turns that skip into a failure.
export default defineConfig(async () => {
  const unreachable = await postgresReachable();
  if (unreachable) {
    const message = `Postgres at ${POSTGRES_URL} is unreachable (${unreachable})`;
    if (process.env.PRECEDENT_REQUIRE_POSTGRES === "1") {
      throw new Error(
        `${message}; PRECEDENT_REQUIRE_POSTGRES=1 forbids skipping the Postgres half of the suite`,
      );
    }
    console.warn(`\n*** ${message}: SKIPPING the Postgres half of the test suite ***\n`);
    process.env.PRECEDENT_SKIPPED_PROJECTS = "postgres";
  }
  const shared = {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  };
  return {
    test: {
      reporters: ["default", "./test/support/summaryReporter.ts"],
      globalSetup: ["./test/support/buildOnce.ts"],
      pool: "forks",
      maxWorkers: 2,
      projects: [
        { test: { ...shared, name: "pglite", env: { TEST_DATABASE: "pglite" } } },
        ...(unreachable
          ? []
          : [
              {
                test: {
                  ...shared,
                  name: "postgres",
                  env: { TEST_DATABASE: "postgres", TEST_POSTGRES_URL: POSTGRES_URL },
                },
              },
            ]),
      ],
    },
  };
});
