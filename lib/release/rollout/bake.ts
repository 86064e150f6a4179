/**
 * Baking a step: every `interval` the ALB is checked (./observe.ts), the canary observed, and what
 * is new fed to the sequential judge (lib/release/judge/analysis.ts); a failure rolls back at the poll where
 * the evidence crosses its bound; the end of the bake gives a pass, or an inconclusive verdict the
 * core (lib/release/core.ts onVerdict) turns into an extension (the evidence carries over) or a
 * rollback.
 */

import * as core from "../core.ts";
import { emit } from "../emit.ts";
import {
  alignDown,
  analysePoll,
  analysisRecord,
  describeRecord,
  type Observation,
  pollLine,
  type StepAnalysis,
  startAnalysis,
} from "../judge/analysis.ts";
import type { AnalysisRecord } from "../model/records.ts";
import { checkOwnership, observe, ReadFailure } from "./observe.ts";
import { commitOnly, type RolloutContext, rollBack } from "./run-context.ts";

/** A step's analysis: the judge's state, from the step's start (kept across extensions). */
export function stepAnalysis(
  rc: RolloutContext,
  step: number | "watch",
  percent: number,
  bakeSeconds: number,
): StepAnalysis {
  const a = rc.analysis;
  const looks = Math.max(1, Math.floor((bakeSeconds - a.publishDelaySeconds) / a.intervalSeconds));
  const plannedRequests = step === "watch" ? 0 : (rc.options.plannedRequests?.[step] ?? 0);
  return startAnalysis(rc.judge, { percent, plannedRequests, looks }, a.enforce.alarms);
}

/**
 * Analyses the current weights for `seconds` more. Returns the final verdict (pass or inconclusive)
 * and the analysis so far, or, with `verdict` false (a timed pause), whatever it is at the end; a
 * failure rolls back at once (never returns).
 */
export async function bake(
  rc: RolloutContext,
  seconds: number,
  step: number | "watch",
  percent: number,
  verdict: boolean,
  from?: { analysis: StepAnalysis; started: Date },
): Promise<{ status: "pass" | "inconclusive"; record: AnalysisRecord; analysis: StepAnalysis; started: Date }> {
  const { ctx, analysis: a } = rc;
  const clock = ctx.clock;
  const started = from?.started ?? clock.now();
  const windowStart = alignDown(started, a.metricPeriodSeconds);
  const deadline = clock.now().getTime() + seconds * 1000;
  let analysis = from?.analysis ?? stepAnalysis(rc, step, percent, seconds);
  let last: Observation | null = null;
  for (;;) {
    const wait = Math.min(a.intervalSeconds * 1000, deadline - clock.now().getTime());
    if (wait > 0) await clock.sleep(wait, ctx.signal);
    await checkOwnership(rc);
    const final = clock.now().getTime() >= deadline;
    try {
      last = await observe(rc, windowStart);
    } catch (err) {
      if (!(err instanceof ReadFailure)) throw err;
      return rollBack(
        rc,
        err.message,
        analysisRecord(analysis, last, { status: "fail", reasons: [err.message] }, rc.limits, step, percent),
      );
    }
    const t = Math.round((clock.now().getTime() - started.getTime()) / 1000);
    const polled = analysePoll(analysis, last, t, final && verdict);
    analysis = polled.analysis;
    const v = polled.verdict;
    ctx.progress.info(
      `  poll ${analysis.intervals.length}: ${pollLine(analysis.intervals.at(-1)!, rc.canary, rc.stable, v, last.alarms)}`,
    );
    if (v.status === "fail")
      return rollBack(
        rc,
        v.reasons.join("; "),
        analysisRecord(analysis, last, { ...v, status: "fail" }, rc.limits, step, percent),
      );
    if (final) {
      const status = v.status === "inconclusive" ? "inconclusive" : "pass";
      return {
        status,
        record: analysisRecord(analysis, last, { ...v, status }, rc.limits, step, percent),
        analysis,
        started,
      };
    }
  }
}

/** Bakes a weight step (or the post-switch watch) until a verdict the policy lets pass. */
export async function judgeStep(
  rc: RolloutContext,
  i: number | "watch",
  step: { percent: number; bakeSeconds: number },
): Promise<void> {
  const { ctx, env, analysis: a } = rc;
  const seconds = i === "watch" ? step.bakeSeconds : (rc.options.bakeSeconds ?? step.bakeSeconds);
  let carried: { analysis: StepAnalysis; started: Date } | undefined;
  for (;;) {
    const { status, record, analysis, started } = await bake(rc, seconds, i, step.percent, true, carried);
    const { release, action } = core.onVerdict(rc.state.release, { status, reasons: record.reasons }, a);
    if (action === "rollback") return rollBack(rc, record.reasons.join("; "), record);
    const committed = await commitOnly(rc, () => release, "analysis", { analysis: record });
    ctx.progress.info(`${env}: ${describeRecord(record)}`);
    if (action === "advance") {
      emit(ctx, env, "step-passed", {
        reason: `${i === "watch" ? "post-switch watch" : `step ${i + 1}`} at ${step.percent} % passed`,
        release: committed,
        evidence: describeRecord(record),
      });
      return;
    }
    ctx.progress.info(
      `${env}: inconclusive: baking ${i === "watch" ? "the watch" : `step ${i + 1}`} again (${release.rollout!.extensions}/${a.maxExtensions}); the evidence so far carries over`,
    );
    carried = { analysis, started };
  }
}
