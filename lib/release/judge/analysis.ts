/**
 * Canary analysis of one step, as pure functions over what the controller reads at each poll (the
 * canary's alarms, both slots' ALB metrics per period): the new counts since the last poll go to the
 * sequential judge (./sequential.ts), which says pass, fail, inconclusive or pending, with evidence.
 *
 * - CloudWatch fills periods in late, so each poll takes, per period, only what grew since the last
 *   read: every request enters the tests once.
 * - The load balancer's own 5xx cannot be attributed to a target group (CloudWatch publishes them per
 *   load balancer only): they are charged to the canary, the fail-safe side.
 * - An alarm of the canary in ALARM, or missing, fails the step at once (unless alarms are observe-only).
 */
import type { Slot } from "../../core/primitives.ts";
import type { AnalysisRecord } from "../model/records.ts";
import type { AlarmStates, PeriodMetrics, WindowMetrics } from "../ports/index.ts";
import {
  addInterval,
  type Counts,
  formatEvidence,
  type Interval,
  type JudgeSettings,
  type StepContext,
  type StepState,
  type StepVerdict,
  startStep,
  type Tests,
  testsFor,
  verdict,
} from "./sequential.ts";

export interface Observation {
  readonly canary: Slot;
  readonly stable: Slot;
  /** Start of the metrics window (the step's start, aligned down to the metric period). */
  readonly windowStart: Date;
  /** End of the window read (now). */
  readonly windowEnd: Date;
  readonly metrics: WindowMetrics;
  readonly alarms: AlarmStates;
}

/** Per period start (ms): the counts of each slot already taken into the step's evidence. */
type Seen = ReadonlyMap<number, { readonly canary: Counts; readonly stable: Counts }>;

/** A step being analysed: the judge's state and what it was fed. */
export interface StepAnalysis {
  readonly settings: JudgeSettings;
  readonly tests: Tests;
  readonly step: StepContext;
  /** Whether an alarm fails the step (false: observe-only). */
  readonly enforceAlarms: boolean;
  readonly state: StepState;
  readonly seen: Seen;
  /** Every poll's new counts, for the history and replay. */
  readonly intervals: readonly Interval[];
}

export function startAnalysis(settings: JudgeSettings, step: StepContext, enforceAlarms: boolean): StepAnalysis {
  const tests = testsFor(settings);
  return { settings, tests, step, enforceAlarms, state: startStep(tests), seen: new Map(), intervals: [] };
}

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
const add = (a: Counts, b: Counts): Counts => ({
  requests: a.requests + b.requests,
  errors: a.errors + b.errors,
  slow: a.slow === null || b.slow === null ? null : a.slow + b.slow,
});
const ZERO: Counts = { requests: 0, errors: 0, slow: 0 };

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
    c = add(c, dc.slow === null && dc.requests === 0 ? { ...dc, slow: 0 } : dc);
    s = add(s, ds.slow === null && ds.requests === 0 ? { ...ds, slow: 0 } : ds);
    next.set(key, { canary: max(now.canary, before?.canary), stable: max(now.stable, before?.stable) });
  }
  return { seen: next, canary: c, stable: s };
}

/** The verdict of one poll: the judge's, with the alarms. */
export interface PollVerdict extends StepVerdict {
  readonly alarmFailures: readonly string[];
}

/** Adds one poll (`t` seconds into the step) and judges it; `final` at the end of the bake. */
export function analysePoll(
  a: StepAnalysis,
  o: Observation,
  t: number,
  final: boolean,
): { analysis: StepAnalysis; verdict: PollVerdict } {
  const { seen, canary, stable } = newCounts(a.seen, o.metrics, o.canary, o.stable);
  const interval: Interval = { t, canary, stable };
  const state = addInterval(a.state, a.tests, interval);
  const next: StepAnalysis = { ...a, state, seen, intervals: [...a.intervals, interval] };
  const alarmFailures = [
    ...o.alarms.alarming.map((x) => `alarm ${x} is in ALARM`),
    ...o.alarms.missing.map((x) => `alarm ${x} does not exist (the gate fails closed)`),
  ];
  const v = verdict(state, a.tests, a.settings, a.step, final);
  if (alarmFailures.length > 0 && a.enforceAlarms)
    return {
      analysis: next,
      verdict: { ...v, status: "fail", reasons: [...alarmFailures, ...v.reasons], alarmFailures },
    };
  const observed = a.enforceAlarms ? v.observed : [...alarmFailures, ...v.observed];
  return { analysis: next, verdict: { ...v, observed, alarmFailures } };
}

/** The evidence of a verdict, as the history keeps it. */
export function analysisRecord(
  a: StepAnalysis,
  o: Observation | null,
  v: {
    status: "pass" | "fail" | "inconclusive";
    reasons: readonly string[];
    observed?: readonly string[];
    readings?: StepVerdict["readings"];
    required?: StepVerdict["required"];
  },
  limits: AnalysisRecord["limits"],
  step: number | "watch",
  percent: number,
): AnalysisRecord {
  const measure = (slot: Slot, c: Counts, p99: number | null) => ({
    slot,
    requests: c.requests,
    errors: c.errors,
    slow: c.slow,
    errorRatePercent: c.requests > 0 ? Number(((100 * c.errors) / c.requests).toFixed(3)) : null,
    p99Seconds: p99,
  });
  return {
    step,
    percent,
    verdict: v.status,
    reasons: [...v.reasons],
    observed: [...(v.observed ?? [])],
    window: o ? { start: o.windowStart.toISOString(), end: o.windowEnd.toISOString() } : null,
    canary: o ? measure(o.canary, a.state.canary, o.metrics.slots[o.canary].p99Seconds) : null,
    stable: o ? measure(o.stable, a.state.stable, o.metrics.slots[o.stable].p99Seconds) : null,
    alarms: o ? o.alarms.states.map((x) => ({ ...x })) : [],
    limits: { ...limits },
    evidence: (v.readings ?? []).map((r) => ({
      test: r.name,
      logEvidence: round(r.logEvidence),
      logBound: round(r.logBound),
    })),
    required: v.required
      ? { requests: Number.isFinite(v.required.requests) ? v.required.requests : null, basis: v.required.basis }
      : null,
    plannedRequests: a.step.plannedRequests,
    intervals: a.intervals.map((i) => ({ t: i.t, canary: { ...i.canary }, stable: { ...i.stable } })),
    polls: a.intervals.length,
  };
}

const round = (x: number) => Number(x.toFixed(4));

/** The evidence of a record in words: each test's likelihood ratio against its bound. */
export function describeEvidence(r: AnalysisRecord): string {
  return (r.evidence ?? [])
    .map((e) => `${e.test} ${formatEvidence(e.logEvidence)}/${formatEvidence(e.logBound)}`)
    .join(", ");
}

const pct = (n: number) => `${Number(n.toFixed(2))} %`;

/** One line per measurement, for the terminal and the rollback message. */
export function describeRecord(r: AnalysisRecord): string {
  const slot = (m: AnalysisRecord["canary"]) =>
    m
      ? `${m.slot}: ${m.requests} requests, ${m.errors} 5xx (${m.errorRatePercent === null ? "–" : pct(m.errorRatePercent)})${m.slow === undefined || m.slow === null ? "" : `, ${m.slow} slow`}, p99 ${m.p99Seconds === null ? "–" : `${Number(m.p99Seconds.toFixed(3))} s`}`
      : "no data";
  const where = r.step === "watch" ? "post-switch watch" : `step ${r.step + 1} (${r.percent} %)`;
  const evidence = r.evidence?.length ? ` | evidence/bound ${describeEvidence(r)}` : "";
  const required = r.required
    ? ` | a pass needs ${r.required.requests === null ? "more canary requests than any bake gives" : `${r.required.requests} canary requests`} ${r.required.basis}`
    : "";
  const planned = r.plannedRequests ? ` | the traffic plan required ${r.plannedRequests}` : "";
  const observed = r.observed?.length ? ` | observe-only: ${r.observed.join("; ")}` : "";
  return `${where}: ${r.verdict.toUpperCase()}${r.reasons.length ? ` — ${r.reasons.join("; ")}` : ""} | canary ${slot(r.canary)} | stable ${slot(r.stable)}${evidence}${required}${planned}${observed} | ${r.polls} poll${r.polls === 1 ? "" : "s"}`;
}

/** A poll as the terminal shows it: both slots' new counts, the evidence against its bound, the alarms. */
export function pollLine(i: Interval, canary: Slot, stable: Slot, v: PollVerdict, alarms: AlarmStates): string {
  const m = (slot: Slot, c: Counts) =>
    `${slot} +${c.requests} req, +${c.errors} 5xx${c.slow === null ? "" : `, +${c.slow} slow`}`;
  const evidence = v.readings
    .map((r) => `${r.name} ${formatEvidence(r.logEvidence)}/${formatEvidence(r.logBound)}`)
    .join(", ");
  const alarmText =
    alarms.states.length === 0
      ? "no alarms"
      : v.alarmFailures.length === 0
        ? `${alarms.states.length} alarms OK`
        : v.alarmFailures.join(", ");
  return `t+${i.t} s: ${m(canary, i.canary)} | ${m(stable, i.stable)} | ${evidence} | ${alarmText}${v.status === "fail" ? ` | FAIL: ${v.reasons.join("; ")}` : ""}${v.observed.length ? ` | observe-only: ${v.observed.join("; ")}` : ""}`;
}

/** Aligns a time down to the metric period (CloudWatch's data points start on period boundaries). */
export function alignDown(t: Date, periodSeconds: number): Date {
  const ms = periodSeconds * 1000;
  return new Date(Math.floor(t.getTime() / ms) * ms);
}
