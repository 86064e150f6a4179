/**
 * Canary analysis of a rollout, as pure functions over what the controller reads at each poll (the
 * canary's alarms, both slots' ALB metrics per period): whole periods go to the judge
 * (./sequential.ts), which says pass, fail, inconclusive or pending, with evidence.
 *
 * - **Each period is judged once, and whole**: only once it is past the publishing delay (CloudWatch
 *   fills a period late, one series at a time). What a later read adds to a judged period is late
 *   data: recorded and shown, never counted.
 * - The evidence is carried from step to step and into the post-switch watch ({@link startAnalysis}
 *   with the previous step's analysis); a step's periods still unjudged at its end are judged in the
 *   next step's polls, with their own counts.
 * - An alarm of the canary in ALARM, or missing, fails the step at once (unless alarms are observe-only).
 */
import type { Slot } from "../../core/primitives.ts";
import type { AlarmStates, PeriodMetrics, WindowMetrics } from "../ports/index.ts";
import {
  addPeriod,
  enterStep,
  type JudgeSettings,
  type JudgeState,
  type Period,
  type StepContext,
  startRollout,
  type Tests,
  testsFor,
} from "./sequential.ts";
import { type StepVerdict, verdict } from "./verdict.ts";

export interface Observation {
  readonly canary: Slot;
  readonly stable: Slot;
  /** Start of the metrics window read. */
  readonly windowStart: Date;
  /** End of the window read (now). */
  readonly windowEnd: Date;
  readonly metrics: WindowMetrics;
  readonly alarms: AlarmStates;
}

/** What a period held when it was judged (to see late data). */
type Judged = { readonly canary: number; readonly stable: number; readonly errors: number; readonly lb: number };

/** The timing of the metrics. */
export interface Timing {
  readonly periodSeconds: number;
  readonly publishDelaySeconds: number;
}

/** The rollout's analysis: the judge's state, the periods judged, and this step's. */
export interface StepAnalysis {
  readonly settings: JudgeSettings;
  readonly tests: Tests;
  readonly timing: Timing;
  /** Whether an alarm fails the step (false: observe-only). */
  readonly enforceAlarms: boolean;
  readonly state: JudgeState;
  /** Start of each step so far (ms), oldest first: a period's `t` is counted from the step it began in. */
  readonly stepStarts: readonly number[];
  readonly judged: ReadonlyMap<number, Judged>;
  /** This step's judged periods, for the history and replay. */
  readonly intervals: readonly Period[];
  /** The stable slot's response-time quantiles of the last period that had them: the next buckets' edges. */
  readonly stableQuantiles: readonly number[];
}

/** A new rollout's analysis, or the next step's carrying `previous` (its evidence, and the periods it judged). */
export function startAnalysis(
  settings: JudgeSettings,
  step: StepContext,
  o: { enforceAlarms: boolean; timing: Timing; started: Date },
  previous?: StepAnalysis,
): StepAnalysis {
  if (previous)
    return {
      ...previous,
      enforceAlarms: o.enforceAlarms,
      state: enterStep(previous.state, step),
      stepStarts: [...previous.stepStarts, o.started.getTime()],
      intervals: [],
    };
  return {
    settings,
    tests: testsFor(settings),
    timing: o.timing,
    enforceAlarms: o.enforceAlarms,
    state: startRollout(step),
    stepStarts: [o.started.getTime()],
    judged: new Map(),
    intervals: [],
    stableQuantiles: [],
  };
}

/**
 * The stable slot's response-time quantiles before the canary gets traffic (the metrics of the last
 * periods before the rollout): the first reads' bucket edges. Periods disjoint from those judged, so
 * the edges do not depend on the data they split.
 */
export function seedQuantiles(a: StepAnalysis, before: WindowMetrics, stable: Slot): StepAnalysis {
  const q = [...before.periods]
    .reverse()
    .map((p) => quantilesOf(p, stable))
    .find((x) => x.length > 0);
  return q ? { ...a, stableQuantiles: q } : a;
}

const quantilesOf = (p: PeriodMetrics, stable: Slot): number[] =>
  [p.slots[stable].p50Seconds, p.slots[stable].p90Seconds, p.slots[stable].p99Seconds].filter(
    (x): x is number => typeof x === "number",
  );

/** Where the next read starts: after the last period judged (a previous step's, maybe), or at the rollout's start. */
export function readFrom(a: StepAnalysis, stepStart: Date): Date {
  const judged = [...a.judged.keys()];
  const next = judged.length ? Math.max(...judged) + a.timing.periodSeconds * 1000 : stepStart.getTime();
  return alignDown(new Date(next), a.timing.periodSeconds);
}

/** Edges of the response-time buckets for the next read: the stable slot's quantiles, then the latency limit. */
export function latencyEdges(a: StepAnalysis, limitSeconds: number): number[] {
  const below = [
    ...new Set(a.stableQuantiles.filter((q) => q > 0 && q < limitSeconds).map((q) => Number(q.toPrecision(3)))),
  ].sort((x, y) => x - y);
  return [...below, limitSeconds];
}

const judgedOf = (p: PeriodMetrics, canary: Slot, stable: Slot): Judged => ({
  canary: p.slots[canary].requests,
  stable: p.slots[stable].requests,
  errors: p.slots[canary].target5xx + p.slots[stable].target5xx,
  lb: p.elb5xx,
});

function periodOf(a: StepAnalysis, p: PeriodMetrics, canary: Slot, stable: Slot): Period {
  const end = p.start.getTime() + a.timing.periodSeconds * 1000;
  const began = a.stepStarts.filter((s) => s <= p.start.getTime()).at(-1) ?? a.stepStarts[0]!;
  const slot = (s: Slot) => ({
    requests: p.slots[s].requests,
    errors: p.slots[s].target5xx,
    slow: p.slots[s].slow,
    latency: p.slots[s].latency ?? null,
  });
  return {
    t: Math.max(0, Math.round((end - began) / 1000)),
    canary: slot(canary),
    stable: slot(stable),
    lbErrors: p.elb5xx,
    edges: p.edges ?? null,
  };
}

/** The verdict of one poll: the judge's, with the alarms and what the poll judged. */
export interface PollVerdict extends StepVerdict {
  readonly alarmFailures: readonly string[];
  /** Periods judged at this poll, and late data seen for periods judged before. */
  readonly judgedNow: number;
  readonly late: readonly string[];
}

/** Judges every period that became final since the last poll; `final` at the end of the bake. */
export function analysePoll(
  a: StepAnalysis,
  o: Observation,
  final: boolean,
): { analysis: StepAnalysis; verdict: PollVerdict } {
  const judged = new Map(a.judged);
  const late: string[] = [];
  let state = a.state;
  let quantiles = a.stableQuantiles;
  const intervals = [...a.intervals];
  const ready = o.windowEnd.getTime() - (a.timing.periodSeconds + a.timing.publishDelaySeconds) * 1000;
  for (const p of [...o.metrics.periods].sort((x, y) => x.start.getTime() - y.start.getTime())) {
    const key = p.start.getTime();
    const now = judgedOf(p, o.canary, o.stable);
    const before = judged.get(key);
    if (before) {
      const grew = (["canary", "stable", "errors", "lb"] as const)
        .filter((k) => now[k] > before[k])
        .map(
          (k) =>
            `${k === "errors" ? "target 5xx" : k === "lb" ? "load balancer 5xx" : `${k} requests`} +${now[k] - before[k]}`,
        );
      if (grew.length) {
        late.push(
          `late data for the period of ${p.start.toISOString().slice(11, 16)} (judged before): ${grew.join(", ")}; not counted`,
        );
        judged.set(key, {
          canary: Math.max(now.canary, before.canary),
          stable: Math.max(now.stable, before.stable),
          errors: Math.max(now.errors, before.errors),
          lb: Math.max(now.lb, before.lb),
        });
      }
      continue;
    }
    if (key > ready) continue;
    const period = periodOf(a, p, o.canary, o.stable);
    state = addPeriod(state, a.tests, a.settings, period);
    intervals.push(period);
    judged.set(key, now);
    const q = quantilesOf(p, o.stable);
    if (q.length) quantiles = q;
  }
  if (late.length)
    state = {
      ...state,
      notes: [
        ...state.notes,
        ...late.map((text) => ({ kind: "late-data" as const, step: state.step.index, text })),
      ].slice(-50),
    };
  const next: StepAnalysis = { ...a, state, judged, intervals, stableQuantiles: quantiles };
  const alarmFailures = [
    ...o.alarms.alarming.map((x) => `alarm ${x} is in ALARM`),
    ...o.alarms.missing.map((x) => `alarm ${x} does not exist (the gate fails closed)`),
  ];
  const v = verdict(state, a.tests, a.settings, final);
  const extra = { alarmFailures, judgedNow: intervals.length - a.intervals.length, late };
  if (alarmFailures.length > 0 && a.enforceAlarms)
    return { analysis: next, verdict: { ...v, status: "fail", reasons: [...alarmFailures, ...v.reasons], ...extra } };
  const observed = a.enforceAlarms ? v.observed : [...alarmFailures, ...v.observed];
  return { analysis: next, verdict: { ...v, observed, ...extra } };
}

/** Aligns a time down to the metric period (CloudWatch's data points start on period boundaries). */
export function alignDown(t: Date, periodSeconds: number): Date {
  const ms = periodSeconds * 1000;
  return new Date(Math.floor(t.getTime() / ms) * ms);
}
