/**
 * The traffic plan of a rollout, as a pure function: from the load balancer's request rate and the
 * stable error rate, what each canary step will see and whether it can reach a verdict.
 *
 * Per weight step: the canary requests expected in the data the step judges (its bake less the
 * metrics' publishing delay), the requests a pass needs (the judge's evidence requirement,
 * lib/release/judge/sequential.ts), the smallest regression the step detects with the configured power,
 * the expected time to fail a `detect` regression, and for a step that cannot reach a verdict, the
 * longer bake or larger percent that would.
 */
import { type JudgeSettings, passRequirement, type Tests, testsFor } from "./sequential.ts";
import { detectableRatio, requiredCanaryRequests } from "./statistics.ts";

export interface PlanInput {
  /** Requests per second the load balancer serves (both slots), e.g. the quietest hour's. */
  readonly rps: number;
  /** The stable slot's error rate, percent (the floor when unknown or lower). */
  readonly baseErrorRatePercent: number;
  readonly steps: readonly { readonly percent: number; readonly bakeSeconds: number }[];
  readonly settings: JudgeSettings;
  /** Seconds after a period before its metrics are read (data of a bake's last seconds is not judged). */
  readonly publishDelaySeconds: number;
  /** Seconds between two polls: a longer bake is proposed in whole polls. */
  readonly intervalSeconds: number;
}

export interface StepPlan {
  /** Index among the weight steps given. */
  readonly step: number;
  readonly percent: number;
  readonly bakeSeconds: number;
  readonly expectedCanaryRequests: number;
  /** Canary requests a pass needs (Infinity when no traffic can give the evidence). */
  readonly requiredRequests: number;
  /** What the requirement is for, in words. */
  readonly basis: string;
  /** The smallest regression (× the stable rate) detected with the configured power; null: none. */
  readonly detectableRatio: number | null;
  /** Seconds from the step's start to a pass (its bake), or to the failure of a `detect` regression. */
  readonly passAfterSeconds: number;
  readonly failAfterSeconds: number | null;
  /** True when the expected traffic gives the evidence a pass needs. */
  readonly reachable: boolean;
  /** What would make an unreachable step reach a verdict. */
  readonly fix: string | null;
}

const expected = (i: PlanInput, percent: number, bake: number) =>
  (i.rps * percent * Math.max(0, bake - i.publishDelaySeconds)) / 100;

/** Polls of a step that bring data: those after the first publishing delay. */
const looksOf = (i: PlanInput, bake: number) =>
  Math.max(1, Math.floor((bake - i.publishDelaySeconds) / i.intervalSeconds));

function requirement(i: PlanInput, tests: Tests, percent: number, bake: number): { requests: number; basis: string } {
  return passRequirement(tests, i.settings, {
    percent,
    looks: looksOf(i, bake),
    baseRate: i.baseErrorRatePercent / 100,
  });
}

const baseRate = (i: PlanInput) => Math.max(i.settings.errorRateFloorPercent, i.baseErrorRatePercent) / 100;
const round = (x: number) => Number(x.toPrecision(3));

export function planSteps(i: PlanInput): StepPlan[] {
  const tests = testsFor(i.settings);
  return i.steps.map((step, index) => {
    const req = requirement(i, tests, step.percent, step.bakeSeconds);
    const exp = expected(i, step.percent, step.bakeSeconds);
    const detectable =
      step.percent >= 100
        ? null
        : detectableRatio(
            exp,
            {
              baseRate: baseRate(i),
              share: step.percent / 100,
              alpha: tests.alpha,
              power: i.settings.powerPercent / 100,
              looks: looksOf(i, step.bakeSeconds),
            },
            tests.ratio,
          );
    const reachable = exp >= req.requests;
    return {
      step: index,
      percent: step.percent,
      bakeSeconds: step.bakeSeconds,
      expectedCanaryRequests: Math.floor(exp),
      requiredRequests: req.requests,
      basis: req.basis,
      detectableRatio: detectable,
      passAfterSeconds: step.bakeSeconds,
      failAfterSeconds: failAfter(i, tests, step.percent),
      reachable,
      fix: reachable ? null : fixFor(i, tests, step, req.requests),
    };
  });
}

/** Expected seconds until a `detect` regression's evidence reaches the bound (its mean path, 50 % power), publishing delay included. */
function failAfter(i: PlanInput, tests: Tests, percent: number): number | null {
  const share = percent / 100;
  if (share >= 1 || i.rps <= 0) return null;
  const requests = requiredCanaryRequests(
    { baseRate: baseRate(i), ratio: i.settings.detect, share, alpha: tests.alpha, power: 0.5 },
    tests.ratio,
  );
  return Math.ceil(i.publishDelaySeconds + requests / (i.rps * share));
}

function fixFor(i: PlanInput, tests: Tests, step: { percent: number; bakeSeconds: number }, required: number): string {
  const perSecond = (i.rps * step.percent) / 100;
  const reaches = (percent: number, bake: number) =>
    expected(i, percent, bake) >= requirement(i, tests, percent, bake).requests;
  const fixes: string[] = [];
  if (perSecond > 0 && Number.isFinite(required)) {
    // The smallest bake (in whole polls) that reaches it: from the rate alone, then searched, since
    // the requirement itself falls a little with the looks a longer bake brings.
    let hi = Math.ceil((i.publishDelaySeconds + required / perSecond) / i.intervalSeconds);
    while (hi * i.intervalSeconds <= 86_400 && !reaches(step.percent, hi * i.intervalSeconds)) hi *= 2;
    if (hi * i.intervalSeconds <= 86_400) {
      let lo = Math.ceil(step.bakeSeconds / i.intervalSeconds);
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (reaches(step.percent, mid * i.intervalSeconds)) hi = mid;
        else lo = mid + 1;
      }
      fixes.push(`a bake of ${hi * i.intervalSeconds} s`);
    }
  }
  for (let p = step.percent + 1; p < 100; p++) {
    if (reaches(p, step.bakeSeconds)) {
      fixes.push(`${p} % of the traffic`);
      break;
    }
  }
  if (fixes.length === 0)
    return `no bake up to a day or larger share reaches a verdict at ${round(i.rps)} requests/s: raise detect (now ${i.settings.detect}×) or errorRateFloorPercent, or judge this step observe-only`;
  return `needs ${fixes.join(" or ")} (or a larger detect than ${i.settings.detect}×)`;
}

// ------------------------------------------------------------ traffic history

/** One hour of the load balancer's traffic (lib/release/ports/index.ts HourlyTraffic). */
export interface HourSample {
  readonly start: Date;
  readonly requests: number;
  readonly errors: number;
}

const HOUR = 3_600_000;

/** Seconds a rollout takes: its bakes (`bakeOverride` replaces each) and timed pauses; a manual pause adds none. */
export function rolloutSeconds(
  steps: readonly (
    | { readonly percent: number; readonly bakeSeconds: number }
    | { readonly pause: "manual" | number }
  )[],
  bakeOverride?: number,
): number {
  return steps.reduce(
    (sum, s) => sum + ("percent" in s ? (bakeOverride ?? s.bakeSeconds) : s.pause === "manual" ? 0 : s.pause),
    0,
  );
}

/** The hours of the day (UTC, 0-23) a rollout from `from` lasting `seconds` runs in, wrapping at midnight; every hour from 24 h on. */
export function windowHours(from: Date, seconds: number): number[] {
  if (seconds >= 86_400) return Array.from({ length: 24 }, (_, h) => h);
  const first = from.getUTCHours();
  // The hour the rollout ends in counts only when it runs into it (one ending at 11:00 sharp runs in 10:00's).
  const last =
    Math.floor((from.getTime() + Math.max(0, seconds * 1000 - 1)) / HOUR) - Math.floor(from.getTime() / HOUR);
  return Array.from({ length: last + 1 }, (_, k) => (first + k) % 24);
}

/** "14:00–15:10 UTC", or "any hour" for a rollout of 24 h or more. */
export function windowLabel(from: Date, seconds: number): string {
  if (seconds >= 86_400) return "any hour (the rollout takes 24 h or more)";
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  return `${hhmm(from)}–${hhmm(new Date(from.getTime() + seconds * 1000))} UTC`;
}

/**
 * The quietest whole hour of the history among the hours of the day in `hours` (UTC): the hour a
 * rollout in that window is sure to get at least. Hours from the first sample to `end` without one
 * had no requests (the load balancer publishes none then); hours before the first sample are unknown.
 * Null when no sample falls in those hours.
 */
export function quietestHour(
  history: readonly HourSample[],
  hours: readonly number[],
  end: Date,
): { start: Date; requests: number; rps: number } | null {
  if (history.length === 0) return null;
  const byStart = new Map<number, number>();
  for (const h of history)
    byStart.set(
      Math.floor(h.start.getTime() / HOUR) * HOUR,
      (byStart.get(Math.floor(h.start.getTime() / HOUR) * HOUR) ?? 0) + h.requests,
    );
  const first = Math.min(...byStart.keys());
  const wanted = new Set(hours);
  let best: { start: Date; requests: number; rps: number } | null = null;
  // Only whole hours: the one `end` falls in is still filling.
  for (let t = first; t + HOUR <= end.getTime(); t += HOUR) {
    if (!wanted.has(new Date(t).getUTCHours())) continue;
    const requests = byStart.get(t) ?? 0;
    if (!best || requests < best.requests) best = { start: new Date(t), requests, rps: requests / 3600 };
  }
  return best;
}

/** The history's error rate (target 5xx per request), percent; null without requests. */
export function historyErrorRatePercent(history: readonly HourSample[]): number | null {
  const requests = history.reduce((a, h) => a + h.requests, 0);
  return requests > 0 ? (100 * history.reduce((a, h) => a + h.errors, 0)) / requests : null;
}
