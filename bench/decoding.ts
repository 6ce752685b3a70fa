import { createBank } from "../src/memory/banks.js";
import { createModelClient } from "../src/reasoning/model.js";
import { solve } from "../src/reasoning/pipeline.js";
import type { SolveOptions } from "../src/reasoning/solveOptions.js";
import type { CallContext } from "../src/services.js";
import { seededRng } from "../test/support/fakeOpenAI/random.js";
import {
  type Branch,
  type ChatBehavior,
  type FakeOpenAI,
  startFakeOpenAI,
} from "../test/support/fakeOpenAI.js";
import { benchContext, report } from "./support.js";

/**
 * Universal self-consistency against the exact-string vote, and CoT-decoding against greedy decoding, on
 * the fake model's scripted families (test/support/fakeOpenAI): how often each picks the scripted right
 * answer, how often consensus accepts, and what each costs in requests and tokens. The fake selects and
 * scores as scripted, so these figures check the mechanism and price it; they say nothing of a real model.
 */
export async function benchDecoding(questions = 60) {
  const ctx = await benchContext();
  const fake = await startFakeOpenAI({ seed: 1 });
  try {
    ctx.model = createModelClient({ name: "fake", baseURL: fake.url, maxRetries: 0 });
    return [...(await freeText(ctx, fake, questions)), ...(await branching(ctx, fake, questions))];
  } finally {
    await fake.close();
    await ctx.close();
  }
}

interface Arm {
  right: number;
  consensus: number;
  requests: number;
  tokens: number;
}

async function runArm(
  ctx: CallContext,
  fake: FakeOpenAI,
  bankId: string,
  queries: { query: string; right: (answer: string | undefined) => boolean }[],
  options: SolveOptions,
): Promise<Arm> {
  const arm = { right: 0, consensus: 0, requests: 0, tokens: 0 };
  const bank = await createBank({
    ctx,
    input: { id: bankId, domain: bankId.startsWith("text") ? "text" : "number" },
  });
  for (const { query, right } of queries) {
    const before = fake.requests.length;
    const result = await solve({
      ctx,
      bank,
      query,
      options: { k: 0, strategy: "plain", writeBack: false, ...options },
    });
    arm.requests += fake.requests.length - before;
    arm.tokens += (result.usage.promptTokens ?? 0) + (result.usage.completionTokens ?? 0);
    if (right(result.answer)) arm.right++;
    if (result.verification === "consensus") arm.consensus++;
  }
  const n = queries.length;
  return {
    right: arm.right / n,
    consensus: arm.consensus / n,
    requests: arm.requests / n,
    tokens: arm.tokens / n,
  };
}

const PHRASINGS = ["blue", "It is blue", "The sky is blue", "blue, as on a clear day"];
const OTHERS = ["grey", "green"];
const meaningOf = (answer: string) =>
  [...OTHERS, "blue"].find((m) => answer.toLowerCase().includes(m)) ?? answer;

/** Free text: each sample means the right answer with p 0.55, in one of four wordings; else one of two others. */
async function freeText(ctx: CallContext & { label: string }, fake: FakeOpenAI, questions: number) {
  const queries = Array.from({ length: questions }, (_, i) => ({
    query: `Question ${i}: what colour is the sky at noon on a clear day?`,
    right: (answer: string | undefined) => meaningOf(answer ?? "") === "blue",
  }));
  const behavior: ChatBehavior = {
    kind: "freeText",
    answers: (q) => {
      const rng = seededRng("free-text", q);
      return Array.from({ length: 8 }, () =>
        rng() < 0.55
          ? (PHRASINGS[Math.floor(rng() * PHRASINGS.length)] as string)
          : (OTHERS[Math.floor(rng() * OTHERS.length)] as string),
      );
    },
    meaningOf,
  };
  const options = { samples: 8, batchSize: 8, adaptive: false };
  fake.setBehavior(behavior);
  const vote = await runArm(ctx, fake, "text-vote", queries, { ...options, selection: "vote" });
  fake.setBehavior(behavior);
  const universal = await runArm(ctx, fake, "text-universal", queries, {
    ...options,
    selection: "universal",
  });
  console.log(
    `\nselection: ${questions} free-text questions, 8 samples each, on the fake model (${ctx.label})`,
  );
  return [
    report("  vote: picks the scripted right meaning", vote.right * 100, "%"),
    report("  universal: picks the scripted right meaning", universal.right * 100, "%", {
      op: "≥",
      value: Math.round(vote.right * 100),
    }),
    report("  vote: accepted on consensus", vote.consensus * 100, "%"),
    report("  universal: accepted on consensus", universal.consensus * 100, "%"),
    report("  vote: requests per solve", vote.requests, "requests"),
    report("  universal: requests per solve", universal.requests, "requests"),
    report("  vote: tokens per solve", vote.tokens, "tokens"),
    report("  universal: tokens per solve", universal.tokens, "tokens"),
  ];
}

const FIRST_TOKENS = ["Five", "Start", "Nine", "We", "So"];
const FIRST_PROBABILITIES = [0.4, 0.25, 0.15, 0.12, 0.08];

/**
 * First-token branching: the greedy first token leads to the right answer on 40% of questions, each other
 * branch on half; a right path's answer tokens have probability 0.55–0.95, a wrong one's 0.3–0.7.
 */
function branchesFor(question: string, answer: number): Branch[] {
  const rng = seededRng("branching", question);
  return FIRST_TOKENS.map((token, j) => {
    const right = rng() < (j === 0 ? 0.4 : 0.5);
    const value = right ? answer : answer + 1 + j;
    return {
      token,
      probability: FIRST_PROBABILITIES[j] as number,
      continuation: ` working it through, the count is ${value}.\n#### ${value}`,
      confidence: right ? 0.55 + 0.4 * rng() : 0.3 + 0.4 * rng(),
    };
  });
}

async function branching(ctx: CallContext, fake: FakeOpenAI, questions: number) {
  const answerOf = (q: string) =>
    Number(
      q
        .match(/has (\d+) apples and gets (\d+)/)
        ?.slice(1)
        .reduce((a, b) => a + Number(b), 0),
    );
  const queries = Array.from({ length: questions }, (_, i) => {
    const query = `Tom has ${i + 3} apples and gets ${(i % 7) + 2} more. How many apples does Tom have?`;
    return { query, right: (answer: string | undefined) => Number(answer) === answerOf(query) };
  });
  fake.setBehavior({
    kind: "branching",
    branches: (q) => (q.includes("Tom has") ? branchesFor(q, answerOf(q)) : undefined),
  });
  const greedy = await runArm(ctx, fake, "greedy", queries, {
    samples: 1,
    temperature: 0,
    adaptive: false,
    selection: "vote",
  });
  const cot = await runArm(ctx, fake, "cot-decoding", queries, { decoding: "cot-decoding" });
  console.log(
    `\ndecoding: ${questions} scripted arithmetic questions, 5 first-token branches, on the fake model`,
  );
  return [
    report("  greedy: right", greedy.right * 100, "%"),
    report("  cot-decoding: right", cot.right * 100, "%", { op: "≥", value: Math.round(greedy.right * 100) }),
    report("  greedy: requests per solve", greedy.requests, "requests"),
    report("  cot-decoding: requests per solve (probe once)", cot.requests, "requests"),
    report("  greedy: tokens per solve", greedy.tokens, "tokens"),
    report("  cot-decoding: tokens per solve", cot.tokens, "tokens"),
  ];
}
