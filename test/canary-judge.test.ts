/** The sequential canary judge, the traffic plan and replay: behaviour on constructed traffic. */
import { describe, expect, it } from "vitest";
import { parseSeries, replaySeries, type SeriesLine } from "../lib/release/judge/replay.ts";
import {
  addInterval,
  type Interval,
  type JudgeSettings,
  type StepContext,
  startStep,
  testsFor,
  verdict,
} from "../lib/release/judge/sequential.ts";
import { planSteps } from "../lib/release/judge/traffic-plan.ts";

const settings: JudgeSettings = {
  falseRollbackPercent: 1,
  detect: 2,
  powerPercent: 95,
  minSuccessRatePercent: 95,
  errorRateFloorPercent: 0.1,
  enforce: { errors: true, latency: true, evidence: true },
};
const step: StepContext = { percent: 10, plannedRequests: 0, looks: 10 };

/** Deterministic traffic: every interval exactly the expected counts (rounded). */
function traffic(o: {
  polls: number;
  rps: number;
  percent: number;
  base: number;
  canaryRate: number;
  slow?: number;
  canarySlow?: number | null;
}): Interval[] {
  const out: Interval[] = [];
  const perPoll = o.rps * 30;
  for (let k = 1; k <= o.polls; k++) {
    const c = Math.round((perPoll * o.percent) / 100);
    const s = perPoll - c;
    out.push({
      t: 30 * k,
      canary: {
        requests: c,
        errors: Math.round(c * o.canaryRate),
        slow: o.canarySlow === null ? null : Math.round(c * (o.canarySlow ?? o.slow ?? 0.002)),
      },
      stable: { requests: s, errors: Math.round(s * o.base), slow: Math.round(s * (o.slow ?? 0.002)) },
    });
  }
  return out;
}

function run(intervals: Interval[], s = settings, ctx = step, bake = intervals.at(-1)!.t) {
  const tests = testsFor(s);
  let state = startStep(tests);
  for (const i of intervals) {
    state = addInterval(state, tests, i);
    const v = verdict(state, tests, s, ctx, i.t >= bake);
    if (v.status !== "pending") return { ...v, t: i.t, state };
  }
  throw new Error("no verdict");
}

describe("sequential judge", () => {
  it("passes a healthy canary once the step has the evidence, and says what it needed", () => {
    const v = run(traffic({ polls: 10, rps: 200, percent: 10, base: 0.02, canaryRate: 0.02 }));
    expect(v.status).toBe("pass");
    expect(v.required!.requests).toBeLessThanOrEqual(v.state.canary.requests);
    expect(v.required!.basis).toBe("to detect 2× a 2 % error rate with 95 % power");
  });

  it("fails a 5× canary at the poll where the evidence crosses, long before the end of the bake", () => {
    const v = run(traffic({ polls: 20, rps: 50, percent: 10, base: 0.01, canaryRate: 0.05 }));
    expect(v.status).toBe("fail");
    expect(v.t).toBeLessThanOrEqual(90);
    expect(v.reasons[0]).toMatch(
      /^errors vs stable: evidence \d+ ≥ bound 250 \(canary \d+\/\d+ 5xx, stable \d+\/\d+\)$/,
    );
  });

  it("fails a canary that answers half its requests with 5xx on a quiet service (1 request/s) instead of calling it inconclusive", () => {
    const intervals = traffic({ polls: 10, rps: 1, percent: 50, base: 0.005, canaryRate: 0.5 });
    const v = run(intervals, settings, { ...step, percent: 50 });
    expect(v.status).toBe("fail");
    expect(v.reasons.some((r) => r.startsWith("errors vs limit"))).toBe(true);
  });

  it("calls a quiet healthy step inconclusive, naming the requests it needed", () => {
    const v = run(traffic({ polls: 10, rps: 2, percent: 10, base: 0.005, canaryRate: 0.005 }));
    expect(v.status).toBe("inconclusive");
    // The stable slot's 540 requests showed no error: the requirement is for the 0.1 % floor.
    expect(v.reasons[0]).toMatch(
      /^the canary served 60 requests; \d+ are needed to detect 2× a 0.1 % error rate with 95 % power$/,
    );
  });

  it("never passes without data", () => {
    const v = run([
      { t: 300, canary: { requests: 0, errors: 0, slow: 0 }, stable: { requests: 0, errors: 0, slow: 0 } },
    ]);
    expect(v.status).toBe("inconclusive");
    expect(v.reasons[0]).toContain("no requests");
  });

  it("fails slow canaries through the slow-request counts", () => {
    const v = run(traffic({ polls: 10, rps: 100, percent: 10, base: 0.005, canaryRate: 0.005, canarySlow: 0.05 }));
    expect(v.status).toBe("fail");
    expect(v.reasons.join("; ")).toMatch(/slow vs (stable|limit)/);
  });

  it("is inconclusive without slow-request counts while latency is enforced, and passes with a note when it is observe-only", () => {
    const intervals = traffic({ polls: 10, rps: 200, percent: 10, base: 0.02, canaryRate: 0.02, canarySlow: null });
    expect(run(intervals).status).toBe("inconclusive");
    const observe = run(intervals, { ...settings, enforce: { ...settings.enforce, latency: false } });
    expect(observe.status).toBe("pass");
    expect(observe.observed).toContain("no slow-request counts were read for the latency checks");
  });

  it("observe-only errors: the failure is reported, the step is not failed", () => {
    const intervals = traffic({ polls: 10, rps: 200, percent: 10, base: 0.01, canaryRate: 0.05 });
    const v = run(intervals, { ...settings, enforce: { errors: false, latency: true, evidence: true } });
    expect(v.status).toBe("pass");
    expect(v.observed.some((o) => o.startsWith("errors vs stable"))).toBe(true);
  });

  it("holds an interval in which one slot served nothing until both have, so no error escapes the comparison", () => {
    const tests = testsFor(settings);
    const a = addInterval(startStep(tests), tests, {
      t: 30,
      canary: { requests: 100, errors: 10, slow: 0 },
      stable: { requests: 0, errors: 0, slow: 0 },
    });
    expect(a.held.canary.errors).toBe(10);
    expect(a.errorsRatio.every((x) => x === 0)).toBe(true);
    const b = addInterval(a, tests, {
      t: 60,
      canary: { requests: 100, errors: 0, slow: 0 },
      stable: { requests: 900, errors: 2, slow: 0 },
    });
    expect(b.held.canary.requests).toBe(0);
    expect(b.errorsRatio.every((x) => x > 0)).toBe(true);
  });

  it("never passes below the plan's requirement", () => {
    const intervals = traffic({ polls: 10, rps: 200, percent: 10, base: 0.02, canaryRate: 0.02 });
    const v = run(intervals, settings, { ...step, plannedRequests: 1_000_000 });
    expect(v.status).toBe("inconclusive");
    expect(v.required!.requests).toBe(1_000_000);
  });
});

describe("traffic plan", () => {
  const input = {
    rps: 20,
    baseErrorRatePercent: 0.5,
    settings,
    publishDelaySeconds: 120,
    intervalSeconds: 30,
    steps: [
      { percent: 10, bakeSeconds: 300 },
      { percent: 50, bakeSeconds: 600 },
      { percent: 100, bakeSeconds: 300 },
    ],
  };

  it("says which steps cannot reach a verdict and what would fix them", () => {
    const [first, , last] = planSteps(input);
    expect(first!.expectedCanaryRequests).toBe(360);
    expect(first!.reachable).toBe(false);
    expect(first!.fix).toMatch(/^needs a bake of \d+ s \(or a larger detect than 2×\)$/);
    expect(planSteps({ ...input, rps: 200 })[0]!.fix).toMatch(
      /^needs a bake of \d+ s or \d+ % of the traffic \(or a larger detect than 2×\)$/,
    );
    expect(last!.reachable).toBe(true);
    expect(last!.basis).toBe("to detect a 10 % error rate against the 5 % limit with 95 % power");
  });

  it("the bake it proposes reaches a verdict", () => {
    const first = planSteps(input)[0]!;
    const bake = Number(/a bake of (\d+) s/.exec(first.fix!)![1]);
    const again = planSteps({ ...input, steps: [{ percent: 10, bakeSeconds: bake }] })[0]!;
    expect(again.reachable).toBe(true);
    expect(planSteps({ ...input, steps: [{ percent: 10, bakeSeconds: bake - 30 }] })[0]!.reachable).toBe(false);
  });

  it("at higher traffic the step detects smaller regressions, sooner", () => {
    const quiet = planSteps({ ...input, rps: 100 })[1]!;
    const busy = planSteps({ ...input, rps: 1000 })[1]!;
    expect(busy.detectableRatio!).toBeLessThan(quiet.detectableRatio!);
    expect(busy.failAfterSeconds!).toBeLessThan(quiet.failAfterSeconds!);
  });
});

describe("replay", () => {
  const steps = (i: number) =>
    i === 0
      ? { percent: 10, bakeSeconds: 300 }
      : i === 1
        ? { percent: 50, bakeSeconds: 300 }
        : `no canary step ${i}: the environment's weight steps are 0..1`;
  const def = (i: number) => ({
    ...(steps(i) as { percent: number; bakeSeconds: number }),
    intervalSeconds: 30,
    publishDelaySeconds: 0,
  });
  const line = (run: string, t: number, c: [number, number], s: [number, number], stepIndex = 0): SeriesLine => ({
    run,
    step: stepIndex,
    t,
    canary: { requests: c[0], errors: c[1], slow: 0 },
    stable: { requests: s[0], errors: s[1], slow: 0 },
  });

  it("reports every bad line at once, naming the file and line, and judges nothing", () => {
    const text = [
      JSON.stringify(line("a", 30, [10, 0], [90, 0])),
      JSON.stringify({ ...line("c", 60, [10, 0], [90, 0]), step: 7 }),
      JSON.stringify(line("a", 30, [10, 0], [90, 0])),
      JSON.stringify(line("b", 30, [-1, 0], [90, 0])),
      JSON.stringify(line("b", 60, [10, 11], [90, 0])),
      "{not json",
    ].join("\n");
    const { problems } = parseSeries(text, "series.jsonl", steps);
    expect(problems).toEqual([
      "series.jsonl:2: step: no canary step 7: the environment's weight steps are 0..1",
      "series.jsonl:3: t: 30 is not after 30 (line 1): a run's lines must come in time order",
      "series.jsonl:4: canary.requests: must not be negative",
      "series.jsonl:5: canary.errors: must not exceed requests (10)",
      expect.stringMatching(/^series\.jsonl:6: not JSON/),
    ]);
  });

  it("judges each run of a file poll by poll: a decision with its time, and pending when the series ends early", () => {
    const bad = Array.from({ length: 10 }, (_, k) => line("bad", 30 * (k + 1), [600, 30], [5400, 27]));
    const short = Array.from({ length: 3 }, (_, k) => line("short", 30 * (k + 1), [600, 3], [5400, 27]));
    const results = replaySeries([...bad, ...short], def, settings);
    expect(results.map((r) => [r.run, r.verdict])).toEqual([
      ["bad", "fail"],
      ["short", "pending"],
    ]);
    expect(results[0]!.decidedAt).toBe(30);
    expect(results[1]!.decidedAt).toBeNull();
  });
});
