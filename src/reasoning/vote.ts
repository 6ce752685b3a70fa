import type { Domain } from "../domains/domain.js";

/** What a sample brings to the vote: its answer, as written and canonical, and how sure the model was. */
export interface Ballot {
  /** the final answer as the chain wrote it */
  answer?: string;
  /** the domain's canonical form of it; samples without one do not vote */
  answerCanonical?: string;
  /** the model's confidence in the answer (0..1, from logprobs) */
  confidence?: number;
}

/** One distinct answer and the votes it got. */
export interface AnswerTally {
  /** canonical form (that of its first sample) */
  answer: string;
  /** the first raw answer text seen for it, for display */
  display: string;
  /** the sum of its samples' weights (their count when the vote is unweighted) */
  weight: number;
  /** how many samples gave it */
  count: number;
  /** its weight over the total weight of all voters */
  share: number;
}

/** The outcome of a majority vote. */
export interface VoteResult {
  winner?: AnswerTally;
  /** every distinct answer, heaviest first; equal weights keep the order their first samples came in */
  tallies: AnswerTally[];
  /** whether samples were weighted by their confidence */
  weighted: boolean;
  /** the winner's share of the vote, 0 when nobody voted */
  confidence: number;
  /** how many samples had an answer to vote with */
  voters: number;
}

/**
 * Self-consistency majority vote over canonical answers, grouped by the domain's notion of equality. Each
 * sample weighs its confidence when every voting sample has one (CoT-decoding: a path whose answer tokens are
 * more probable counts more); if any lacks it the vote is unweighted, since mixing weights with ones would
 * favour whichever samples happened to have no logprobs.
 */
export function vote(ballots: readonly Ballot[], domain: Domain): VoteResult {
  const voters = ballots.filter(
    (b): b is Ballot & { answerCanonical: string } => b.answerCanonical !== undefined,
  );
  const weighted =
    voters.length > 0 &&
    voters.every((b) => b.confidence !== undefined && Number.isFinite(b.confidence) && b.confidence > 0);
  const tallies: AnswerTally[] = [];
  for (const ballot of voters) {
    const weight = weighted ? (ballot.confidence as number) : 1;
    const tally = tallies.find((t) => domain.equal(t.answer, ballot.answerCanonical));
    if (tally) {
      tally.weight += weight;
      tally.count += 1;
    } else {
      tallies.push({
        answer: ballot.answerCanonical,
        display: ballot.answer ?? ballot.answerCanonical,
        weight,
        count: 1,
        share: 0,
      });
    }
  }
  const total = tallies.reduce((sum, t) => sum + t.weight, 0);
  for (const tally of tallies) tally.share = total > 0 ? tally.weight / total : 0;
  // sort is stable: tallies were created in the order of their first sample, so that order breaks ties
  tallies.sort((a, b) => b.weight - a.weight);
  const winner = tallies[0];
  return { winner, tallies, weighted, confidence: winner?.share ?? 0, voters: voters.length };
}
