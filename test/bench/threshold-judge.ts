/**
 * The threshold judge the project shipped until the sequential judge replaced it, kept
 * as bench:analysis's baseline: fixed thresholds on the cumulative counts, re-tested at every poll.
 *
 * Rules, in order (any failure is final at once; a pass needs the whole bake):
 * 1. with at least `minRequests` canary requests: a success rate below the minimum, a p99 above the
 *    maximum, or (when the stable slot also served `minRequests`) an error rate more than the
 *    margin above the stable slot's, fails;
 * 2. at the end of the bake: fewer than `minRequests` requests, or no complete metric period, is
 *    inconclusive; otherwise a pass.
 */
import type { Slot } from "../../lib/core/primitives.ts";

export interface Limits {
  minSuccessRatePercent: number;
  maxLatencyP99Seconds: number;
  maxErrorRateIncreasePoints: number;
  minRequests: number;
}

export interface Observation {
  readonly canary: Slot;
  readonly stable: Slot;
  /** Start of the metrics window (the step's start, aligned down to the metric period). */
  readonly windowStart: Date;
  /** End of the window read (now). */
  readonly windowEnd: Date;
  /** True when at least one metric period of the window is complete (ended, then published). */
  readonly completePeriod: boolean;
  readonly metrics: {
    slots: Record<Slot, { requests: number; target5xx: number; p99Seconds: number | null }>;
    elb5xx: number;
  };
  readonly alarms: { alarming: string[]; missing: string[] };
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
      failures.push(
        `success rate ${pct(success)} < ${pct(limits.minSuccessRatePercent)} (${canaryErrors} 5xx in ${c.requests} requests of ${o.canary})`,
      );
    }
    if (c.p99Seconds !== null && c.p99Seconds > limits.maxLatencyP99Seconds) {
      failures.push(
        `p99 latency ${Number(c.p99Seconds.toFixed(3))} s > ${limits.maxLatencyP99Seconds} s (${o.canary})`,
      );
    }
    const stableRate = errorRate(s.target5xx + o.metrics.elb5xx, s.requests);
    if (
      s.requests >= limits.minRequests &&
      stableRate !== null &&
      canaryRate - stableRate > limits.maxErrorRateIncreasePoints
    ) {
      failures.push(
        `error rate ${pct(canaryRate)} is ${Number((canaryRate - stableRate).toFixed(2))} points above the stable slot's ${pct(stableRate)} (limit ${limits.maxErrorRateIncreasePoints})`,
      );
    }
  }
  if (failures.length > 0) return { status: "fail", reasons: failures };
  if (!final) return { status: "pending", reasons: [] };
  if (!o.completePeriod)
    return { status: "inconclusive", reasons: ["no complete metric period was published during the bake"] };
  if (!enough)
    return {
      status: "inconclusive",
      reasons: [
        `${o.canary} served ${c.requests} requests, fewer than the ${limits.minRequests} required for a verdict`,
      ],
    };
  return { status: "pass", reasons: [] };
}
