import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adaptiveOptionsSchema, adaptiveStop, leaderProbability } from "../src/reasoning/adaptive.js";

describe("probability that the leader stays ahead", () => {
  it.each([
    // P(Bin(v1 + v2 + 1, ½) ≤ v1), worked by hand
    [3, 0, 15 / 16],
    [4, 0, 31 / 32],
    [5, 1, 120 / 128],
    [5, 2, 219 / 256],
    [6, 2, 466 / 512],
    [8, 3, 3797 / 4096],
  ])("is exact for whole counts: %i against %i gives %f", (leader, runnerUp, expected) => {
    expect(leaderProbability(leader, runnerUp)).toBeCloseTo(expected, 12);
  });

  it("is exactly one half for a tie, and for no votes at all", () => {
    expect(leaderProbability(7, 7)).toBeCloseTo(0.5, 12);
    expect(adaptiveStop([]).probability).toBeCloseTo(0.5, 12);
  });

  it("reads weights with the real-valued Beta: Beta(a, 1) gives 1 − ½^a and equal weights ½", () => {
    // the Beta(a, 1) CDF is x^a, so P(X > ½) = 1 − ½^a for any real a
    for (const leader of [0.3, 2.5, 3.7, 11.2]) {
      expect(leaderProbability(leader, 0)).toBeCloseTo(1 - 0.5 ** (leader + 1), 10);
    }
    expect(leaderProbability(2.35, 2.35)).toBeCloseTo(0.5, 10);
  });

  it("agrees between the binomial sum and the continued fraction next to whole counts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), (a, b) => {
        const [leader, runnerUp] = a >= b ? [a, b] : [b, a];
        const nudged = leaderProbability(leader + 1e-9, runnerUp);
        expect(nudged).toBeCloseTo(leaderProbability(leader, runnerUp), 7);
      }),
    );
  });

  it("does not overflow for thousands of votes", () => {
    // Beta(1501, 1301) has mean 0.536 and sd 0.0094: 0.5 is 3.8 sd below, P ≈ 0.9999
    const p = leaderProbability(1500, 1300);
    expect(p).toBeGreaterThan(0.9998);
    expect(p).toBeLessThanOrEqual(1);
    expect(leaderProbability(1400, 1400)).toBeCloseTo(0.5, 8);
  });
});

describe("stopping decision", () => {
  it("stops when the leader's probability reaches the threshold, in whatever order the counts come", () => {
    expect(adaptiveStop([4], { threshold: 0.95 })).toEqual({ stop: true, probability: 31 / 32 });
    expect(adaptiveStop([1, 6, 1], { threshold: 0.95 }).stop).toBe(true);
    expect(adaptiveStop([2, 5, 1], { threshold: 0.95 }).stop).toBe(false);
  });

  it("uses the default threshold 0.9 and minimum of 3 samples", () => {
    expect(adaptiveOptionsSchema.parse({})).toEqual({ threshold: 0.9, minSamples: 3 });
    // 6–2 is P = 0.910: enough for the default, not for 0.95
    expect(adaptiveStop([6, 2]).stop).toBe(true);
    expect(adaptiveStop([6, 2], { threshold: 0.95 }).stop).toBe(false);
  });

  it("never stops before minSamples, however one-sided the votes", () => {
    expect(adaptiveStop([5], { minSamples: 6 }).stop).toBe(false);
    expect(adaptiveStop([5], { minSamples: 5 }).stop).toBe(true);
  });

  it("counts samples without an answer towards minSamples when told how many were drawn", () => {
    expect(adaptiveStop([3], { threshold: 0.9, minSamples: 4 }).stop).toBe(false);
    expect(adaptiveStop([3], { threshold: 0.9, minSamples: 4, samples: 4 }).stop).toBe(true);
  });

  it("always stops at the cap, even on a tie", () => {
    expect(adaptiveStop([8, 8], { samples: 16, maxSamples: 16 })).toEqual({
      stop: true,
      probability: expect.closeTo(0.5, 12),
    });
    expect(adaptiveStop([8, 7], { samples: 15, maxSamples: 16 }).stop).toBe(false);
  });

  it("rejects thresholds that would stop on a tie or never, and negative counts", () => {
    expect(() => adaptiveStop([3], { threshold: 0.5 })).toThrow();
    expect(() => adaptiveStop([3], { threshold: 1 })).toThrow();
    expect(() => adaptiveStop([3], { minSamples: 0 })).toThrow();
    expect(() => adaptiveStop([3, -1])).toThrow(RangeError);
  });
});
