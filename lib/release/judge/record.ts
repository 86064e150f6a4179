/**
 * The judge's evidence as the history keeps it and as a person reads it: the analysis record of a
 * step (its counts, each test against its bound, the upper bound it passed on, what the inputs
 * showed), one line per record and one line per poll.
 */
import type { Slot } from "../../core/primitives.ts";
import type { AnalysisRecord } from "../model/records.ts";
import type { AlarmStates } from "../ports/index.ts";
import type { Observation, PollVerdict, StepAnalysis } from "./analysis.ts";
import { formatEvidence, type Totals } from "./sequential.ts";
import type { StepVerdict } from "./verdict.ts";

const round = (x: number) => Number(x.toFixed(4));
const ratioText = (x: number) => (Number.isFinite(x) ? `${Number(x.toPrecision(3))}×` : "nothing yet");

/** The evidence of a verdict, as the history keeps it. */
export function analysisRecord(
  a: StepAnalysis,
  o: Observation | null,
  v: {
    status: "pass" | "fail" | "inconclusive";
    reasons: readonly string[];
    observed?: readonly string[];
    readings?: StepVerdict["readings"];
    bound?: StepVerdict["bound"];
  },
  limits: AnalysisRecord["limits"],
  step: number | "watch",
  percent: number,
): AnalysisRecord {
  const measure = (slot: Slot, c: Totals, p99: number | null) => ({
    slot,
    requests: c.requests,
    errors: round(c.errors),
    slow: c.slow,
    errorRatePercent: c.requests > 0 ? Number(((100 * c.errors) / c.requests).toFixed(3)) : null,
    p99Seconds: p99,
  });
  const s = a.state.stats;
  return {
    step,
    percent,
    verdict: v.status,
    reasons: [...v.reasons],
    observed: [...(v.observed ?? []), ...a.state.notes.filter((n) => n.step === step).map((n) => n.text)].slice(-20),
    window: o ? { start: o.windowStart.toISOString(), end: o.windowEnd.toISOString() } : null,
    canary: o ? measure(o.canary, s.canary, o.metrics.slots[o.canary].p99Seconds) : null,
    stable: o ? measure(o.stable, s.stable, o.metrics.slots[o.stable].p99Seconds) : null,
    alarms: o ? o.alarms.states.map((x) => ({ ...x })) : [],
    limits: { ...limits },
    evidence: (v.readings ?? []).map((r) => ({
      test: r.name,
      logEvidence: round(r.logEvidence),
      logBound: round(r.logBound),
    })),
    required: v.bound
      ? {
          requests: null,
          basis: `error ratio bounded by ${ratioText(v.bound.ratio)}; the step needs below ${v.bound.maxRatio}×`,
        }
      : null,
    intervals: a.intervals.map((i) => ({
      t: i.t,
      canary: {
        requests: i.canary.requests,
        errors: i.canary.errors,
        slow: i.canary.slow,
        ...(i.canary.latency ? { latency: [...i.canary.latency] } : {}),
      },
      stable: {
        requests: i.stable.requests,
        errors: i.stable.errors,
        slow: i.stable.slow,
        ...(i.stable.latency ? { latency: [...i.stable.latency] } : {}),
      },
      ...(i.lbErrors ? { lb: { errors: i.lbErrors } } : {}),
      ...(i.edges ? { buckets: [...i.edges] } : {}),
    })),
    polls: a.intervals.length,
  };
}

/** The evidence of a record in words: each test's likelihood ratio against its bound. */
export function describeEvidence(r: AnalysisRecord): string {
  return (r.evidence ?? [])
    .map((e) => `${e.test} ${formatEvidence(e.logEvidence)}/${formatEvidence(e.logBound)}`)
    .join(", ");
}

const pct = (n: number) => `${Number(n.toFixed(2))} %`;

/** One line per measurement, for the terminal and the rollback message. */
export function describeRecord(r: AnalysisRecord): string {
  const slot = (m: AnalysisRecord["canary"]) => {
    if (!m) return "no data";
    const rate = m.errorRatePercent === null ? "–" : pct(m.errorRatePercent);
    const slow = m.slow === undefined || m.slow === null ? "" : `, ${m.slow} slow`;
    const p99 = m.p99Seconds === null ? "–" : `${Number(m.p99Seconds.toFixed(3))} s`;
    return `${m.slot}: ${m.requests} requests, ${Number(m.errors.toFixed(1))} 5xx (${rate})${slow}, p99 ${p99}`;
  };
  const where = r.step === "watch" ? "post-switch watch" : `step ${r.step + 1} (${r.percent} %)`;
  const evidence = r.evidence?.length ? ` | evidence/bound ${describeEvidence(r)}` : "";
  const bound = r.required ? ` | ${r.required.basis}` : "";
  const observed = r.observed?.length ? ` | observe-only / inputs: ${r.observed.join("; ")}` : "";
  const reasons = r.reasons.length ? ` — ${r.reasons.join("; ")}` : "";
  const periods = `${r.polls} period${r.polls === 1 ? "" : "s"} judged`;
  return `${where}: ${r.verdict.toUpperCase()}${reasons} | canary ${slot(r.canary)} | stable ${slot(r.stable)}${evidence}${bound}${observed} | ${periods}`;
}

/** A poll as the terminal shows it: the periods judged, the evidence against its bound, the alarms. */
export function pollLine(a: StepAnalysis, canary: Slot, stable: Slot, v: PollVerdict, alarms: AlarmStates): string {
  const fresh = a.intervals.slice(a.intervals.length - v.judgedNow);
  const sum = (f: (p: (typeof fresh)[number]) => number) => fresh.reduce((x, p) => x + f(p), 0);
  const counts =
    fresh.length === 0
      ? "no period final yet"
      : [
          `${fresh.length} period${fresh.length === 1 ? "" : "s"} judged: ${canary} +${sum((p) => p.canary.requests)} req, +${sum((p) => p.canary.errors)} 5xx`,
          `${stable} +${sum((p) => p.stable.requests)} req, +${sum((p) => p.stable.errors)} 5xx`,
          `lb +${sum((p) => p.lbErrors)} 5xx`,
        ].join(" | ");
  const evidence = v.readings
    .map((r) => `${r.name} ${formatEvidence(r.logEvidence)}/${formatEvidence(r.logBound)}`)
    .join(", ");
  const alarmText =
    alarms.states.length === 0
      ? "no alarms"
      : v.alarmFailures.length === 0
        ? `${alarms.states.length} alarms OK`
        : v.alarmFailures.join(", ");
  const late = v.late.length ? ` | ${v.late.join("; ")}` : "";
  const fail = v.status === "fail" ? ` | FAIL: ${v.reasons.join("; ")}` : "";
  const observed = v.observed.length ? ` | observe-only: ${v.observed.join("; ")}` : "";
  return `${counts} | ${evidence} | ${alarmText}${late}${fail}${observed}`;
}
