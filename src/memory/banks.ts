import { eq } from "drizzle-orm";
import { z } from "zod";
import { recordAction } from "../auth/audit.js";
import { assertAdmin, assertBankAccess } from "../auth/scopes.js";
import type { Database } from "../db/database.js";
import { banks } from "../db/schema.js";
import { type DomainName, domainSchema } from "../domains/domain.js";
import { notFound, PrecedentError } from "../errors.js";
import { kSchema, samplesSchema } from "../limits.js";
import { strategySchema } from "../reasoning/strategy.js";
import { selectionSchema } from "../reasoning/universalSelection.js";
import type { CallContext } from "../services.js";
import { bankIdSchema } from "./bankId.js";
import { verificationSchema } from "./trust.js";

export const bankSettingsSchema = z
  .object({
    /** worked examples injected per solve */
    k: kSchema.default(4),
    /** chains of thought sampled per solve (the cap when adaptive) */
    samples: samplesSchema.default(8),
    /** memories verified below this are never recalled */
    trustFloor: verificationSchema.default("consensus"),
    /** a new solution verified at or above this becomes an active memory; below, it is quarantined */
    writeBackTier: verificationSchema.default("checker"),
    /** the least `match` (0..1) a memory needs to be recalled; unset: 0.5 (see src/memory/lexical/match.ts) */
    matchFloor: z.number().min(0).max(1).optional(),
    /** how solves prompt the model: exemplars, step-back, analogical or plain (src/reasoning/strategy.ts) */
    strategy: strategySchema.default("exemplars"),
    /** what an `exemplars` solve does when recall finds nothing to show */
    fallbackStrategy: strategySchema.default("analogical"),
    /** how solves pick the answer among samples: vote or universal; unset: universal for text, else vote */
    selection: selectionSchema.optional(),
    /**
     * the share of solves that also answer their query again without recalled examples, off the request
     * path (a shadow control run): what the bank's memory adds, measured on its own traffic
     */
    shadowRate: z.number().min(0).max(1).default(0),
    /** the share of solves that also answer again with one recalled example withheld: each memory's effect */
    ablationRate: z.number().min(0).max(1).default(0),
    /** the most shadow runs the bank makes in 24 hours: the model cost that measuring may add */
    shadowBudget: z.number().int().min(0).max(1_000_000).default(1_000),
  })
  .strict();
export type BankSettings = z.infer<typeof bankSettingsSchema>;

export const newBankSchema = z
  .object({
    id: bankIdSchema,
    domain: domainSchema,
    description: z.string().max(2000).default(""),
    settings: bankSettingsSchema.default(bankSettingsSchema.parse({})),
  })
  .strict();
export type NewBank = z.input<typeof newBankSchema>;

export interface Bank {
  id: string;
  domain: DomainName;
  description: string;
  settings: BankSettings;
  createdAt: Date;
}

function toBank(row: typeof banks.$inferSelect): Bank {
  return {
    id: row.id,
    domain: domainSchema.parse(row.domain),
    description: row.description,
    settings: bankSettingsSchema.parse(row.settings ?? {}),
    createdAt: row.createdAt,
  };
}

/** The bank with this id, or undefined. */
export async function findBank(db: Database, id: string): Promise<Bank | undefined> {
  const [row] = await db.select().from(banks).where(eq(banks.id, id));
  return row ? toBank(row) : undefined;
}

/** The bank with this id; a not_found error otherwise. */
export async function getBank(db: Database, id: string): Promise<Bank> {
  const bank = await findBank(db, id);
  if (!bank) throw notFound("bank", id);
  return bank;
}

/** Creates a bank (administrators only); a conflict error if the id is taken. */
export async function createBank({ ctx, input }: { ctx: CallContext; input: NewBank }): Promise<Bank> {
  assertAdmin(ctx.principal);
  const bank = newBankSchema.parse(input);
  const row = await ctx.db.transaction(async (tx) => {
    const [inserted] = await tx.insert(banks).values(bank).onConflictDoNothing().returning();
    if (!inserted) throw new PrecedentError("conflict", `bank "${bank.id}" already exists`, "id");
    await recordAction({ ...ctx, db: tx }, "bank.create", {
      bankId: bank.id,
      detail: { domain: bank.domain },
    });
    return inserted;
  });
  return toBank(row);
}

const settings = bankSettingsSchema.shape;

/** What may change of a bank after it was created: its description and any of its settings. */
export const bankChangeSchema = z
  .object({
    description: z.string().max(2000).optional(),
    settings: z
      .object({
        // each setting as bankSettingsSchema has it, without its default: one a change omits stays as it is
        k: settings.k.unwrap().optional(),
        samples: settings.samples.unwrap().optional(),
        trustFloor: settings.trustFloor.unwrap().optional(),
        writeBackTier: settings.writeBackTier.unwrap().optional(),
        matchFloor: settings.matchFloor,
        strategy: settings.strategy.unwrap().optional(),
        fallbackStrategy: settings.fallbackStrategy.unwrap().optional(),
        selection: settings.selection,
        shadowRate: settings.shadowRate.unwrap().optional(),
        ablationRate: settings.ablationRate.unwrap().optional(),
        shadowBudget: settings.shadowBudget.unwrap().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BankChange = z.infer<typeof bankChangeSchema>;

/**
 * Changes a bank's description or settings (the settings given replace those, the rest stay); not_found
 * if none. A key of another bank learns nothing of this one (not found); of this bank's keys, only admin
 * may change it.
 */
export async function updateBank({
  ctx,
  input,
}: {
  ctx: CallContext;
  input: { bankId: string; change: BankChange };
}): Promise<Bank> {
  const { bankId: id } = input;
  assertBankAccess(ctx.principal, id, "write");
  assertAdmin(ctx.principal);
  const { description, settings } = bankChangeSchema.parse(input.change);
  const bank = await getBank(ctx.db, id);
  const next = bankSettingsSchema.parse({ ...bank.settings, ...settings });
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(banks)
      .set({ settings: next, ...(description === undefined ? {} : { description }) })
      .where(eq(banks.id, id))
      .returning();
    if (!updated) throw notFound("bank", id);
    await recordAction({ ...ctx, db: tx }, "bank.update", { bankId: id, detail: input.change });
    return updated;
  });
  return toBank(row);
}

/** The bank with this id, created with `domain` when missing; a conflict if it exists with another domain. */
export async function ensureBank(db: Database, input: NewBank): Promise<{ bank: Bank; created: boolean }> {
  const existing = await findBank(db, input.id);
  if (existing) {
    if (existing.domain !== input.domain) {
      throw new PrecedentError(
        "conflict",
        `bank "${input.id}" holds ${existing.domain} problems, not ${input.domain}`,
        "domain",
      );
    }
    return { bank: existing, created: false };
  }
  const bank = newBankSchema.parse(input);
  await db.insert(banks).values(bank).onConflictDoNothing();
  return { bank: await getBank(db, bank.id), created: true };
}

/** Every bank, by id. */
export async function listBanks(db: Database): Promise<Bank[]> {
  const rows = await db.select().from(banks).orderBy(banks.id);
  return rows.map(toBank);
}
