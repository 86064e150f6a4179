/**
 * Canary analysis as pure functions: what one poll observed (alarms, metrics of both slots) and the
 * environment's limits in, a verdict and its evidence out. The rollout controller feeds it; the
 * release core transitions on its verdicts.
 *
 * Rules, in order (any failure is final at once; a pass needs the whole bake):
 * 1. an alarm of the canary in ALARM, or missing, fails;
 * 2. with at least `minRequests` canary requests: a success rate below the minimum, a p99 above the
 *    maximum, or (when the stable slot also served `minRequests`) an error rate more than the
 *    margin above the stable slot's, fails;
 * 3. at the end of the bake: fewer than `minRequests` requests, or no complete metric period, is
 *    inconclusive — never a pass.
 * The load balancer's own 5xx cannot be attributed to a target group (CloudWatch publishes them per
 * load balancer only): they are charged to the canary, the fail-safe side.
 */
import type { Slot } from "../config/primitives.ts";
import type { AnalysisRecord } from "./model.ts";
import type { Analysis } from "./policy.ts";
import type { AlarmStates, WindowMetrics } from "./ports.ts";

export type Limits = Pick<Analysis, "minSuccessRatePercent" | "maxLatencyP99Seconds" | "maxErrorRateIncreasePoints" | "minRequests">;

export interface Observation {
  readonly canary: Slot;
  readonly stable: Slot;
  /** Start of the metrics window (the step's start, aligned down to the metric period). */
  readonly windowStart: Date;
  /** End of the window read (now). */
  readonly windowEnd: Date;
  /** True when at least one metric period of the window is complete (ended, then published). */
  readonly completePeriod: boolean;
  readonly metrics: WindowMetrics;
  readonly alarms: AlarmStates;
}

/** `pending`: no failure so far, the bake goes on. */
export type PollVerdict = { status: "pass" | "fail" | "inconclusive" | "pending"; reasons: string[] };

const pct = (n: number) => `${Number(n.toFixed(2))} %`;

/** Error rate in percent, null without requests. */
export function errorRate(errors: number, requests: number): number | null {
  return requests > 0 ? (100 * errors) / requests : null;
}

/** Judges one poll; `final` is true at the end of the bake. */
export function judge(o: Observation, limits: Limits, final: boolean): PollVerdict {
  const failures: string[] = [
    ...o.alarms.alarming.map((a) => `alarm ${a} is in ALARM`),
    ...o.alarms.missing.map((a) => `alarm ${a} does not exist (the gate fails closed)`),
  ];
  const c = o.metrics.slots[o.canary];
  const s = o.metrics.slots[o.stable];
  const canaryErrors = c.target5xx + o.metrics.elb5xx;
  const canaryRate = errorRate(canaryErrors, c.requests);
  const enough = c.requests >= limits.minRequests;
  if (enough && canaryRate !== null) {
    const success = 100 - canaryRate;
    if (success < limits.minSuccessRatePercent) {
      failures.push(`success rate ${pct(success)} < ${pct(limits.minSuccessRatePercent)} (${canaryErrors} 5xx in ${c.requests} requests of ${o.canary})`);
    }
    if (c.p99Seconds !== null && c.p99Seconds > limits.maxLatencyP99Seconds) {
      failures.push(`p99 latency ${Number(c.p99Seconds.toFixed(3))} s > ${limits.maxLatencyP99Seconds} s (${o.canary})`);
    }
    const stableRate = errorRate(s.target5xx + o.metrics.elb5xx, s.requests);
    if (s.requests >= limits.minRequests && stableRate !== null && canaryRate - stableRate > limits.maxErrorRateIncreasePoints) {
      failures.push(`error rate ${pct(canaryRate)} is ${Number((canaryRate - stableRate).toFixed(2))} points above the stable slot's ${pct(stableRate)} (limit ${limits.maxErrorRateIncreasePoints})`);
    }
  }
  if (failures.length > 0) return { status: "fail", reasons: failures };
  if (!final) return { status: "pending", reasons: [] };
  if (!o.completePeriod) return { status: "inconclusive", reasons: ["no complete metric period was published during the bake"] };
  if (!enough) return { status: "inconclusive", reasons: [`${o.canary} served ${c.requests} requests, fewer than the ${limits.minRequests} required for a verdict`] };
  return { status: "pass", reasons: [] };
}

/** The evidence of a verdict, as the history keeps it. */
export function analysisRecord(o: Observation | null, verdict: { status: "pass" | "fail" | "inconclusive"; reasons: readonly string[] }, limits: Limits, step: number | "watch", percent: number, polls: number): AnalysisRecord {
  const measure = (slot: Slot, withElb: boolean) => {
    const m = o!.metrics.slots[slot];
    const errors = m.target5xx + (withElb ? o!.metrics.elb5xx : 0);
    const rate = errorRate(errors, m.requests);
    return { slot, requests: m.requests, errors, errorRatePercent: rate === null ? null : Number(rate.toFixed(3)), p99Seconds: m.p99Seconds };
  };
  return {
    step,
    percent,
    verdict: verdict.status,
    reasons: [...verdict.reasons],
    window: o ? { start: o.windowStart.toISOString(), end: o.windowEnd.toISOString() } : null,
    canary: o ? measure(o.canary, true) : null,
    stable: o ? measure(o.stable, false) : null,
    alarms: o ? o.alarms.states.map((a) => ({ ...a })) : [],
    limits: { ...limits },
    polls,
  };
}

/** One line per measurement, for the terminal and the rollback message. */
export function describeRecord(r: AnalysisRecord): string {
  const slot = (m: AnalysisRecord["canary"]) => m
    ? `${m.slot}: ${m.requests} requests, ${m.errors} 5xx (${m.errorRatePercent === null ? "–" : pct(m.errorRatePercent)}), p99 ${m.p99Seconds === null ? "–" : `${Number(m.p99Seconds.toFixed(3))} s`}`
    : "no data";
  const where = r.step === "watch" ? "post-switch watch" : `step ${r.step + 1} (${r.percent} %)`;
  return `${where}: ${r.verdict.toUpperCase()}${r.reasons.length ? ` — ${r.reasons.join("; ")}` : ""} | canary ${slot(r.canary)} | stable ${slot(r.stable)} | limits: success ≥ ${r.limits.minSuccessRatePercent} %, p99 ≤ ${r.limits.maxLatencyP99Seconds} s, +${r.limits.maxErrorRateIncreasePoints} points vs stable, ≥ ${r.limits.minRequests} requests | ${r.polls} poll${r.polls === 1 ? "" : "s"}`;
}

/** Aligns a time down to the metric period (CloudWatch's data points start on period boundaries). */
export function alignDown(t: Date, periodSeconds: number): Date {
  const ms = periodSeconds * 1000;
  return new Date(Math.floor(t.getTime() / ms) * ms);
}

/** True when a period starting at or after `windowStart` has ended and been published by `now`. */
export function hasCompletePeriod(windowStart: Date, now: Date, a: Pick<Analysis, "metricPeriodSeconds" | "publishDelaySeconds">): boolean {
  return windowStart.getTime() + (a.metricPeriodSeconds + a.publishDelaySeconds) * 1000 <= now.getTime();
}
