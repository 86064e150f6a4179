/**
 * The judge over whole rollouts of production's steps (10 % 300 s, 50 % 600 s, 100 % 600 s, a
 * 900 s watch), seeded: the targets it is built for, with the judge before beside it on the same
 * traffic. Each cell's runs are enough to resolve its target (0 failures in 300 runs puts a rate
 * below 1 % with 95 % confidence); `npm run bench:analysis` runs the larger grid.
 */
import { describe, expect, it } from "vitest";
import { judgeRollout, type RolloutResult } from "../lib/release/judge/replay.ts";
import { PASS_MARGIN, planSteps } from "../lib/release/judge/traffic-plan.ts";
import { replayBefore } from "./bench/judge-before.ts";
import { type Cell, generator, PRODUCTION_SETTINGS, PRODUCTION_STEPS, productionStep } from "./support/rollout-sim.ts";

const RUNS = 300;

function runCell(
  cell: Cell,
  seed: number,
  runs = RUNS,
): { now: RolloutResult[]; before: ReturnType<typeof replayBefore>[] } {
  const g = generator(seed);
  const now: RolloutResult[] = [];
  const before: ReturnType<typeof replayBefore>[] = [];
  for (let r = 0; r < runs; r++) {
    const lines = g.rollout(`r${r}`, cell);
    now.push(judgeRollout(`r${r}`, lines, productionStep, PRODUCTION_SETTINGS, 2));
    before.push(replayBefore(lines, productionStep, PRODUCTION_SETTINGS, 2));
  }
  return { now, before };
}
const share = (xs: readonly { verdict: string }[], v: string) => xs.filter((x) => x.verdict === v).length / xs.length;

describe("whole rollouts of production's steps at 100 requests/s, 0.5 % errors", () => {
  it.each([
    [{ name: "healthy", rps: 100, base: 0.005 }, 11],
    [{ name: "load balancer 5xx at 10 % of the base rate", rps: 100, base: 0.005, elb: 0.1 }, 12],
    [{ name: "load balancer 5xx at 50 % of the base rate", rps: 100, base: 0.005, elb: 0.5 }, 13],
    [{ name: "the stable slot's 5xx a period late", rps: 100, base: 0.005, late: true }, 14],
    [{ name: "a cold first minute in each step", rps: 100, base: 0.005, cold: true }, 15],
  ] as [Cell, number][])("%s: no false rollback, ≥ 95 % completed (the judge before: none)", (cell, seed) => {
    const { now, before } = runCell(cell, seed);
    expect(share(now, "rolled-back")).toBeLessThanOrEqual(0.01);
    expect(share(now, "completed")).toBeGreaterThanOrEqual(0.95);
    expect(share(before, "completed")).toBeLessThan(0.05);
  });

  it("a ×2 regression reaches 100 % in ≤ 5 % of rollouts", () => {
    const { now } = runCell({ name: "×2", rps: 100, base: 0.005, ratio: 2 }, 21);
    expect(now.filter((r) => r.step >= 2).length / RUNS).toBeLessThanOrEqual(0.05);
    expect(share(now, "rolled-back")).toBeGreaterThanOrEqual(0.95);
  });

  it("a ×10 regression is rolled back within the first half of the first step", () => {
    const { now } = runCell({ name: "×10", rps: 100, base: 0.005, ratio: 10 }, 22);
    for (const r of now) expect([r.verdict, r.step, r.decidedAt! <= 150]).toEqual(["rolled-back", 0, true]);
  });

  it("a 4× latency shift under the limit (200 → 800 ms, p99 below 1 s) fails ≥ 95 % (the judge before: rarely)", () => {
    const { now, before } = runCell({ name: "latency ×4", rps: 100, base: 0.005, latency: 4 }, 23);
    expect(share(now, "rolled-back")).toBeGreaterThanOrEqual(0.95);
    expect(share(before, "rolled-back")).toBeLessThan(0.2);
  });
});

describe("the guarantee and the plan", () => {
  it("the false-rollback bound holds for the whole rollout with load balancer 5xx at any rate (α = 10 % to resolve it: 1000 rollouts)", () => {
    const settings = { ...PRODUCTION_SETTINGS, falseRollbackPercent: 10, minSuccessRatePercent: 97 };
    const g = generator(31);
    let rolledBack = 0;
    for (let r = 0; r < 1000; r++) {
      // the canary as bad as the null allows: its 5xx rate the stable's, and with its share of the load
      // balancer's 5xx (1.9× the base) just under the 3 % limit
      const lines = g.rollout(`r${r}`, { name: "null", rps: 20, base: 0.01, elb: 1.9 });
      if (judgeRollout(`r${r}`, lines, productionStep, settings, 2).verdict === "rolled-back") rolledBack++;
    }
    expect(rolledBack / 1000).toBeLessThanOrEqual(0.1);
  });

  it("the plan's pass chances are met or beaten by the judge: reachable at 100 requests/s (≥ 95 %), not at 30", () => {
    const plan = (rps: number) =>
      planSteps({
        rps,
        baseErrorRatePercent: 0.5,
        settings: PRODUCTION_SETTINGS,
        publishDelaySeconds: 0,
        intervalSeconds: 60,
        steps: PRODUCTION_STEPS.slice(0, 3),
      });
    expect(plan(100).map((s) => s.reachable)).toEqual([true, true, true]);
    expect(plan(100).every((s) => s.passPercent >= PASS_MARGIN)).toBe(true);
    const quiet = plan(30);
    expect(quiet.map((s) => s.reachable)).toEqual([false, false, true]);
    const { now } = runCell({ name: "30 requests/s", rps: 30, base: 0.005 }, 41);
    const passedFirst = now.filter((r) => r.step > 0).length / RUNS;
    expect(passedFirst).toBeGreaterThanOrEqual(quiet[0]!.passPercent / 100 - 0.05);
    expect(passedFirst).toBeLessThan(PASS_MARGIN / 100);
  });

  it("the smallest detectable regression: the plan's figure for a long 50 % step is detected with the power it says", () => {
    const steps = [{ index: 0, percent: 50, bakeSeconds: 1800, maxRatio: 2 }];
    const plan = planSteps({
      rps: 100,
      baseErrorRatePercent: 1,
      settings: PRODUCTION_SETTINGS,
      publishDelaySeconds: 0,
      intervalSeconds: 60,
      steps,
    });
    const smallest = plan[0]!.detectableRatio!;
    expect(smallest).toBeGreaterThan(1);
    expect(smallest).toBeLessThan(1.5);
    const g = generator(51);
    let failed = 0;
    for (let r = 0; r < 200; r++) {
      const lines = g.rollout(`r${r}`, { name: "smallest", rps: 100, base: 0.01, ratio: smallest }, steps);
      if (judgeRollout(`r${r}`, lines, (i) => steps[i]!, PRODUCTION_SETTINGS, 0).verdict === "rolled-back") failed++;
    }
    expect(failed / 200).toBeGreaterThanOrEqual(0.9);
  });
});
