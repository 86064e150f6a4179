/**
 * The judge as it was before the whole-rollout judge (kept for the bench and the tests that show
 * what changed): one anytime-valid judge per step, fed the counts that grew since the last poll,
 * with a discrete mixture over `detect`^{1, 1.5, 2, 3, 4}. Not used by envctl.
 */
/**
 * The canary judge's statistics for one step, as pure state transitions: counts of one interval in,
 * the running evidence out; at any poll a verdict with its reasons.
 *
 * Four anytime-valid tests (lib/release/judge/statistics.ts), the ratio tests at 40 % and the limit tests
 * at 10 % of the step's false-rollback rate each (Bonferroni), so a canary no worse than the stable slot and within the limits
 * is rolled back with probability at most `falseRollbackPercent` per step, however many polls:
 * - errors, canary against stable (ratio test);
 * - errors against the limit 100 % − `minSuccessRatePercent` (limit test);
 * - slow requests (slower than the latency limit), canary against stable (ratio test);
 * - slow requests against 1 % (the latency limit is a p99: at most 1 % may be slower).
 *
 * A test fails the step at the poll where its evidence crosses its bound. A step passes only at the
 * end of its bake and only with evidence: at least the canary requests needed to have detected the
 * configured regression (`detect` × the stable error rate, the rate taken no higher than its lower
 * 90 % bound and no lower than `errorRateFloorPercent`) with `powerPercent` power, and at least what
 * the rollout's traffic plan required. Otherwise the step is inconclusive and says why.
 *
 * Each check can be observe-only (`enforce`): its verdict is computed and reported, never acted on.
 */

import type { Slot } from "../../lib/core/primitives.ts";
import {
  addLimitInterval,
  addRatioInterval,
  canaryRequestsFor,
  type Evidence,
  limitMixture,
  logBound,
  logMixtureRatio,
  type Mixture,
  noEvidence,
  ratioMixture,
  requiredLimitRequests,
  requiredRatioErrors,
} from "../../lib/release/judge/statistics.ts";
import type { PeriodMetrics, WindowMetrics } from "../../lib/release/ports/index.ts";

/** One slot's counts in one interval (or summed). `slow` is null where no latency counts were read. */
export interface Counts {
  readonly requests: number;
  readonly errors: number;
  readonly slow: number | null;
}

/** What both slots served in one interval, `t` seconds after the step started. */
export interface Interval {
  readonly t: number;
  readonly canary: Counts;
  readonly stable: Counts;
}

/** The judge's checks that can be made observe-only (alarms are the controller's). */
export type Check = "errors" | "latency" | "evidence";

/** How a step is judged; plain numbers, from the environment's analysis policy. */
export interface JudgeSettings {
  /** Probability of rolling back a canary no worse than stable, per step, percent. */
  readonly falseRollbackPercent: number;
  /** The regression to detect, as a multiple of the stable slot's rate. */
  readonly detect: number;
  /** Probability of detecting `detect` by the end of a step that passes, percent. */
  readonly powerPercent: number;
  /** The canary's success rate must not be below this, percent. */
  readonly minSuccessRatePercent: number;
  /** Error rates below this are taken as this for the evidence requirement, percent. */
  readonly errorRateFloorPercent: number;
  /** Checks that fail the step; the others are observe-only. */
  readonly enforce: Readonly<Record<Check, boolean>>;
}

/** Share of requests allowed above the latency limit: the limit is a p99. */
export const SLOW_LIMIT = 0.01;

/** The running state of one step. */
export interface StepState {
  readonly polls: number;
  readonly canary: Counts;
  readonly stable: Counts;
  /** Counts held back from the ratio tests until both slots have served requests in them. */
  readonly held: { readonly canary: Counts; readonly stable: Counts };
  readonly errorsRatio: Evidence;
  readonly errorsLimit: Evidence;
  readonly slowRatio: Evidence;
  readonly slowLimit: Evidence;
  /** Seconds since the step started of the last interval. */
  readonly t: number;
  /** True once an interval lacked slow-request counts. */
  readonly slowMissing: boolean;
}

const ZERO: Counts = { requests: 0, errors: 0, slow: 0 };
const plus = (a: Counts, b: Counts): Counts => ({
  requests: a.requests + b.requests,
  errors: a.errors + b.errors,
  slow: a.slow === null || b.slow === null ? null : a.slow + b.slow,
});

/** The mixtures and bounds of a step's tests. */
export interface Tests {
  readonly ratio: Mixture;
  readonly errorLimit: number;
  readonly errorsLimit: Mixture;
  readonly slowLimit: Mixture;
  /** False-alarm rate of each ratio test (0.4 α) and each limit test (0.1 α): together α. */
  readonly alpha: number;
  readonly limitAlpha: number;
  /** Errors the ratio test needs per step weight and looks (`percent/looks`), computed once. */
  readonly requiredErrors: Map<string, number>;
}

/** Shares of the step's false-rollback rate α: each ratio test 40 %, each limit test 10 % (Bonferroni). */
export const ALPHA_SHARES = { ratio: 0.4, limit: 0.1 } as const;

export function testsFor(s: JudgeSettings): Tests {
  const alpha = s.falseRollbackPercent / 100;
  const errorLimit = 1 - s.minSuccessRatePercent / 100;
  return {
    ratio: ratioMixture(s.detect),
    errorLimit,
    errorsLimit: limitMixture(errorLimit),
    slowLimit: limitMixture(SLOW_LIMIT),
    alpha: alpha * ALPHA_SHARES.ratio,
    limitAlpha: alpha * ALPHA_SHARES.limit,
    requiredErrors: new Map(),
  };
}

export function startStep(t: Tests): StepState {
  return {
    polls: 0,
    canary: ZERO,
    stable: ZERO,
    held: { canary: ZERO, stable: ZERO },
    errorsRatio: noEvidence(t.ratio),
    errorsLimit: noEvidence(t.errorsLimit),
    slowRatio: noEvidence(t.ratio),
    slowLimit: noEvidence(t.slowLimit),
    t: 0,
    slowMissing: false,
  };
}

/** Adds one interval's counts (the counts of that interval only, never cumulative). */
export function addInterval(s: StepState, tests: Tests, i: Interval): StepState {
  const slowMissing = s.slowMissing || i.canary.slow === null;
  let { errorsRatio, slowRatio, held } = s;
  const pending = { canary: plus(held.canary, i.canary), stable: plus(held.stable, i.stable) };
  if (pending.canary.requests > 0 && pending.stable.requests > 0) {
    errorsRatio = addRatioInterval(errorsRatio, tests.ratio, pending.canary, pending.stable);
    if (pending.canary.slow !== null && pending.stable.slow !== null) {
      slowRatio = addRatioInterval(
        slowRatio,
        tests.ratio,
        { requests: pending.canary.requests, errors: pending.canary.slow },
        { requests: pending.stable.requests, errors: pending.stable.slow },
      );
    }
    held = { canary: ZERO, stable: ZERO };
  } else {
    held = pending;
  }
  return {
    polls: s.polls + 1,
    canary: plus(s.canary, i.canary),
    stable: plus(s.stable, i.stable),
    held,
    errorsRatio,
    slowRatio,
    errorsLimit: addLimitInterval(s.errorsLimit, tests.errorsLimit, tests.errorLimit, {
      requests: i.canary.requests,
      failures: i.canary.errors,
    }),
    slowLimit:
      i.canary.slow === null
        ? s.slowLimit
        : addLimitInterval(s.slowLimit, tests.slowLimit, SLOW_LIMIT, {
            requests: i.canary.requests,
            failures: i.canary.slow,
          }),
    t: Math.max(s.t, i.t),
    slowMissing,
  };
}

/** One test's standing: its evidence (the mixture's likelihood ratio, as log) against its bound. */
export interface TestReading {
  readonly name: "errors vs stable" | "errors vs limit" | "slow vs stable" | "slow vs limit";
  readonly check: "errors" | "latency";
  /** Natural log of the mixture likelihood ratio; the step fails at `logBound`. */
  readonly logEvidence: number;
  readonly logBound: number;
  readonly crossed: boolean;
}

export function readings(s: StepState, tests: Tests): TestReading[] {
  const r = (
    name: TestReading["name"],
    check: TestReading["check"],
    e: Evidence,
    m: Mixture,
    alpha: number,
  ): TestReading => {
    const logEvidence = logMixtureRatio(e, m);
    return { name, check, logEvidence, logBound: logBound(alpha), crossed: logEvidence >= logBound(alpha) };
  };
  return [
    r("errors vs stable", "errors", s.errorsRatio, tests.ratio, tests.alpha),
    r("errors vs limit", "errors", s.errorsLimit, tests.errorsLimit, tests.limitAlpha),
    r("slow vs stable", "latency", s.slowRatio, tests.ratio, tests.alpha),
    r("slow vs limit", "latency", s.slowLimit, tests.slowLimit, tests.limitAlpha),
  ];
}

/** What the judge knows of the step beyond its counts. */
export interface StepContext {
  /** The canary's weight in the step, percent (100: no stable traffic to compare with). */
  readonly percent: number;
  /** Canary requests the rollout's traffic plan required for the step (0: no plan). */
  readonly plannedRequests: number;
  /** Polls of the step that bring data (its power is computed for this many looks). */
  readonly looks: number;
}

/**
 * Canary requests a pass needs at a step's weight: to detect `detect` × the base error rate (no
 * lower than the floor) with the configured power over the step's looks. At 100 % (no stable
 * traffic to compare with, also the post-switch watch): to detect `detect` × the error limit.
 */
export function passRequirement(
  tests: Tests,
  settings: JudgeSettings,
  step: { percent: number; looks: number; baseRate: number },
): { requests: number; basis: string } {
  const power = settings.powerPercent / 100;
  if (step.percent >= 100) {
    const rate = Math.min(0.95, tests.errorLimit * settings.detect);
    const requests = requiredLimitRequests(
      tests.errorLimit,
      rate,
      tests.limitAlpha,
      power,
      tests.errorsLimit,
      step.looks,
    );
    return {
      requests,
      basis: `to detect a ${round(100 * rate)} % error rate against the ${round(100 * tests.errorLimit)} % limit with ${settings.powerPercent} % power`,
    };
  }
  const base = Math.max(settings.errorRateFloorPercent / 100, step.baseRate);
  const share = step.percent / 100;
  const key = `${step.percent}/${step.looks}`;
  let errors = tests.requiredErrors.get(key);
  if (errors === undefined) {
    const required = { ratio: settings.detect, share, alpha: tests.alpha, power, looks: step.looks };
    errors = requiredRatioErrors(required, tests.ratio);
    tests.requiredErrors.set(key, errors);
  }
  return {
    requests: canaryRequestsFor(errors, { baseRate: base, ratio: settings.detect, share }),
    basis: `to detect ${settings.detect}× a ${round(100 * base)} % error rate with ${settings.powerPercent} % power`,
  };
}

/** The pass requirement of a running step: from the stable slot's observed error rate, and never below the plan's. */
export function evidenceRequirement(
  s: StepState,
  tests: Tests,
  settings: JudgeSettings,
  step: StepContext,
): { requests: number; basis: string } {
  const noStable = step.percent >= 100 || s.stable.requests === 0;
  const r = passRequirement(tests, settings, {
    percent: noStable ? 100 : step.percent,
    looks: step.looks,
    baseRate: noStable ? 0 : s.stable.errors / s.stable.requests,
  });
  return { requests: Math.max(r.requests, step.plannedRequests), basis: r.basis };
}

export type Status = "pass" | "fail" | "inconclusive" | "pending";

export interface StepVerdict {
  readonly status: Status;
  /** Why, for an enforced failure or an inconclusive step. */
  readonly reasons: readonly string[];
  /** Failures of observe-only checks: reported, not acted on. */
  readonly observed: readonly string[];
  readonly readings: readonly TestReading[];
  /** The evidence a pass needs (computed at the end of the bake only). */
  readonly required: { readonly requests: number; readonly basis: string } | null;
}

const round = (x: number) => Number(x.toPrecision(3));
const describe = (r: TestReading, s: StepState) => {
  const counts =
    r.check === "errors"
      ? `canary ${s.canary.errors}/${s.canary.requests} 5xx, stable ${s.stable.errors}/${s.stable.requests}`
      : `canary ${s.canary.slow}/${s.canary.requests} slow, stable ${s.stable.slow}/${s.stable.requests}`;
  return `${r.name}: evidence ${formatEvidence(r.logEvidence)} ≥ bound ${formatEvidence(r.logBound)} (${counts})`;
};

/** A mixture likelihood ratio as a person reads it (from its natural log). */
export function formatEvidence(logValue: number): string {
  const v = Math.exp(logValue);
  return v >= 1e6 ? v.toExponential(1) : v >= 10 ? String(Math.round(v)) : String(Number(v.toFixed(2)));
}

/** The verdict at a poll; `final` at the end of the bake (a pass or an inconclusive step needs it). */
export function verdict(
  s: StepState,
  tests: Tests,
  settings: JudgeSettings,
  step: StepContext,
  final: boolean,
): StepVerdict {
  const rs = readings(s, tests);
  const reasons: string[] = [];
  const observed: string[] = [];
  for (const r of rs.filter((x) => x.crossed)) (settings.enforce[r.check] ? reasons : observed).push(describe(r, s));
  if (reasons.length > 0) return { status: "fail", reasons, observed, readings: rs, required: null };
  if (!final) return { status: "pending", reasons, observed, readings: rs, required: null };
  const required = evidenceRequirement(s, tests, settings, step);
  const base = { readings: rs, required };
  const short: string[] = [];
  if (s.canary.requests === 0)
    short.push("the canary served no requests in the metrics read (no data is never a pass)");
  else if (s.canary.requests < required.requests)
    short.push(
      `the canary served ${s.canary.requests} requests; ${Number.isFinite(required.requests) ? required.requests : "more"} are needed ${required.basis}`,
    );
  if (s.slowMissing)
    (settings.enforce.latency ? short : observed).push("no slow-request counts were read for the latency checks");
  if (short.length > 0 && settings.enforce.evidence)
    return { status: "inconclusive", reasons: short, observed, ...base };
  return {
    status: "pass",
    reasons: [],
    observed: [...observed, ...short.map((x) => `inconclusive (observe-only): ${x}`)],
    ...base,
  };
}

// ------------------------------------------------------------ a whole rollout, as the judge before judged it

/** A series line as the judge before took it: counts per poll, the load balancer's 5xx charged to the canary. */
export interface BeforeLine {
  readonly step: number;
  readonly t: number;
  readonly canary: { readonly requests: number; readonly errors: number; readonly slow: number | null };
  readonly stable: { readonly requests: number; readonly errors: number; readonly slow: number | null };
  readonly lb?: { readonly errors: number };
}

/**
 * Replays whole rollouts through the judge before this one, step by step as its controller did:
 * each step starts its evidence afresh, the load balancer's 5xx go to the canary, an inconclusive
 * step rolls back (`onInconclusive: "fail"`), the watch is judged as a 100 % step.
 */
export function replayBefore(
  lines: readonly BeforeLine[],
  steps: (i: number) => { percent: number; bakeSeconds: number },
  settings: JudgeSettings,
  last: number,
): { verdict: "completed" | "rolled-back" | "inconclusive" | "pending"; step: number; decidedAt: number | null } {
  const tests = testsFor(settings);
  let step = -1;
  let state = startStep(tests);
  let passed = false;
  for (const l of lines) {
    if (l.step !== step) {
      if (step >= 0 && !passed) return { verdict: "pending", step, decidedAt: null };
      step = l.step;
      state = startStep(tests);
      passed = false;
    }
    if (passed) continue;
    const def = steps(l.step);
    const canary = { ...l.canary, errors: l.canary.errors + (l.lb?.errors ?? 0) };
    state = addInterval(state, tests, { t: l.t, canary, stable: l.stable });
    const looks = Math.max(1, Math.floor((def.bakeSeconds - 120) / 30));
    const v = verdict(
      state,
      tests,
      settings,
      { percent: def.percent, plannedRequests: 0, looks },
      l.t >= def.bakeSeconds,
    );
    if (v.status === "fail") return { verdict: "rolled-back", step, decidedAt: l.t };
    if (v.status === "inconclusive") return { verdict: "inconclusive", step, decidedAt: l.t };
    if (v.status === "pass") passed = true;
  }
  return passed && step >= last
    ? { verdict: "completed", step, decidedAt: null }
    : { verdict: "pending", step, decidedAt: null };
}

// ------------------------------------------------------------ the reads of the judge before: what grew since the last poll

type Seen = ReadonlyMap<number, { readonly canary: Counts; readonly stable: Counts }>;
const counts = (p: PeriodMetrics, slot: Slot, withElb: boolean): Counts => ({
  requests: p.slots[slot].requests,
  errors: p.slots[slot].target5xx + (withElb ? p.elb5xx : 0),
  slow: p.slots[slot].slow,
});
const growth = (now: Counts, before: Counts | undefined): Counts => ({
  requests: Math.max(0, now.requests - (before?.requests ?? 0)),
  errors: Math.max(0, now.errors - (before?.errors ?? 0)),
  slow: now.slow === null ? null : Math.max(0, now.slow - (before?.slow ?? 0)),
});
const max = (a: Counts, b: Counts | undefined): Counts =>
  b
    ? {
        requests: Math.max(a.requests, b.requests),
        errors: Math.max(a.errors, b.errors),
        slow: a.slow === null || b.slow === null ? (a.slow ?? b.slow) : Math.max(a.slow, b.slow),
      }
    : a;
const addCounts = (a: Counts, b: Counts): Counts => ({
  requests: a.requests + b.requests,
  errors: a.errors + b.errors,
  slow: a.slow === null || b.slow === null ? null : a.slow + b.slow,
});

/** What grew in every period since the last poll, summed: the interval the judge adds. */
export function newCounts(
  seen: Seen,
  metrics: WindowMetrics,
  canary: Slot,
  stable: Slot,
): { seen: Seen; canary: Counts; stable: Counts } {
  const next = new Map(seen);
  let c = ZERO;
  let s = ZERO;
  for (const p of metrics.periods) {
    const key = p.start.getTime();
    const before = seen.get(key);
    const now = { canary: counts(p, canary, true), stable: counts(p, stable, false) };
    const dc = growth(now.canary, before?.canary);
    const ds = growth(now.stable, before?.stable);
    // A period whose slow count is missing now but was read before adds nothing unknown.
    c = addCounts(c, dc.slow === null && dc.requests === 0 ? { ...dc, slow: 0 } : dc);
    s = addCounts(s, ds.slow === null && ds.requests === 0 ? { ...ds, slow: 0 } : ds);
    next.set(key, { canary: max(now.canary, before?.canary), stable: max(now.stable, before?.stable) });
  }
  return { seen: next, canary: c, stable: s };
}
