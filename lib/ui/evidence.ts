/**
 * Each sequential test's evidence as it accumulated over a step: the recorded per-poll counts of
 * an analysis record (`intervals`) fed again through the judge (lib/release/judge/sequential.ts),
 * with the environment's analysis policy. Pure.
 */
import {
  addPeriod,
  enterStep,
  type JudgeState,
  readings,
  type StepContext,
  startRollout,
  testsFor,
} from "../release/judge/sequential.ts";
import { type Analysis, judgeSettings } from "../release/model/policy.ts";
import type { AnalysisRecord } from "../release/model/records.ts";

export interface EvidencePoint {
  /** Seconds into the step. */
  readonly t: number;
  readonly tests: readonly { readonly name: string; readonly logEvidence: number; readonly logBound: number }[];
  readonly canary: { readonly requests: number; readonly errors: number };
  readonly stable: { readonly requests: number; readonly errors: number };
}

/**
 * The evidence after each judged period of a rollout's steps (their records' `intervals`, oldest
 * first), judged again as the rollout judged them: one judge whose evidence carries from step to
 * step. One series per record; empty for a record without per-period counts.
 */
export function rolloutEvidence(records: readonly AnalysisRecord[], analysis: Analysis): EvidencePoint[][] {
  const settings = judgeSettings(analysis);
  const tests = testsFor(settings);
  let state: JudgeState | undefined;
  return records.map((r) => {
    const step: StepContext = { index: r.step, percent: r.percent, bakeSeconds: 0, maxRatio: null };
    state = state ? enterStep(state, step) : startRollout(step);
    return (r.intervals ?? []).map((i) => {
      state = addPeriod(state!, tests, settings, {
        t: i.t,
        canary: i.canary,
        stable: i.stable,
        lbErrors: i.lb?.errors ?? 0,
        edges: i.buckets ?? null,
      });
      return {
        t: i.t,
        tests: readings(state, tests).map((x) => ({ name: x.name, logEvidence: x.logEvidence, logBound: x.logBound })),
        canary: { requests: i.canary.requests, errors: i.canary.errors },
        stable: { requests: i.stable.requests, errors: i.stable.errors },
      };
    });
  });
}

const needed = (r: AnalysisRecord) =>
  r.required?.requests ? `, and a pass needed ${r.required.requests} canary requests (${r.required.basis})` : "";

/** Why the verdict, in words: what decided it, and how near each test came to its bound. */
export function verdictInWords(record: AnalysisRecord): string[] {
  const where = record.step === "watch" ? "the post-switch watch" : `step ${record.step + 1} at ${record.percent} %`;
  const lead =
    record.verdict === "pass"
      ? `${where} passed: no test's evidence reached its bound by the end of the bake${needed(record)}.`
      : record.verdict === "fail"
        ? `${where} failed, and the rollout returned the traffic.`
        : `${where} was inconclusive: the bake ended before the evidence could decide either way.`;
  const tests = (record.evidence ?? []).map((e) => {
    const share = e.logBound > 0 ? Math.max(0, e.logEvidence / e.logBound) : 0;
    return e.logEvidence >= e.logBound
      ? `${e.test}: the evidence reached its bound (the canary is worse than allowed).`
      : `${e.test}: the evidence stayed at ${Math.round(share * 100)} % of its bound.`;
  });
  return [lead, ...record.reasons.map((r) => `Reason: ${r}`), ...tests];
}
