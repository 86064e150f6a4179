/**
 * The canary judge of a whole rollout, as pure state transitions: one judged period in (both
 * slots' counts, the load balancer's own 5xx, response-time buckets), the running evidence out; at
 * any poll a verdict with its reasons. The evidence is carried across the steps and into the
 * post-switch watch, so `falseRollbackPercent` bounds the whole rollout.
 *
 * Four anytime-valid tests (./mixtures.ts, ./latency.ts), each with a share of α (Bonferroni):
 * - errors, canary against stable (35 %): the canary's share of both slots' 5xx, per period;
 * - response times, canary against stable (35 %): the canary's share of the requests above each
 *   bucket edge (edges from the stable slot's quantiles), per period;
 * - errors against the limit 100 % − `minSuccessRatePercent` (15 %);
 * - requests slower than the latency limit against 1 % (15 %: the limit is a p99).
 * Without stable traffic (100 %, the watch) the limit tests take periods in pairs: a breach must
 * last two periods, since no stable slot is left to tell an outage of both from the canary's.
 *
 * Inputs are checked first (./inputs.ts): the load balancer's 5xx are attributed by request share,
 * a period whose counts cannot be true is left out and shown, a period in which the stable slot
 * breaches the same limit is a failure common to both slots (not the canary's), and the first
 * `warmupSeconds` of a step are left out of the ratio tests (the limits still apply).
 */

import { addFull, type FullExposure, NO_FULL } from "./full-exposure.ts";
import { classify, type Period, type PeriodNote, type SlotCounts, withSlowFromBuckets } from "./inputs.ts";
import { addLatency, type LatencyEvidence, latencyLogEvidence, noLatencyEvidence } from "./latency.ts";
import {
  addRatio,
  type LimitMixture,
  limitLogEvidence,
  limitMixture,
  noRatioEvidence,
  type RatioEvidence,
  ratioLogEvidence,
  ratioPrior,
} from "./mixtures.ts";

export type { Period, PeriodNote, SlotCounts } from "./inputs.ts";

/** The judge's checks that can be made observe-only (alarms are the controller's). */
export type Check = "errors" | "latency" | "evidence";

/** How a rollout is judged; plain numbers, from the environment's analysis policy. */
export interface JudgeSettings {
  /** Probability of rolling back a canary no worse than stable and within the limits, for the whole rollout, percent. */
  readonly falseRollbackPercent: number;
  /** The regression the last step before 100 % must rule out: the canary's error rate as a multiple of the stable slot's. */
  readonly detect: number;
  /** Confidence of the upper bounds a step passes on, percent: a canary at a step's bound passes it with at most 100 − this. */
  readonly powerPercent: number;
  /** The canary's success rate must not be below this, percent. */
  readonly minSuccessRatePercent: number;
  /** Error rates below this are taken as this when planning, percent. */
  readonly errorRateFloorPercent: number;
  /** Seconds of each step's new traffic left out of the ratio tests. */
  readonly warmupSeconds: number;
  /** The latency limit (`maxLatencyP99Seconds`): a period without slow counts takes them from its buckets at this edge. */
  readonly latencyLimitSeconds?: number;
  /** Checks that fail the rollout; the others are observe-only. */
  readonly enforce: Readonly<Record<Check, boolean>>;
}

/** Share of requests allowed above the latency limit: the limit is a p99. */
export const SLOW_LIMIT = 0.01;

/** Shares of the rollout's false-rollback rate α per test (Bonferroni). */
export const ALPHA_SHARES = { errorsRatio: 0.35, latencyRatio: 0.35, errorsLimit: 0.15, slowLimit: 0.15 } as const;

/** The mixtures and bounds of a rollout's tests, computed once. */
export interface Tests {
  readonly prior: readonly number[];
  readonly errorLimit: number;
  readonly errorsLimit: LimitMixture;
  readonly slowLimit: LimitMixture;
  readonly alpha: number;
}

export function testsFor(s: JudgeSettings): Tests {
  const errorLimit = 1 - s.minSuccessRatePercent / 100;
  return {
    prior: ratioPrior(s.detect),
    errorLimit,
    errorsLimit: limitMixture(errorLimit),
    slowLimit: limitMixture(SLOW_LIMIT),
    alpha: s.falseRollbackPercent / 100,
  };
}

/** A step as the judge knows it. */
export interface StepContext {
  /** Index among the environment's canary steps, or the post-switch watch. */
  readonly index: number | "watch";
  /** The canary's weight, percent (100: no stable traffic to compare with). */
  readonly percent: number;
  readonly bakeSeconds: number;
  /** The upper confidence bound of the error ratio a pass needs (below 100 %); null at 100 %. */
  readonly maxRatio: number | null;
}

/** Counts of one slot summed. */
export interface Totals {
  readonly requests: number;
  readonly errors: number;
  readonly slow: number;
}
const ZERO: Totals = { requests: 0, errors: 0, slow: 0 };
const plus = (a: Totals, c: SlotCounts, lb: number): Totals => ({
  requests: a.requests + c.requests,
  errors: a.errors + c.errors + lb,
  slow: a.slow + (c.slow ?? 0),
});

/** What one step saw (reset at each step; the evidence is not). */
export interface StepStats {
  readonly periods: number;
  readonly canary: Totals;
  readonly stable: Totals;
  /** Periods with canary requests but no slow-request counts. */
  readonly slowMissing: number;
  /** Consecutive periods whose counts could not be true. */
  readonly inconsistentRun: number;
  /** The last judged period was a failure common to both slots. */
  readonly commonNow: boolean;
  /** `t` of the last period. */
  readonly t: number;
}
const NO_STATS: StepStats = {
  periods: 0,
  canary: ZERO,
  stable: ZERO,
  slowMissing: 0,
  inconsistentRun: 0,
  commonNow: false,
  t: 0,
};

/** The running state of a rollout's judge. */
export interface JudgeState {
  readonly step: StepContext;
  readonly stats: StepStats;
  readonly errorsRatio: RatioEvidence;
  readonly latencyRatio: LatencyEvidence;
  /** The canary's cumulative counts for the limit tests while the stable slot serves (fractional: the load balancer's 5xx by share). */
  readonly errorsLimit: { readonly failures: number; readonly requests: number };
  readonly slowLimit: { readonly failures: number; readonly requests: number };
  /** The limit tests' evidence from periods without stable traffic (100 %, the watch), in pairs of periods ({@link FullExposure}). */
  readonly errorsFull: FullExposure;
  readonly slowFull: FullExposure;
  /** Periods judged over the whole rollout. */
  readonly periods: number;
  /** What the inputs showed (inconsistent data, common failures, missing counts), oldest first, at most 50. */
  readonly notes: readonly PeriodNote[];
}

export function startRollout(step: StepContext): JudgeState {
  return {
    step,
    stats: NO_STATS,
    errorsRatio: noRatioEvidence(),
    latencyRatio: noLatencyEvidence(),
    errorsLimit: { failures: 0, requests: 0 },
    slowLimit: { failures: 0, requests: 0 },
    errorsFull: NO_FULL,
    slowFull: NO_FULL,
    periods: 0,
    notes: [],
  };
}

/** The next step (or the watch): the evidence carries over, the step's own counts start afresh. */
export function enterStep(s: JudgeState, step: StepContext): JudgeState {
  return { ...s, step, stats: NO_STATS };
}

/** Adds one whole period (`t`: seconds since the step began, at its end). */
export function addPeriod(s: JudgeState, tests: Tests, settings: JudgeSettings, read: Period): JudgeState {
  const p = withSlowFromBuckets(read, settings.latencyLimitSeconds);
  const c = classify(p, tests.errorLimit, SLOW_LIMIT);
  const notes = c.notes.length
    ? [...s.notes, ...c.notes.map((n) => ({ ...n, step: s.step.index, t: p.t }))].slice(-50)
    : s.notes;
  const t = Math.max(s.stats.t, p.t);
  if (c.inconsistent) return { ...s, notes, stats: { ...s.stats, t, inconsistentRun: s.stats.inconsistentRun + 1 } };
  const warm = p.t > settings.warmupSeconds;
  const errorsRatio =
    warm && c.share !== null ? addRatio(s.errorsRatio, c.share, c.canaryErrors, c.stableErrors) : s.errorsRatio;
  const latencyRatio = warm ? addLatency(s.latencyRatio, c.tails) : s.latencyRatio;
  const full = p.stable.requests === 0;
  const slow = p.canary.slow;
  const errorsLimit =
    c.errorsCommon || full
      ? s.errorsLimit
      : { failures: s.errorsLimit.failures + c.canaryErrors, requests: s.errorsLimit.requests + p.canary.requests };
  const slowLimit =
    c.slowCommon || full || slow === null
      ? s.slowLimit
      : { failures: s.slowLimit.failures + slow, requests: s.slowLimit.requests + p.canary.requests };
  const errorsFull = full ? addFull(s.errorsFull, tests.errorsLimit, c.canaryErrors, p.canary.requests) : s.errorsFull;
  const slowFull = full && slow !== null ? addFull(s.slowFull, tests.slowLimit, slow, p.canary.requests) : s.slowFull;
  const stats: StepStats = {
    periods: s.stats.periods + 1,
    canary: plus(s.stats.canary, p.canary, c.canaryErrors - p.canary.errors),
    stable: plus(s.stats.stable, p.stable, c.stableErrors - p.stable.errors),
    slowMissing: s.stats.slowMissing + (c.slowMissing ? 1 : 0),
    inconsistentRun: 0,
    commonNow: c.errorsCommon || c.slowCommon,
    t,
  };
  return {
    ...s,
    stats,
    errorsRatio,
    latencyRatio,
    errorsLimit,
    slowLimit,
    errorsFull,
    slowFull,
    periods: s.periods + 1,
    notes,
  };
}

/** One test's standing: its evidence (the mixture's likelihood ratio, as log) against its bound. */
export interface TestReading {
  readonly name: "errors vs stable" | "errors vs limit" | "latency vs stable" | "slow vs limit";
  readonly check: "errors" | "latency";
  /** Natural log of the mixture likelihood ratio; the rollout fails at `logBound`. */
  readonly logEvidence: number;
  readonly logBound: number;
  readonly crossed: boolean;
}

export function readings(s: JudgeState, tests: Tests): TestReading[] {
  const r = (
    name: TestReading["name"],
    check: TestReading["check"],
    logEvidence: number,
    share: number,
  ): TestReading => {
    const logBound = Math.log(1 / (tests.alpha * share));
    return { name, check, logEvidence, logBound, crossed: logEvidence >= logBound };
  };
  return [
    r("errors vs stable", "errors", ratioLogEvidence(s.errorsRatio, tests.prior), ALPHA_SHARES.errorsRatio),
    r(
      "errors vs limit",
      "errors",
      limitLogEvidence(
        tests.errorsLimit,
        s.errorsLimit.failures,
        s.errorsLimit.requests,
        s.errorsFull.evidence ?? undefined,
      ),
      ALPHA_SHARES.errorsLimit,
    ),
    r("latency vs stable", "latency", latencyLogEvidence(s.latencyRatio, tests.prior), ALPHA_SHARES.latencyRatio),
    r(
      "slow vs limit",
      "latency",
      limitLogEvidence(tests.slowLimit, s.slowLimit.failures, s.slowLimit.requests, s.slowFull.evidence ?? undefined),
      ALPHA_SHARES.slowLimit,
    ),
  ];
}

/** A mixture likelihood ratio as a person reads it (from its natural log). */
export function formatEvidence(logValue: number): string {
  const v = Math.exp(logValue);
  return v >= 1e6 ? v.toExponential(1) : v >= 10 ? String(Math.round(v)) : String(Number(v.toFixed(2)));
}
