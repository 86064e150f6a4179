/**
 * The canary judge's inputs, each case with the numbers that showed it wrong in the judge before
 * (test/bench/judge-before.ts) and the fix; its verdicts on constructed periods; replay of series.
 */
import { describe, expect, it } from "vitest";
import { analysePoll, type StepAnalysis, startAnalysis } from "../lib/release/judge/analysis.ts";
import { ratioUpperBound } from "../lib/release/judge/mixtures.ts";
import { judgeRollout, parseSeries, replaySeries, type SeriesLine } from "../lib/release/judge/replay.ts";
import {
  addPeriod,
  enterStep,
  type JudgeSettings,
  type Period,
  readings,
  type StepContext,
  startRollout,
  testsFor,
} from "../lib/release/judge/sequential.ts";
import { verdict } from "../lib/release/judge/verdict.ts";
import type { WindowMetrics } from "../lib/release/ports/index.ts";
import * as before from "./bench/judge-before.ts";
import { PRODUCTION_SETTINGS, productionStep } from "./support/rollout-sim.ts";

const settings: JudgeSettings = { ...PRODUCTION_SETTINGS, minSuccessRatePercent: 95 };
const tests = testsFor(settings);
const step0: StepContext = { index: 0, percent: 10, bakeSeconds: 300, maxRatio: 5 };
const beforeSettings: before.JudgeSettings = { ...settings };

const counts = (requests: number, errors: number, slow: number | null = 0) => ({ requests, errors, slow });
const period = (t: number, c: ReturnType<typeof counts>, s: ReturnType<typeof counts>, lbErrors = 0): Period => ({
  t,
  canary: c,
  stable: s,
  lbErrors,
});

/** The metrics CloudWatch returns for one period (start at 0), blue the canary. */
function window(
  canary: [number, number, number | null],
  stable: [number, number, number | null],
  elb = 0,
): WindowMetrics {
  const slot = (x: [number, number, number | null]) => ({
    requests: x[0],
    target5xx: x[1],
    slow: x[2],
    p99Seconds: 0.3,
  });
  const slots = { blue: slot(canary), green: slot(stable) };
  return { elb5xx: elb, slots, periods: [{ start: new Date(0), slots, elb5xx: elb }] };
}
const observe = (at: number, m: WindowMetrics) => ({
  canary: "blue" as const,
  stable: "green" as const,
  windowStart: new Date(0),
  windowEnd: new Date(at * 1000),
  metrics: m,
  alarms: { alarming: [], missing: [], states: [] },
});

describe("judge inputs: the cases that failed healthy canaries before, and the fix", () => {
  it("a period read while one series is still missing is not judged; read whole, once, it is; what comes later is late data, not counted", () => {
    // The judge before: canary 1000/4 and stable 9000/0, then the stable's 36 one poll later.
    const bt = before.testsFor(beforeSettings);
    let s = before.addInterval(before.startStep(bt), bt, { t: 30, canary: counts(1000, 4), stable: counts(9000, 0) });
    const first = before.verdict(s, bt, beforeSettings, { percent: 10, plannedRequests: 0, looks: 6 }, false);
    expect(first.status).toBe("fail");
    expect(first.readings[0]!.logEvidence).toBeCloseTo(5.85, 2);
    expect(first.readings[0]!.logBound).toBeCloseTo(5.52, 2);
    s = before.addInterval(s, bt, { t: 60, canary: counts(0, 0), stable: counts(0, 36) });
    // Now: the period (0–60 s) is judged only past the publishing delay (120 s), whole.
    const timing = { periodSeconds: 60, publishDelaySeconds: 120 };
    // The step began 2 minutes before the period: past its warm-up.
    let a: StepAnalysis = startAnalysis(settings, step0, { enforceAlarms: true, timing, started: new Date(-120_000) });
    let polled = analysePoll(a, observe(90, window([1000, 4, 0], [9000, 0, 0])), false);
    expect(polled.verdict.judgedNow).toBe(0);
    expect(polled.verdict.status).toBe("pending");
    a = polled.analysis;
    polled = analysePoll(a, observe(180, window([1000, 4, 0], [9000, 36, 0])), false);
    expect(polled.verdict.judgedNow).toBe(1);
    expect(polled.verdict.status).toBe("pending");
    const errors = polled.verdict.readings.find((r) => r.name === "errors vs stable")!;
    expect(errors.logEvidence).toBeLessThan(0);
    a = polled.analysis;
    polled = analysePoll(a, observe(210, window([1000, 4, 0], [9000, 50, 0])), false);
    expect(polled.verdict.judgedNow).toBe(0);
    expect(polled.verdict.late).toEqual([
      "late data for the period of 00:00 (judged before): target 5xx +14; not counted",
    ]);
    expect(polled.analysis.state.errorsRatio).toEqual(a.state.errorsRatio);
    expect(polled.analysis.state.notes.at(-1)!.kind).toBe("late-data");
  });

  it("counts that cannot be true (60 5xx of 50 requests) are left out and shown; the judge fails closed only when they persist", () => {
    const bt = before.testsFor(beforeSettings);
    const old = before.addInterval(before.startStep(bt), bt, { t: 60, canary: counts(50, 60), stable: counts(450, 2) });
    const oldLimit = before.readings(old, bt).find((r) => r.name === "errors vs limit")!;
    expect(Math.exp(oldLimit.logEvidence)).toBeGreaterThan(200);
    expect(before.verdict(old, bt, beforeSettings, { percent: 10, plannedRequests: 0, looks: 6 }, false).status).toBe(
      "fail",
    );
    let s = addPeriod(startRollout(step0), tests, settings, period(60, counts(50, 60), counts(450, 2)));
    expect(verdict(s, tests, settings, false).status).toBe("pending");
    expect(s.notes[0]).toMatchObject({
      kind: "inconsistent",
      text: "inconsistent data: canary 60 5xx of 50 requests; the period is left out",
    });
    expect(s.errorsLimit).toEqual({ failures: 0, requests: 0 });
    s = addPeriod(s, tests, settings, period(120, counts(500, 2), counts(4500, 20)));
    expect(s.stats.inconsistentRun).toBe(0);
    for (const t of [180, 240, 300]) s = addPeriod(s, tests, settings, period(t, counts(50, 60), counts(450, 2)));
    const v = verdict(s, tests, settings, false);
    expect(v.status).toBe("inconclusive");
    expect(v.reasons[0]).toMatch(
      /^the counts could not be true in 3 periods in a row \(inconsistent data: canary 60 5xx of 50 requests/,
    );
  });

  it("a period without slow counts is missing alone: 300,000 canary requests with one such period pass", () => {
    const big: StepContext = { index: 1, percent: 50, bakeSeconds: 600, maxRatio: 2 };
    let s = startRollout(big);
    for (let k = 1; k <= 10; k++)
      s = addPeriod(
        s,
        tests,
        settings,
        period(60 * k, counts(30_000, 150, k === 1 ? null : 60), counts(30_000, 150, 60)),
      );
    expect(s.stats.canary.requests).toBe(300_000);
    expect(s.stats.slowMissing).toBe(1);
    expect(verdict(s, tests, settings, true).status).toBe("pass");
    // Most periods without: the latency limit was not checked, the step is inconclusive (observe-only: a note).
    let m = startRollout(big);
    for (let k = 1; k <= 10; k++)
      m = addPeriod(
        m,
        tests,
        settings,
        period(60 * k, counts(30_000, 150, k > 3 ? null : 60), counts(30_000, 150, 60)),
      );
    expect(verdict(m, tests, settings, true).reasons).toEqual([
      "no slow-request counts in 7 of the step's 10 periods (the latency limit was not checked)",
    ]);
    const observeOnly = { ...settings, enforce: { ...settings.enforce, latency: false } };
    expect(verdict(m, tests, observeOnly, true).status).toBe("pass");
  });

  it("a period without slow counts takes them from its response-time buckets when the latency limit is an edge", () => {
    const withLimit = { ...settings, latencyLimitSeconds: 1 };
    const p: Period = {
      t: 120,
      canary: { requests: 600, errors: 3, slow: null, latency: [300, 290, 10] },
      stable: { requests: 5400, errors: 27, slow: null, latency: [2700, 2690, 10] },
      lbErrors: 0,
      edges: [0.2, 1],
    };
    const s = addPeriod(startRollout(step0), tests, withLimit, p);
    expect(s.stats.slowMissing).toBe(0);
    expect(s.slowLimit).toEqual({ failures: 10, requests: 600 });
    // without the limit among the edges, the period has no slow count
    expect(addPeriod(startRollout(step0), tests, withLimit, { ...p, edges: [0.2, 0.5] }).stats.slowMissing).toBe(1);
  });

  it("the load balancer's 5xx go to the slots by request share: a healthy canary keeps no evidence against it, however many", () => {
    // 10 % canary, 600 / 5400 requests, 3 / 27 target 5xx, and 100 load balancer 5xx (both slots' timeouts).
    let s = startRollout(step0);
    for (let k = 2; k <= 5; k++)
      s = addPeriod(s, tests, settings, period(60 * k, counts(600, 3), counts(5400, 27), 100));
    const [ratio] = readings(s, tests);
    expect(ratio!.logEvidence).toBeLessThan(0);
    expect(s.errorsLimit.failures).toBeCloseTo(4 * (3 + 10), 6);
    // The judge before charged all 100 to the canary: 103 of 130 errors, rolled back at once.
    const bt = before.testsFor(beforeSettings);
    const old = before.addInterval(before.startStep(bt), bt, {
      t: 120,
      canary: counts(600, 103),
      stable: counts(5400, 27),
    });
    expect(before.verdict(old, bt, beforeSettings, { percent: 10, plannedRequests: 0, looks: 6 }, false).status).toBe(
      "fail",
    );
  });

  it("a failure common to both slots holds the step and is recorded; the canary is not blamed", () => {
    // 1 % limit (production); one period with both slots at 20× a 0.5 % rate.
    const prod = testsFor(PRODUCTION_SETTINGS);
    let s = startRollout(step0);
    for (let k = 1; k <= 4; k++)
      s = addPeriod(s, prod, PRODUCTION_SETTINGS, period(60 * k, counts(600, 3), counts(5400, 27)));
    s = addPeriod(s, prod, PRODUCTION_SETTINGS, period(300, counts(600, 60), counts(5400, 540)));
    const held = verdict(s, prod, PRODUCTION_SETTINGS, true);
    expect(held.status).toBe("pending");
    expect(held.reasons[0]).toMatch(
      /^held: a failure common to both slots: the stable slot's 5xx 10 % \(canary 10 %\) breach the 1 % limit too/,
    );
    expect(s.errorsLimit.requests).toBe(2400);
    // The next period is clean: the step passes.
    s = addPeriod(s, prod, PRODUCTION_SETTINGS, period(360, counts(600, 3), counts(5400, 27)));
    expect(verdict(s, prod, PRODUCTION_SETTINGS, true).status).toBe("pass");
    expect(s.notes.map((n) => n.kind)).toEqual(["common-failure"]);
    // The canary alone at 20×: its limit test fails it.
    let alone = startRollout(step0);
    for (let k = 1; k <= 2; k++)
      alone = addPeriod(alone, prod, PRODUCTION_SETTINGS, period(60 * k, counts(600, 60), counts(5400, 27)));
    expect(verdict(alone, prod, PRODUCTION_SETTINGS, false).status).toBe("fail");
  });

  it("at 100 % (no stable traffic to compare) a limit breach must last two periods: one is an incident, two roll back", () => {
    const prod = testsFor(PRODUCTION_SETTINGS);
    const full: StepContext = { index: 2, percent: 100, bakeSeconds: 600, maxRatio: null };
    let s = startRollout(full);
    for (let k = 1; k <= 4; k++)
      s = addPeriod(s, prod, PRODUCTION_SETTINGS, period(60 * k, counts(6000, k === 2 ? 600 : 30), counts(0, 0)));
    expect(verdict(s, prod, PRODUCTION_SETTINGS, false).status).toBe("pending");
    for (let k = 5; k <= 6; k++)
      s = addPeriod(s, prod, PRODUCTION_SETTINGS, period(60 * k, counts(6000, 600), counts(0, 0)));
    expect(verdict(s, prod, PRODUCTION_SETTINGS, false).status).toBe("fail");
  });

  it("warm-up: the first warmupSeconds of a step are left out of the ratio tests, the limits still apply", () => {
    // A cold first minute at 3× the stable rate: the judge before failed the step on it.
    const cold = period(60, counts(600, 9), counts(5400, 27));
    let s = addPeriod(startRollout(step0), tests, settings, cold);
    expect(readings(s, tests)[0]!.logEvidence).toBeCloseTo(0, 9);
    const noWarmup = { ...settings, warmupSeconds: 0 };
    expect(readings(addPeriod(startRollout(step0), tests, noWarmup, cold), tests)[0]!.logEvidence).toBeGreaterThan(0);
    // ×10 beyond the 5 % limit fails inside the warm-up.
    s = addPeriod(startRollout(step0), tests, settings, period(30, counts(300, 150), counts(2700, 14)));
    expect(verdict(s, tests, settings, false).status).toBe("fail");
  });

  it("the evidence carries across steps: one bound for the rollout, and π per period", () => {
    let s = startRollout(step0);
    for (let k = 2; k <= 5; k++) s = addPeriod(s, tests, settings, period(60 * k, counts(600, 6), counts(5400, 27)));
    const afterFirst = readings(s, tests)[0]!.logEvidence;
    s = enterStep(s, { index: 1, percent: 50, bakeSeconds: 600, maxRatio: 2 });
    expect(s.stats.canary.requests).toBe(0);
    expect(readings(s, tests)[0]!.logEvidence).toBe(afterFirst);
    s = addPeriod(s, tests, settings, period(120, counts(3000, 30), counts(3000, 15)));
    expect(readings(s, tests)[0]!.logEvidence).toBeGreaterThan(afterFirst);
  });

  it("the upper bound of the error ratio narrows with the errors seen, and is honest with none", () => {
    let s = startRollout(step0);
    expect(ratioUpperBound(s.errorsRatio, 0.05)).toBeGreaterThan(100);
    for (let k = 1; k <= 10; k++)
      s = addPeriod(s, tests, settings, period(60 * k + 60, counts(3000, 15), counts(3000, 15)));
    const ucb = ratioUpperBound(s.errorsRatio, 0.05);
    expect(ucb).toBeGreaterThan(1);
    expect(ucb).toBeLessThan(1.5);
  });
});

describe("replay of whole rollouts", () => {
  const lookup = (i: number) =>
    i <= 3
      ? productionStep(i)
      : `no canary step ${i}: production has 3 (release.canary[0]–[2]) and the post-switch watch as step 3`;
  const line = (
    run: string,
    step: number,
    t: number,
    c: [number, number],
    s: [number, number],
    extra: Partial<SeriesLine> = {},
  ): SeriesLine => ({
    run,
    step,
    t,
    canary: { requests: c[0], errors: c[1], slow: 0 },
    stable: { requests: s[0], errors: s[1], slow: 0 },
    ...extra,
  });

  it("reports every bad line at once, naming the file, line, field and rule, and judges nothing", () => {
    const text = [
      JSON.stringify(line("a", 0, 60, [10, 0], [90, 0])),
      JSON.stringify(line("c", 7, 60, [10, 0], [90, 0])),
      JSON.stringify(line("a", 0, 60, [10, 0], [90, 0])),
      JSON.stringify({ ...line("b", 0, 60, [10, 0], [90, 0]), canary: { requests: -1, errors: 0.5 } }),
      JSON.stringify({
        ...line("d", 0, 60, [10, 0], [90, 0]),
        buckets: [0.5, 0.2],
        canary: { requests: 10, errors: 0, latency: [1, 2] },
      }),
      JSON.stringify(line("a", 1, 60, [10, 0], [90, 0])),
      JSON.stringify(line("a", 0, 120, [10, 0], [90, 0])),
      JSON.stringify({ ...line("e", 0, 60, [10, 0], [90, 0]), lb: { errors: -2 }, extra: 1 }),
      "{not json",
    ].join("\n");
    const { problems } = parseSeries(text, "series.jsonl", lookup);
    expect(problems).toEqual([
      "series.jsonl:2: step: no canary step 7: production has 3 (release.canary[0]–[2]) and the post-switch watch as step 3",
      "series.jsonl:3: t: 60 is not after 60 (line 1): a step's lines must come in time order",
      "series.jsonl:4: canary.requests: must not be negative",
      "series.jsonl:4: canary.errors: must be a whole number",
      "series.jsonl:5: buckets: edges must increase strictly",
      "series.jsonl:5: canary.latency: must have 3 counts (one more than the 2 edges of buckets), not 2",
      'series.jsonl:7: step: 0 comes after step 1 of run "a" (line 6): a run\'s steps must not decrease',
      "series.jsonl:8: lb.errors: must not be negative",
      "series.jsonl:8: extra: is not a field of a series line",
      expect.stringMatching(/^series\.jsonl:9: not JSON/),
    ]);
  });

  it("a whole rollout: completed, rolled back where a test fails, pending when the series ends first; old single-step series still replay", () => {
    const healthy = (run: string) =>
      [0, 1, 2].flatMap((k) =>
        Array.from({ length: productionStep(k).bakeSeconds / 60 }, (_, j) => {
          const n = 6000;
          const c = k === 2 ? n : (n * productionStep(k).percent) / 100;
          return line(run, k, 60 * (j + 1), [c, Math.round(c * 0.005)], [n - c, Math.round((n - c) * 0.005)], {
            lb: { errors: 10 },
          });
        }),
      );
    const bad = healthy("bad").map((l) =>
      l.step === 1 && l.t >= 120 ? { ...l, canary: { ...l.canary, errors: l.canary.errors * 3 } } : l,
    );
    const short = healthy("short").slice(0, 3);
    const oldStyle = Array.from({ length: 5 }, (_, j) => line("old", 0, 60 * (j + 1), [600, 3], [5400, 27]));
    const results = replaySeries(
      [...healthy("ok"), ...bad, ...short, ...oldStyle],
      productionStep,
      PRODUCTION_SETTINGS,
      2,
    );
    expect(results.map((r) => [r.run, r.verdict, r.step, r.decidedAt])).toEqual([
      ["ok", "completed", 2, 600],
      ["bad", "rolled-back", 1, expect.any(Number)],
      ["short", "pending", 0, null],
      ["old", "pending", 0, null],
    ]);
    expect(results[1]!.decidedAt!).toBeLessThanOrEqual(240);
    expect(results[1]!.reasons[0]).toMatch(/^errors vs stable: evidence \S+ ≥ bound 286 /);
    expect(results[3]!.reasons).toEqual(["step 0 passed at t = 300 s; the series ends before the next step"]);
    expect(judgeRollout("none", [], productionStep, PRODUCTION_SETTINGS, 2).verdict).toBe("pending");
  });
});
