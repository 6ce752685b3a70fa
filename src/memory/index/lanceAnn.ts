// How LanceDB's HNSW vector index is searched and kept: its search effort and its segment limit, each
// with the measurement that set it.
// candidates the HNSW search explores, and how many times `limit` of them are re-ranked on the exact
// vectors (the index compares scalar-quantized ones). 20k GSM8K-like memories, 200 queries, recall@10
// against an exact scan: ef 64 0.90 (1.8 ms); ef 128 0.93; ef 256 0.94; ef 64 + refine 2 0.93;
// ef 128 + refine 2 0.975 (2.7 ms).
const HNSW_EF = 128;
export const REFINE_FACTOR = 2;
const MAX_HNSW_EF = 1024;
export const VECTOR_INDEX = "vector_idx";
// A search visits every segment of the vector index: 5k memories, 2.1 ms with 2 segments, 2.8 ms with 6,
// 4.1 ms with 13. Past this many the index is rebuilt (5k: 1.4 s; 1M: about 30 min on 2 cores).
const MAX_VECTOR_SEGMENTS = 8;
const SEGMENTS_SCALE_ROWS = 200_000;

/**
 * How many segments a bank's vector index may reach before it is rebuilt: 8 up to 200k memories, then in
 * proportion to the size (1M: 40), so the rebuilds' cost per write stays about the same as banks grow.
 */
export function maxVectorSegments(rows: number): number {
  return Math.round(MAX_VECTOR_SEGMENTS * Math.max(1, rows / SEGMENTS_SCALE_ROWS));
}

/**
 * The ef a search of a bank of `rows` memories uses: 128 up to 100k, then growing with log2 of the size.
 * At a fixed ef the graph finds fewer of the true neighbours as it grows (ef 128 + refine 2, recall@10
 * against an exact scan: 0.975 at 20k, 0.954 at 100k, 0.889 at 1M); at 1M, 200 queries: ef 256 0.937
 * (2.8 ms), ef 384 0.955 (3.5 ms), ef 512 0.968 (3.3 ms), ef 640 0.973 (4.2 ms). This rule gives 553 there.
 */
export function hnswEf(rows: number): number {
  return Math.min(MAX_HNSW_EF, Math.round(HNSW_EF * Math.max(1, Math.log2(rows / 50_000))));
}
