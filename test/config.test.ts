import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  it("defaults to the embedded database and index under ./.precedent, the local embedder and 127.0.0.1:8787", () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: "pglite", dataDir: resolve(".precedent/pg") });
    expect(config.lanceUri).toBe(resolve(".precedent/lance"));
    expect(config.embedder).toEqual({ kind: "local", dimensions: 384 });
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8787 });
    expect(config.model).toBeUndefined();
  });

  it("uses Postgres when DATABASE_URL is set, and an object-store LANCE_URI as given", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://u@db:5432/p", LANCE_URI: "s3://bucket/index" });
    expect(config.database).toEqual({ kind: "postgres", url: "postgres://u@db:5432/p" });
    expect(config.lanceUri).toBe("s3://bucket/index");
  });

  it("keeps the index in LanceDB unless INDEX=postgres", () => {
    expect(loadConfig({}).index).toBe("lance");
    expect(loadConfig({ INDEX: "postgres" }).index).toBe("postgres");
    expect(configError({ INDEX: "pgvector" }).issues[0]?.variable).toBe("INDEX");
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).database.kind).toBe("pglite");
  });

  it("names the variable that is wrong", () => {
    expect(configError({ PORT: "eighty" }).message).toMatch(/^invalid configuration: PORT /);
    expect(configError({ DATABASE_URL: "mysql://x" }).message).toContain(
      "DATABASE_URL must be a postgres://",
    );
    expect(configError({ EMBEDDINGS: "magic" }).message).toContain("EMBEDDINGS");
    expect(configError({ OPENAI_BASE_URL: "not a url" }).issues[0]?.variable).toBe("OPENAI_BASE_URL");
  });

  it("asks for EMBEDDINGS_MODEL when EMBEDDINGS=openai", () => {
    expect(configError({ EMBEDDINGS: "openai" }).issues).toEqual([
      expect.objectContaining({ variable: "EMBEDDINGS_MODEL" }),
    ]);
    const config = loadConfig({
      EMBEDDINGS: "openai",
      EMBEDDINGS_MODEL: "nomic-embed-text",
      OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
    });
    expect(config.embedder).toMatchObject({
      kind: "openai",
      model: "nomic-embed-text",
      baseURL: "http://127.0.0.1:11434/v1",
    });
  });

  it("configures the model only when PRECEDENT_MODEL is set", () => {
    const config = loadConfig({ PRECEDENT_MODEL: "llama3.1", OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" });
    expect(config.model).toEqual({
      name: "llama3.1",
      baseURL: "http://127.0.0.1:8000/v1",
      apiKey: undefined,
    });
  });
});
