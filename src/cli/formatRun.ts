import { z } from "zod";
import { RECALL_SIGNALS } from "../memory/recallResult.js";
import type { RunRecord } from "../reasoning/runs.js";

/** Lines of a message or sample shown before the rest is summarized. */
const PREVIEW_LINES = 3;
/** Characters of one line shown before it is cut. */
const LINE_CHARS = 120;

// votes and verification details are stored as JSON; read what is there, never fail on what is not
const votesSchema = z.object({
  tallies: z
    .array(
      z.object({
        answer: z.string(),
        display: z.string().optional(),
        weight: z.number(),
        count: z.number(),
        share: z.number(),
      }),
    )
    .catch([]),
  weighted: z.boolean().optional().catch(undefined),
  voters: z.number().optional().catch(undefined),
  memoryHit: z.string().optional().catch(undefined),
  sampling: z
    .object({
      requests: z.number().optional(),
      stoppedEarly: z.boolean().optional(),
      stopProbability: z.number().optional(),
    })
    .optional()
    .catch(undefined),
});

const detailSchema = z.object({
  reason: z.string().optional().catch(undefined),
  verdicts: z.array(z.object({ verifier: z.string(), verdict: z.string(), reason: z.string() })).catch([]),
});

const messageSchema = z.object({ role: z.string(), content: z.string() });

/**
 * At most `maxLines` lines of a text, each cut to a readable width: the first ones, a count of those
 * left out, and the last one, which is where a chain of thought gives its answer.
 */
export function preview(text: string, maxLines = PREVIEW_LINES): string[] {
  const cut = (l: string) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS - 1)}…` : l);
  const lines = text.trimEnd().split("\n");
  if (lines.length <= maxLines) return lines.map(cut);
  const head = lines.slice(0, Math.max(1, maxLines - 1)).map(cut);
  return [...head, `… (${lines.length - head.length - 1} more lines)`, cut(lines.at(-1) ?? "")];
}

const fixed = (x: number | null | undefined, digits: number) =>
  x === undefined || x === null ? "-" : x.toFixed(digits);

/** `label` in a column of its own, then the lines of `body` aligned after it. */
function labelled(label: string, body: string[], width: number): string[] {
  return body.map((line, i) => `${(i === 0 ? label : "").padEnd(width)}${line}`);
}

function keyValues(record: Record<string, unknown>): string {
  const entries = Object.entries(record).filter(([, v]) =>
    ["string", "number", "boolean"].includes(typeof v),
  );
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(" · ") : "-";
}

function recallTable(run: RunRecord): string[] {
  if (run.recalls.length === 0) return ["recalled memories: none"];
  const idWidth = Math.max(6, ...run.recalls.map((r) => r.memoryId.length));
  const columns = ["final", ...RECALL_SIGNALS, "utility"] as const;
  const header = ["rank", "memory".padEnd(idWidth), ...columns.map((c) => c.padStart(9))];
  const rows = run.recalls.map((r) =>
    [
      String(r.rank).padStart(4),
      r.memoryId.padEnd(idWidth),
      ...columns.map((c) => fixed(r.scores[c], 3).padStart(9)),
    ].join("  "),
  );
  return [
    `recalled memories (${run.recalls.length})`,
    `  ${header.join("  ")}`,
    ...rows.map((r) => `  ${r}`),
  ];
}

function promptSection(run: RunRecord): string[] {
  if (run.prompt.length === 0) return ["prompt: none (no model call)"];
  const lines = [`prompt (${run.prompt.length} messages)`];
  for (const raw of run.prompt) {
    const parsed = messageSchema.safeParse(raw);
    const { role, content } = parsed.success ? parsed.data : { role: "?", content: JSON.stringify(raw) };
    lines.push(...labelled(`  ${role}`, preview(content), 13));
  }
  return lines;
}

function samplesSection(run: RunRecord): string[] {
  if (run.samples.length === 0) return ["samples: none"];
  const lines = [`samples (${run.samples.length})`];
  for (const s of run.samples) {
    const answer =
      s.answer === undefined
        ? "no answer"
        : `answer ${s.answer}${s.answerCanonical !== undefined && s.answerCanonical !== s.answer ? ` (${s.answerCanonical})` : ""}`;
    lines.push(`  #${s.index}  ${answer}  confidence ${fixed(s.confidence, 2)}  ${s.tokens} tokens`);
    lines.push(...preview(s.text).map((l) => `      ${l}`));
  }
  return lines;
}

function voteLine(run: RunRecord): string {
  const votes = votesSchema.safeParse(run.votes ?? {});
  if (!votes.success) return "-";
  const v = votes.data;
  if (v.memoryHit) return `none: answered from memory ${v.memoryHit}`;
  if (v.tallies.length === 0) return "no votes";
  const tallies = v.tallies
    .map((t) => `${t.display ?? t.answer} ×${t.count} (share ${t.share.toFixed(2)})`)
    .join(", ");
  const facts = [tallies, v.weighted ? "weighted by confidence" : "unweighted", `${v.voters ?? 0} voters`];
  if (v.sampling?.requests !== undefined) {
    const stop = v.sampling.stoppedEarly
      ? `, stopped early${v.sampling.stopProbability === undefined ? "" : ` (P ${v.sampling.stopProbability.toFixed(2)})`}`
      : "";
    facts.push(`${v.sampling.requests} request${v.sampling.requests === 1 ? "" : "s"}${stop}`);
  }
  return facts.join(" · ");
}

/** The strategy a run used, and what it produced: the step-back principle, or each chain's own problems. */
function strategyLines(run: RunRecord, width: number): string[] {
  const st = run.strategy;
  if (!st) return [];
  const lines = [
    `${"strategy".padEnd(width)}${st.name}${st.fallback ? ` (fallback: recall found nothing for ${st.asked})` : ""}`,
  ];
  if (st.abstraction) {
    lines.push(...labelled("principle", preview(st.abstraction.text, 4), width + 1));
  }
  for (const a of st.analogies ?? []) lines.push(...labelled(`own #${a.sample}`, preview(a.text, 3), width));
  if (st.selection) lines.push(...labelled("selection", [selectionLine(st.selection)], width + 1));
  if (st.decoding) {
    const d = st.decoding;
    const picked = d.chosenSample === undefined ? "no path gave an answer" : `path #${d.chosenSample} picked`;
    lines.push(
      `${"decoding".padEnd(width)}cot-decoding: ${d.paths.length} of ${d.branches} branches · ${picked}`,
    );
    for (const p of d.paths) {
      const margin = p.margin === undefined ? "no answer" : `margin ${p.margin.toFixed(3)}`;
      lines.push(
        `${"".padEnd(width)}  path #${p.sample}  first ${JSON.stringify(p.firstToken)} (p ${p.firstTokenProbability.toFixed(2)})  ${margin}`,
      );
    }
  }
  return lines;
}

/** Universal selection in a line: the pick, how many agree with it, and the model's reason, or why it fell back. */
function selectionLine(s: NonNullable<NonNullable<RunRecord["strategy"]>["selection"]>): string {
  if (s.unanimous) return `universal: all ${s.of} samples gave the same answer (no call)`;
  if (s.fallback)
    return `universal fell back: ${s.fallback} (sample #${s.sample} · ${s.agreeing} of ${s.of})`;
  return `universal: sample #${s.sample} · ${s.agreeing} of ${s.of} agree · ${s.reason ?? ""}`;
}

/** A run, readably: what was asked and answered, why it was trusted, and everything the solve did. */
export function formatRun(run: RunRecord): string {
  const detail = detailSchema.safeParse(run.verificationDetail ?? {});
  const reason = detail.success ? detail.data.reason : undefined;
  const checks = detail.success ? detail.data.verdicts : [];
  const width = 9;
  const head = [
    `run ${run.id} · bank ${run.bankId} · ${run.status}${run.model ? ` · model ${run.model}` : ""}`,
    ...labelled("query", preview(run.query, 5), width),
    `${"verdict".padEnd(width)}${run.verdict} by ${run.verification}${reason ? `: ${reason}` : ""}`,
    ...checks.map((c) => `${"".padEnd(width)}${c.verifier}: ${c.verdict} (${c.reason})`),
    `${"answer".padEnd(width)}${run.answer ?? "(none)"}${run.answerCanonical !== undefined && run.answerCanonical !== run.answer ? ` (canonical ${run.answerCanonical})` : ""}  confidence ${fixed(run.confidence, 2)}`,
  ];
  if (run.error) head.push(`${"error".padEnd(width)}${run.error}`);
  head.push(`${"params".padEnd(width)}${keyValues(run.params)}`);
  head.push(...strategyLines(run, width));
  const tail = [
    `${"vote".padEnd(width)}${voteLine(run)}`,
    `${"written".padEnd(width)}${run.writtenMemoryId ? `memory ${run.writtenMemoryId}` : "no memory"}`,
    `${"timings".padEnd(width)}${keyValues(run.timings)}`,
    `${"usage".padEnd(width)}${keyValues(run.usage)}`,
  ];
  return [head, recallTable(run), promptSection(run), samplesSection(run), tail]
    .map((section) => section.join("\n"))
    .join("\n\n");
}
