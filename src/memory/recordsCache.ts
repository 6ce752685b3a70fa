import type { Database } from "../db/database.js";
import { type CandidateRow, candidateRows, changedCandidateRows } from "./store.js";
import { createTurns } from "./turns.js";

// Banks up to this many memories keep their candidate records in process. A GSM8K memory (problem,
// reasoning, answer) holds about 1 KB here, so 200k cost some 200 MB; a larger bank reads its candidates
// from the database (one query of ~1.1 ms on PGlite for 16 candidates, where the refresh below costs 0.35 ms).
export const RECORDS_CACHE_LIMIT = 200_000;

/** One bank's records as of a watermark. */
interface BankRecords {
  bankCreated: string;
  watermark: number;
  rows: Map<string, CandidateRow>;
  idByHash: Map<string, string>;
}

/**
 * The records recall ranks its candidates by, for the banks small enough to hold: the rows the database
 * would return, read from process memory after one short query that brings in whatever changed since
 * the last (any process's writes: each change is stamped with its transaction's id), so a retirement,
 * a new memory or a credit is seen by the next recall exactly as if the rows were read afresh.
 */
export interface RecordsCache {
  /** As `candidateRows`: these memories of the bank and its memory of exactly the problem `hash`. */
  candidates(input: {
    db: Database;
    bankId: string;
    ids: string[];
    hash: string;
    /** the bank's size as the caller knows it (its lexicon's): above the limit nothing is kept */
    bankSize: number;
  }): Promise<CandidateRow[]>;
  /** Memories held, over all banks. */
  readonly size: number;
}

/** A records cache for banks of up to `limit` memories. */
export function createRecordsCache({ limit = RECORDS_CACHE_LIMIT }: { limit?: number } = {}): RecordsCache {
  const banks = new Map<string, BankRecords>();
  // a bank is loaded at its second recall in this process: one that recalls once (the command line)
  // would spend more on loading it than it saves
  const recalledOnce = new Set<string>();
  // one refresh of a bank at a time, each after the last: a refresh read from an older snapshot must
  // never land after a newer one
  const inTurn = createTurns();

  async function refresh(db: Database, bankId: string): Promise<BankRecords | undefined> {
    const held = banks.get(bankId);
    const changes = await changedCandidateRows(db, bankId, held?.watermark ?? 0);
    if (changes.bankCreated === undefined) {
      banks.delete(bankId);
      return undefined;
    }
    if (held && held.bankCreated !== changes.bankCreated) {
      // the bank was dropped and made again under its id: what was held is of another bank
      banks.delete(bankId);
      return refresh(db, bankId);
    }
    const records = held ?? {
      bankCreated: changes.bankCreated,
      watermark: 0,
      rows: new Map<string, CandidateRow>(),
      idByHash: new Map<string, string>(),
    };
    banks.set(bankId, records);
    for (const row of changes.rows) {
      const before = records.rows.get(row.id);
      if (before && before.problemHash !== row.problemHash) records.idByHash.delete(before.problemHash);
      records.rows.set(row.id, row);
      records.idByHash.set(row.problemHash, row.id);
    }
    for (const id of changes.removed) {
      const before = records.rows.get(id);
      if (before && records.idByHash.get(before.problemHash) === id)
        records.idByHash.delete(before.problemHash);
      records.rows.delete(id);
    }
    records.watermark = changes.watermark;
    if (records.rows.size > limit) {
      banks.delete(bankId);
      return undefined;
    }
    return records;
  }

  return {
    async candidates({ db, bankId, ids, hash, bankSize }) {
      if (bankSize > limit || (!banks.has(bankId) && !recalledOnce.has(bankId))) {
        banks.delete(bankId);
        if (bankSize <= limit) recalledOnce.add(bankId);
        return candidateRows(db, bankId, ids, hash);
      }
      const records = await inTurn(bankId, () => refresh(db, bankId));
      if (!records) return candidateRows(db, bankId, ids, hash);
      const out: CandidateRow[] = [];
      const seen = new Set<string>();
      for (const id of [...ids, records.idByHash.get(hash)]) {
        const row = id === undefined ? undefined : records.rows.get(id);
        if (row && !seen.has(row.id)) {
          seen.add(row.id);
          out.push(row);
        }
      }
      return out;
    },
    get size() {
      let n = 0;
      for (const records of banks.values()) n += records.rows.size;
      return n;
    },
  };
}
