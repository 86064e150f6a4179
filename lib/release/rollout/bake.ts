/**
 * Baking a step: every `interval` the ALB is checked (./observe.ts), the canary observed, and every
 * period that became final fed to the rollout's judge (lib/release/judge/analysis.ts), whose
 * evidence carries from step to step; a failure rolls back at the poll where the evidence crosses
 * its bound; the end of the bake gives a pass, or an inconclusive verdict the core
 * (lib/release/core.ts onVerdict) turns into an extension (the evidence carries over) or a rollback.
 */

import * as core from "../core.ts";
import { emit } from "../emit.ts";
import {
  analysePoll,
  latencyEdges,
  type Observation,
  readFrom,
  type StepAnalysis,
  seedQuantiles,
  startAnalysis,
} from "../judge/analysis.ts";
import { stepContext, watchContext } from "../judge/exposure.ts";
import { analysisRecord, describeRecord, pollLine } from "../judge/record.ts";
import type { StepContext } from "../judge/sequential.ts";
import { isWeightStep } from "../model/policy.ts";
import type { AnalysisRecord } from "../model/records.ts";
import { checkOwnership, observe, ReadFailure, readAlb } from "./observe.ts";
import { commitOnly, type RolloutContext, rollBack } from "./run-context.ts";

/** What the judge knows of step `step` of the running rollout (a timed pause: the weights it holds). */
function contextOf(rc: RolloutContext, step: number | "watch", percent: number, bakeSeconds: number): StepContext {
  if (step === "watch") return watchContext(bakeSeconds);
  const steps = rc.state.release.rollout?.steps ?? [];
  const s = steps[step];
  if (s && isWeightStep(s)) return stepContext(steps, step, rc.analysis, bakeSeconds);
  return { index: step, percent, bakeSeconds, maxRatio: null };
}

/** The next step's analysis: the rollout's so far carries its evidence over (a new one at the rollout's first step). */
export function stepAnalysis(
  rc: RolloutContext,
  step: number | "watch",
  percent: number,
  bakeSeconds: number,
  started: Date,
): StepAnalysis {
  const a = rc.analysis;
  const timing = { periodSeconds: a.metricPeriodSeconds, publishDelaySeconds: a.publishDelaySeconds };
  const o = { enforceAlarms: a.enforce.alarms, timing, started };
  return startAnalysis(rc.judge, contextOf(rc, step, percent, bakeSeconds), o, rc.state.judge);
}

/**
 * At the rollout's first step: the stable slot's response-time quantiles of the periods before it,
 * for the first reads' bucket edges. A read that fails leaves the edges at the latency limit (the
 * response-time test has less to go on; the reads that judge fail closed on their own).
 */
async function withStableQuantiles(rc: RolloutContext, a: StepAnalysis, started: Date): Promise<StepAnalysis> {
  const { ctx, analysis: p } = rc;
  if (!rc.state.dimensions) await readAlb(rc);
  const start = new Date(started.getTime() - 5 * p.metricPeriodSeconds * 1000);
  const q = {
    ...rc.state.dimensions!,
    start,
    end: started,
    periodSeconds: p.metricPeriodSeconds,
    slowSeconds: p.maxLatencyP99Seconds,
  };
  try {
    return seedQuantiles(a, await ctx.metrics(rc.environment).read(q), rc.stable);
  } catch {
    return a;
  }
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
  const deadline = clock.now().getTime() + seconds * 1000;
  let analysis = from?.analysis ?? stepAnalysis(rc, step, percent, seconds, started);
  if (!from && !rc.state.judge) analysis = await withStableQuantiles(rc, analysis, started);
  let last: Observation | null = null;
  let polls = 0;
  for (;;) {
    const wait = Math.min(a.intervalSeconds * 1000, deadline - clock.now().getTime());
    if (wait > 0) await clock.sleep(wait, ctx.signal);
    await checkOwnership(rc);
    const final = clock.now().getTime() >= deadline;
    try {
      last = await observe(rc, readFrom(analysis, started), latencyEdges(analysis, a.maxLatencyP99Seconds));
    } catch (err) {
      if (!(err instanceof ReadFailure)) throw err;
      return rollBack(
        rc,
        err.message,
        analysisRecord(analysis, last, { status: "fail", reasons: [err.message] }, rc.limits, step, percent),
      );
    }
    const t = Math.round((clock.now().getTime() - started.getTime()) / 1000);
    const polled = analysePoll(analysis, last, final && verdict);
    analysis = polled.analysis;
    rc.state.judge = analysis;
    polls++;
    const v = polled.verdict;
    ctx.progress.info(`  poll ${polls}: t+${t} s: ${pollLine(analysis, rc.canary, rc.stable, v, last.alarms)}`);
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
      `${env}: inconclusive: baking ${i === "watch" ? "the watch" : `step ${i + 1}`} again ` +
        `(${release.rollout!.extensions}/${a.maxExtensions}); the evidence so far carries over`,
    );
    carried = { analysis, started };
  }
}
