import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { SemanticSimilarityExampleSelector } from "@langchain/core/example_selectors";

/**
 * Embeddings that look vectors up instead of computing them: the baseline is handed the very vectors our
 * index holds, so what it is measured on is its search, not an embedder.
 */
class PrecomputedEmbeddings extends Embeddings {
  constructor(private readonly vectors: Map<string, number[]>) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.vectorOf(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vectorOf(text);
  }

  private vectorOf(text: string): number[] {
    const vector = this.vectors.get(text);
    if (!vector) throw new Error(`no precomputed vector for ${JSON.stringify(text.slice(0, 60))}`);
    return vector;
  }
}

/**
 * LangChain.js's SemanticSimilarityExampleSelector over a MemoryVectorStore, the usual way to pick few-shot
 * examples by similarity, holding `problems` with `vectors[i]` as problem i's vector, and answering
 * queries whose vectors are in `queryVectors`. Returns its selection function (k examples per query).
 */
export async function langchainSelector({
  problems,
  vectors,
  queryVectors,
  k,
}: {
  problems: string[];
  vectors: Float32Array[];
  queryVectors: Map<string, Float32Array>;
  k: number;
}): Promise<(query: string) => Promise<Record<string, string>[]>> {
  const lookup = new Map<string, number[]>();
  for (const [text, v] of queryVectors) lookup.set(text, Array.from(v));
  const store = new MemoryVectorStore(new PrecomputedEmbeddings(lookup));
  // the vectors straight in (addVectors), as fromTexts would after embedding the examples
  await store.addVectors(
    vectors.map((v) => Array.from(v)),
    problems.map((problem) => new Document({ pageContent: problem, metadata: { problem } })),
  );
  const selector = new SemanticSimilarityExampleSelector({
    vectorStore: store,
    k,
    inputKeys: ["problem"],
  });
  return (query) => selector.selectExamples({ problem: query }) as Promise<Record<string, string>[]>;
}
