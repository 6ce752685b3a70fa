import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { DEFAULT_FIELDS } from "../../../seed/jsonl.js";
import { seedBank } from "../../../seed/seedBank.js";
import type { Config } from "../../config.js";
import { openContext } from "../../context.js";
import { domainSchema } from "../../domains/domain.js";
import { PrecedentError } from "../../errors.js";
import { bankIdSchema } from "../../memory/bankId.js";

/** `precedent seed <bank> --from <source>`: idempotent, resumable import with a progress bar on a terminal. */
export async function seedCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: "string" },
      domain: { type: "string" },
      "problem-field": { type: "string" },
      "question-field": { type: "string" },
      "answer-field": { type: "string" },
      "reasoning-field": { type: "string" },
      "verification-field": { type: "string" },
    },
  });
  const bankId = bankIdSchema.safeParse(positionals[0]);
  if (!bankId.success)
    throw new PrecedentError("invalid_input", `bank: ${bankId.error.issues[0]?.message}`, "bank");
  if (!values.from)
    throw new PrecedentError("invalid_input", "--from is required (gsm8k, game24 or a file)", "from");
  const domain = values.domain ? domainSchema.parse(values.domain) : undefined;

  const ctx = await openContext(config, { command: `seed ${bankId.data}` });
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format:
          "seeding {bank} [{bar}] {value}/{total} read · {inserted} new · {duplicates} known · {rejected} rejected · {rate}/s",
        stream: process.stderr,
        hideCursor: true,
      })
    : undefined;
  const started = performance.now();
  try {
    const result = await seedBank({
      ctx,
      input: {
        bankId: bankId.data,
        from: values.from,
        dataDir: config.dataDir,
        domain,
        fields: {
          problem: values["problem-field"] ?? values["question-field"] ?? DEFAULT_FIELDS.problem,
          answer: values["answer-field"] ?? DEFAULT_FIELDS.answer,
          reasoning: values["reasoning-field"] ?? DEFAULT_FIELDS.reasoning,
          verification: values["verification-field"] ?? DEFAULT_FIELDS.verification,
        },
      },
      onStart: (total) =>
        bar?.start(total, 0, { bank: bankId.data, inserted: 0, duplicates: 0, rejected: 0, rate: 0 }),
      onProgress: (p) => {
        const rate = Math.round(p.read / ((performance.now() - started) / 1000));
        const counts = { inserted: p.inserted, duplicates: p.duplicates, rejected: p.rejected.length, rate };
        if (bar) bar.update(p.read, counts);
        else
          console.error(
            `seed ${bankId.data}: ${p.read} read, ${p.inserted} new, ${p.duplicates} known, ${counts.rejected} rejected`,
          );
      },
    });
    bar?.stop();
    const rate = Math.round((result.inserted + result.duplicates) / result.seconds);
    console.log(
      `${result.created ? "created" : "seeded"} bank ${result.bank}: ${result.inserted} new, ${result.duplicates} already there, ` +
        `${result.rejected.length} rejected, in ${result.seconds.toFixed(1)} s (${rate} rows/s)` +
        (result.indexSeconds >= 0.1 ? `; index optimized in ${result.indexSeconds.toFixed(1)} s` : ""),
    );
    for (const r of result.rejected) console.log(`  line ${r.line}: ${r.reason}`);
    return 0;
  } finally {
    bar?.stop();
    await ctx.close();
  }
}
