/**
 * Baking a step: every `interval` the ALB is checked (./observe.ts), the canary observed and judged
 * by the pure judge (lib/release/analysis.ts); a failure rolls back at once; the end of the bake
 * gives a pass, or an inconclusive verdict the core (lib/release/core.ts onVerdict) turns into an
 * extension or a rollback.
 */
import { alignDown, analysisRecord, describeRecord, judge, type Observation } from "../analysis.ts";
import * as core from "../core.ts";
import type { AnalysisRecord } from "../model.ts";
import { commitOnly, rollBack, type RolloutContext } from "./context.ts";
import { ReadFailure, checkOwnership, observe } from "./observe.ts";

/**
 * Analyses the current weights for `seconds`. Returns the final verdict (pass or inconclusive), or,
 * with `verdict` false (a timed pause), nothing; a failure rolls back at once (never returns).
 */
export async function bake(rc: RolloutContext, seconds: number, step: number | "watch", percent: number, verdict: boolean): Promise<{ status: "pass" | "inconclusive"; record: AnalysisRecord }> {
  const { ctx, analysis: a, limits } = rc;
  const clock = ctx.clock;
  const started = clock.now();
  const windowStart = alignDown(started, a.metricPeriodSeconds);
  const deadline = started.getTime() + seconds * 1000;
  let polls = 0;
  for (;;) {
    const wait = Math.min(a.intervalSeconds * 1000, deadline - clock.now().getTime());
    if (wait > 0) await clock.sleep(wait, ctx.signal);
    polls++;
    await checkOwnership(rc);
    const final = clock.now().getTime() >= deadline;
    let obs: Observation;
    try {
      obs = await observe(rc, windowStart);
    } catch (err) {
      if (!(err instanceof ReadFailure)) throw err;
      const record = analysisRecord(null, { status: "fail", reasons: [err.message] }, limits, step, percent, polls);
      return rollBack(rc, err.message, record);
    }
    const v = judge(obs, limits, final && verdict);
    const record = analysisRecord(obs, v.status === "pending" ? { status: "pass", reasons: [] } : v as { status: "pass" | "fail" | "inconclusive"; reasons: string[] }, limits, step, percent, polls);
    ctx.progress.info(`  poll ${polls}: ${pollLine(record)}`);
    if (v.status === "fail") return rollBack(rc, v.reasons.join("; "), { ...record, verdict: "fail" });
    if (final) return { status: v.status === "inconclusive" ? "inconclusive" : "pass", record };
  }
}

/** Bakes a weight step (or the post-switch watch) until a verdict the policy lets pass. */
export async function judgeStep(rc: RolloutContext, i: number | "watch", step: { percent: number; bakeSeconds: number }): Promise<void> {
  const { ctx, env, analysis: a } = rc;
  const seconds = i === "watch" ? step.bakeSeconds : (rc.options.bakeSeconds ?? step.bakeSeconds);
  for (;;) {
    const { status, record } = await bake(rc, seconds, i, step.percent, true);
    const { release, action } = core.onVerdict(rc.state.release, { status, reasons: record.reasons }, a);
    if (action === "rollback") return rollBack(rc, record.reasons.join("; "), record);
    await commitOnly(rc, () => release, "analysis", { analysis: record });
    ctx.progress.info(`${env}: ${describeRecord(record)}`);
    if (action === "advance") return;
    ctx.progress.info(`${env}: inconclusive: baking ${i === "watch" ? "the watch" : `step ${i + 1}`} again (${release.rollout!.extensions}/${a.maxExtensions})`);
  }
}

function pollLine(r: AnalysisRecord): string {
  const m = (x: AnalysisRecord["canary"]) => (x ? `${x.slot} ${x.requests} req, ${x.errors} 5xx${x.p99Seconds === null ? "" : `, p99 ${Number(x.p99Seconds.toFixed(3))} s`}` : "no data");
  const alarms = r.alarms.length === 0 ? "no alarms" : r.alarms.every((a) => a.state !== "ALARM") ? `${r.alarms.length} alarms OK` : r.alarms.filter((a) => a.state === "ALARM").map((a) => `${a.name} ALARM`).join(", ");
  return `${m(r.canary)} | ${m(r.stable)} | ${alarms}${r.verdict === "fail" ? ` | FAIL: ${r.reasons.join("; ")}` : ""}`;
}
