/**
 * The rollout controller: the environment's canary of the idle slot, step by step, judged by
 * continuous analysis (lib/release/analysis.ts), with the release core deciding on each verdict.
 *
 * - Before any traffic moves: smoke checks of the idle slot through its test route.
 * - Each weight step: the file is written and the traffic stack deployed, the ALB is read back
 *   (the weights must be the ones applied), then every `interval` the slot's alarms, its metrics
 *   and the stable slot's are read and judged; a failure rolls back at once; the end of the bake
 *   gives a pass, or an inconclusive verdict that fails or extends the bake as the policy says.
 * - Pause steps wait for a person (`--continue`) or a duration; after the last step the new slot
 *   is watched for the post-switch window before it becomes live.
 * - The environment's lock is held only while the file changes (and the step deploys), never
 *   across a bake: `envctl abort` / `rollback` from another terminal take effect at the next poll,
 *   and from another machine through the ALB (the weights this rollout set are read back every poll).
 * - Fail closed: unreadable metrics/alarms/ALB (after bounded retries), a failed step deploy, or a
 *   signal return the traffic to the stable slot (a signal may leave it, by `--on-interrupt leave`).
 */
import { bakeProblems, isWeightStep, type Analysis } from "../config/release-policy.ts";
import { weightsOf, type AnalysisRecord, type Release, type RolloutStep, type Weights } from "../config/release.ts";
import type { Environment, Slot } from "../config/schema.ts";
import { slotAlarmNames } from "../constructs/naming.ts";
import { describeAwsError } from "../aws/clients.ts";
import { arnSuffix } from "../aws/traffic.ts";
import { alignDown, analysisRecord, describeRecord, hasCompletePeriod, judge, type Limits, type Observation } from "./analysis.ts";
import * as core from "./core.ts";
import {
  DeployFailedError, GateStoppedError, InterruptedError, SupersededError, applyTransition, change, environment, formatWeights, locked, mitigate, releaseDiff, showDryRun,
  withRetries, type Context,
} from "./operations.ts";
import { describeSmoke, runSmokeChecks, smokeBaseUrl } from "./smoke.ts";
import { trafficStack } from "./stacks.ts";
import { commit, loadRelease } from "./store.ts";

export interface RolloutOptions {
  /** Overrides every step's bake, seconds (checked against the analysis window). */
  readonly bakeSeconds?: number;
  /** Go on from a manual pause. */
  readonly continue?: boolean;
  /** On SIGINT/SIGTERM: return the traffic to the stable slot (default) or leave it where it is. */
  readonly onInterrupt?: "rollback" | "leave";
}

/** A read of CloudWatch or the ALB failed after its retries. */
class ReadFailure extends Error {}

const describeSteps = (steps: readonly RolloutStep[], bake?: number) =>
  steps.map((s) => ("pause" in s ? (s.pause === "manual" ? "pause (manual)" : `pause ${s.pause} s`) : `${s.percent} % (bake ${bake ?? s.bakeSeconds} s)`)).join(" → ");

export async function rollout(ctx: Context, env: string, opts: RolloutOptions = {}): Promise<Release> {
  const e = environment(ctx, env).config;
  const policy = e.release;
  if (opts.bakeSeconds !== undefined) {
    const problems = bakeProblems(policy.canary, policy.analysis, opts.bakeSeconds);
    if (problems.length > 0) throw new core.RefusedError(`${env}: --bake ${opts.bakeSeconds}: ${problems[0]!.message}`);
  }
  let r = loadRelease(ctx.project.root, env);
  if (r.pending) throw new core.RefusedError(`${env}: the deploy of ${r.pending.stacks.join(", ")} by '${r.pending.command}' did not finish; run 'envctl reconcile ${env}' first`);

  if (ctx.options.dryRun) {
    const started = r.rollout ? r : core.startRollout(r, policy.canary, change(ctx));
    const ro = started.rollout!;
    showDryRun(ctx, { environment: env, diff: releaseDiff(env, r, started), deploy: [trafficStack(e)], proposed: started, summary: `would roll out ${ro.target} (${started.slots[ro.target].version}) in ${env}: ${describeSteps(ro.steps.slice(ro.nextStep), opts.bakeSeconds)}${policy.analysis.postSwitchWatchSeconds ? ` → watch ${policy.analysis.postSwitchWatchSeconds} s` : ""}, deploying ${trafficStack(e)} at each step; ${r.rollout ? "" : `smoke checks first (${policy.smoke.checks.length} against ${smokeBaseUrl(e)}); `}analysis every ${policy.analysis.intervalSeconds} s` });
    return r;
  }

  if (!r.rollout) {
    if (opts.continue) throw new core.RefusedError(`${env} has no rollout waiting at a pause`);
    const planned = core.startRollout(r, policy.canary, change(ctx)); // refuses early (no version, rollout running)
    const target = planned.rollout!.target;
    await ctx.approve(e, { summary: `roll out ${target} (${r.slots[target].version}) in ${env}: ${describeSteps(planned.rollout!.steps, opts.bakeSeconds)}, each step analysed`, stacks: [trafficStack(e)] });
    await smokeGate(ctx, e, target, r.slots[target].version!);
    r = await locked(ctx, env, () => applyTransition(ctx, env, [], (x) => core.startRollout(x, policy.canary, change(ctx)), "rollout-started"));
  } else if (r.rollout.paused) {
    if (!opts.continue) {
      printPaused(ctx, r);
      return r;
    }
    await ctx.approve(e, { summary: `continue the rollout of ${r.rollout.target} in ${env}: ${describeSteps(r.rollout.steps.slice(r.rollout.nextStep), opts.bakeSeconds)}`, stacks: [trafficStack(e)] });
    r = await locked(ctx, env, () => applyTransition(ctx, env, [], (x) => core.continueRollout(x, change(ctx)), "continued"));
  } else {
    if (opts.continue) throw new core.RefusedError(`${env}: the rollout of ${r.rollout.target} is not paused (step ${r.rollout.nextStep}/${r.rollout.steps.length})`);
    await ctx.approve(e, { summary: `resume the rollout of ${r.rollout.target} in ${env} at step ${r.rollout.nextStep}/${r.rollout.steps.length}`, stacks: [trafficStack(e)] });
    ctx.progress.info(`${env}: resuming the rollout of ${r.rollout.target} at step ${r.rollout.nextStep}/${r.rollout.steps.length}`);
  }
  return new Run(ctx, e, r, opts).go();
}

function printPaused(ctx: Context, r: Release): void {
  const ro = r.rollout!;
  ctx.progress.info(`${r.environment}: the rollout of ${ro.target} waits at a manual pause after step ${ro.nextStep - 1}/${ro.steps.length}; the ALB serves ${formatWeights(weightsOf(r))}. Continue: 'envctl rollout ${r.environment} --continue'; stop: 'envctl abort ${r.environment}'`);
}

/** Smoke checks of the idle slot; a failure refuses the rollout (nothing has moved). */
async function smokeGate(ctx: Context, e: Environment, slot: Slot, version: string): Promise<void> {
  const checks = e.release.smoke.checks;
  if (checks.length === 0) return;
  const base = smokeBaseUrl(e);
  const results = await ctx.progress.step(`smoke checks of ${slot} (${version}) through ${base} with X-Release-Slot: ${slot}`, () => runSmokeChecks(base, slot, checks, ctx.smoke));
  for (const r of results) ctx.progress.info(`  ${describeSmoke(r)}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new GateStoppedError(e.name, `${e.name}: rollout refused: ${failed.length} of ${results.length} smoke checks of ${slot} (${version}) failed; no traffic was moved\n${failed.map((f) => `  ${describeSmoke(f)}`).join("\n")}`);
  }
}

class Run {
  private r: Release;
  private seq: number;
  private expected: Weights;
  private dims?: { loadBalancer: string; targetGroups: Record<Slot, string> };
  private readonly target: Slot;
  private readonly stable: Slot;
  private readonly a: Analysis;
  private readonly limits: Limits;
  private readonly resumed: boolean;

  constructor(private readonly ctx: Context, private readonly e: Environment, r: Release, private readonly opts: RolloutOptions) {
    this.r = r;
    this.seq = r.lastChange?.seq ?? 0;
    this.expected = weightsOf(r);
    this.target = r.rollout!.target;
    this.stable = r.live;
    this.a = e.release.analysis;
    this.limits = { minSuccessRatePercent: this.a.minSuccessRatePercent, maxLatencyP99Seconds: this.a.maxLatencyP99Seconds, maxErrorRateIncreasePoints: this.a.maxErrorRateIncreasePoints, minRequests: this.a.minRequests };
    this.resumed = r.rollout!.nextStep > 0 && isWeightStep(r.rollout!.steps[r.rollout!.nextStep - 1]!);
  }

  private get env(): string {
    return this.e.name;
  }

  async go(): Promise<Release> {
    try {
      if (this.resumed) {
        // The applied step was interrupted before its verdict: judge it again, from the start.
        const i = this.r.rollout!.nextStep - 1;
        await this.verifyApplied();
        await this.judgeStep(i, this.r.rollout!.steps[i] as { percent: number; bakeSeconds: number });
      }
      for (;;) {
        const ro = this.r.rollout!;
        if (ro.paused) {
          printPaused(this.ctx, this.r);
          return this.r;
        }
        if (ro.nextStep >= ro.steps.length) break;
        const i = ro.nextStep;
        const step = ro.steps[i]!;
        if ("percent" in step) {
          this.ctx.progress.info(`${this.env}: step ${i + 1}/${ro.steps.length}: ${this.target} → ${step.percent} %`);
          await this.applyWeightStep();
          await this.judgeStep(i, step);
        } else {
          await this.commitOnly((x) => core.advanceRollout(x, change(this.ctx)), step.pause === "manual" ? "paused" : "rollout-pause");
          if (typeof step.pause === "number") {
            this.ctx.progress.info(`${this.env}: step ${i + 1}/${ro.steps.length}: pause ${step.pause} s at ${formatWeights(this.expected)}, still analysing`);
            await this.bake(step.pause, i, this.expected[this.target], false);
          }
        }
      }
      if (this.a.postSwitchWatchSeconds > 0) {
        this.ctx.progress.info(`${this.env}: ${this.target} serves 100 %; post-switch watch for ${this.a.postSwitchWatchSeconds} s (the old slot ${this.stable} keeps its version)`);
        await this.judgeStep("watch", { percent: 100, bakeSeconds: this.a.postSwitchWatchSeconds });
      }
      this.r = await this.commitOnly((x) => core.completeRollout(x, change(this.ctx)), "rollout-complete");
      this.ctx.progress.info(`${this.env}: rollout complete: ${this.target} (${slotLabel(this.r.slots[this.target])}) is live; 'envctl rollback ${this.env}' returns to ${this.stable} (${slotLabel(this.r.slots[this.stable])})`);
      return this.r;
    } catch (err) {
      if (this.ctx.signal?.aborted && !(err instanceof GateStoppedError) && !(err instanceof SupersededError)) return this.interrupted();
      throw err;
    }
  }

  // ----------------------------------------------------------- file and deploys

  /** Refuses to go on when anyone else changed the release file since this rollout's last write. */
  private ensureMine(current: Release): void {
    if ((current.lastChange?.seq ?? 0) === this.seq) return;
    const c = current.lastChange;
    throw new SupersededError(this.env, `${this.env}: '${c?.command ?? "an edit"}'${c ? ` by ${c.by} at ${c.at}` : ""} changed the release file during the rollout; this rollout stopped without touching traffic (the file now says ${formatWeights(weightsOf(current))}${current.rollout ? `, rollout at step ${current.rollout.nextStep}/${current.rollout.steps.length}` : ", no rollout"})`);
  }

  private adopt(r: Release): Release {
    this.r = r;
    this.seq = r.lastChange?.seq ?? this.seq;
    this.expected = weightsOf(r);
    return r;
  }

  private commitOnly(transition: (r: Release) => Release, outcome: string, record: { analysis?: AnalysisRecord; note?: string } = {}): Promise<Release> {
    return locked(this.ctx, this.env, async () => {
      const current = loadRelease(this.ctx.project.root, this.env);
      this.ensureMine(current);
      return this.adopt(commit(this.ctx.project.root, current, transition(current), { change: change(this.ctx), outcome, ...record }));
    }, 300);
  }

  /** Writes the next weight step and deploys the traffic stack; a failed deploy rolls back. */
  private async applyWeightStep(): Promise<void> {
    try {
      await locked(this.ctx, this.env, async () => {
        const current = loadRelease(this.ctx.project.root, this.env);
        this.ensureMine(current);
        this.adopt(await applyTransition(this.ctx, this.env, [trafficStack(this.e)], (x) => core.advanceRollout(x, change(this.ctx)), "rollout-step"));
      }, 300);
    } catch (err) {
      if (!(err instanceof DeployFailedError) || this.ctx.signal?.aborted) throw err;
      await this.rollBack(`the deploy of the step failed: ${err.message.split("\n")[0]}`);
    }
    await this.verifyApplied();
  }

  /** The ALB must serve the weights this rollout applied. */
  private async verifyApplied(): Promise<void> {
    const live = await this.readAlb();
    if (!core.sameWeights(live, this.expected)) await this.rollBack(`the ALB serves ${formatWeights(live)} after the deploy, not the ${formatWeights(this.expected)} applied`);
  }

  // ------------------------------------------------------------------ reads

  private async readAlb(): Promise<Weights> {
    try {
      const rule = await withRetries(this.a.readAttempts, () => this.ctx.traffic(this.e).read(), this.ctx.clock, this.ctx.signal);
      this.dims ??= { loadBalancer: arnSuffix(rule.loadBalancerArn), targetGroups: { blue: arnSuffix(rule.targetGroupArns.blue), green: arnSuffix(rule.targetGroupArns.green) } };
      return rule.weights;
    } catch (err) {
      if (this.ctx.signal?.aborted) throw err;
      return this.rollBack(`could not read the ALB's weighted rule after ${this.a.readAttempts} attempts: ${describeAwsError(err)}`);
    }
  }

  /** Stops quietly when someone else moved traffic off the canary; fails closed when traffic moved onto it. */
  private async checkOwnership(): Promise<void> {
    this.ensureMine(loadRelease(this.ctx.project.root, this.env));
    const live = await this.readAlb();
    if (core.sameWeights(live, this.expected)) return;
    if (live[this.target] < this.expected[this.target]) {
      throw new SupersededError(this.env, `${this.env}: the ALB now serves ${formatWeights(live)}, not the ${formatWeights(this.expected)} this rollout set: traffic was moved off ${this.target} outside this rollout (envctl abort or rollback on another machine?). This rollout stopped without touching traffic; this machine's release file still shows the rollout: update it (git pull) or run 'envctl abort ${this.env}'`);
    }
    await this.rollBack(`the ALB serves ${formatWeights(live)}: more traffic on ${this.target} than the ${formatWeights(this.expected)} this rollout set, changed outside it`);
  }

  private async observe(windowStart: Date): Promise<Observation> {
    const now = this.ctx.clock.now();
    const end = new Date(Math.max(now.getTime(), windowStart.getTime() + 1000));
    const read = <T>(what: string, fn: () => Promise<T>) => withRetries(this.a.readAttempts, fn, this.ctx.clock, this.ctx.signal).catch((err) => {
      if (this.ctx.signal?.aborted) throw err;
      throw new ReadFailure(`could not read ${what} after ${this.a.readAttempts} attempts: ${describeAwsError(err)}`);
    });
    const [alarms, metrics] = await Promise.all([
      read("the CloudWatch alarms", () => this.ctx.alarms(this.e).read(slotAlarmNames(this.env, this.target))),
      read("the CloudWatch metrics", () => this.ctx.metrics(this.e).read({ ...this.dims!, start: windowStart, end, periodSeconds: this.a.metricPeriodSeconds })),
    ]);
    return { canary: this.target, stable: this.stable, windowStart, windowEnd: end, completePeriod: hasCompletePeriod(windowStart, now, this.a), metrics, alarms };
  }

  // ---------------------------------------------------------------- analysis

  /**
   * Analyses the current weights for `seconds`. Returns the final verdict (pass or inconclusive), or,
   * with `verdict` false (a timed pause), nothing; a failure rolls back at once (never returns).
   */
  private async bake(seconds: number, step: number | "watch", percent: number, verdict: boolean): Promise<{ status: "pass" | "inconclusive"; record: AnalysisRecord }> {
    const clock = this.ctx.clock;
    const started = clock.now();
    const windowStart = alignDown(started, this.a.metricPeriodSeconds);
    const deadline = started.getTime() + seconds * 1000;
    let polls = 0;
    for (;;) {
      const wait = Math.min(this.a.intervalSeconds * 1000, deadline - clock.now().getTime());
      if (wait > 0) await clock.sleep(wait, this.ctx.signal);
      polls++;
      await this.checkOwnership();
      const final = clock.now().getTime() >= deadline;
      let obs: Observation;
      try {
        obs = await this.observe(windowStart);
      } catch (err) {
        if (!(err instanceof ReadFailure)) throw err;
        const record = analysisRecord(null, { status: "fail", reasons: [err.message] }, this.limits, step, percent, polls);
        return this.rollBack(err.message, record);
      }
      const v = judge(obs, this.limits, final && verdict);
      const record = analysisRecord(obs, v.status === "pending" ? { status: "pass", reasons: [] } : v as { status: "pass" | "fail" | "inconclusive"; reasons: string[] }, this.limits, step, percent, polls);
      this.ctx.progress.info(`  poll ${polls}: ${pollLine(record)}`);
      if (v.status === "fail") return this.rollBack(v.reasons.join("; "), { ...record, verdict: "fail" });
      if (final) return { status: v.status === "inconclusive" ? "inconclusive" : "pass", record };
    }
  }

  /** Bakes a weight step (or the post-switch watch) until a verdict the policy lets pass. */
  private async judgeStep(i: number | "watch", step: { percent: number; bakeSeconds: number }): Promise<void> {
    const bake = i === "watch" ? step.bakeSeconds : (this.opts.bakeSeconds ?? step.bakeSeconds);
    for (;;) {
      const { status, record } = await this.bake(bake, i, step.percent, true);
      const { release, action } = core.onVerdict(this.r, { status, reasons: record.reasons }, this.a, change(this.ctx));
      if (action === "rollback") return this.rollBack(record.reasons.join("; "), record);
      await this.commitOnly(() => release, "analysis", { analysis: record });
      this.ctx.progress.info(`${this.env}: ${describeRecord(record)}`);
      if (action === "advance") return;
      this.ctx.progress.info(`${this.env}: inconclusive: baking ${i === "watch" ? "the watch" : `step ${i + 1}`} again (${release.rollout!.extensions}/${this.a.maxExtensions})`);
    }
  }

  // -------------------------------------------------------------- stopping

  /** Gate failure: traffic back to the stable slot first, then the file and the deploy; never returns. */
  private async rollBack(reason: string, record?: AnalysisRecord): Promise<never> {
    const weights = core.weightsFor(this.stable, 100);
    this.ctx.progress.info(`${this.env}: gate failed: ${reason}; returning all traffic to ${this.stable}`);
    await mitigate({ ...this.ctx, signal: undefined }, this.env, weights, `gate: ${reason}`, (x) => (x.rollout ? core.rollback(x, change(this.ctx)) : x), "rolled-back", { ...(record ? { analysis: record } : {}), note: reason });
    const version = this.r.slots[this.target].version;
    throw new GateStoppedError(this.env, [
      `${this.env}: rollout of ${this.target} (${version}) rolled back: ${reason}; all traffic is back on ${this.stable} (${this.r.slots[this.stable].version})`,
      ...(record ? [`  ${describeRecord(record)}`] : []),
    ].join("\n"));
  }

  private async interrupted(): Promise<never> {
    const signal = String((this.ctx.signal?.reason as Error | undefined)?.message ?? "a signal");
    if (this.opts.onInterrupt === "leave") {
      const r = loadRelease(this.ctx.project.root, this.env);
      throw new InterruptedError(this.env, `${this.env}: rollout interrupted by ${signal}; traffic left as it is (${formatWeights(weightsOf(r))}). Resume: 'envctl rollout ${this.env}' (re-judges the current step); stop: 'envctl abort ${this.env}'`);
    }
    const weights = core.weightsFor(this.stable, 100);
    await mitigate({ ...this.ctx, signal: undefined }, this.env, weights, `interrupted by ${signal}`, (x) => (x.rollout ? core.rollback(x, change(this.ctx)) : x), "rolled-back", { note: `interrupted by ${signal}` });
    throw new InterruptedError(this.env, `${this.env}: rollout interrupted by ${signal}; traffic returned to ${this.stable}: ${formatWeights(weights)}. Start again with 'envctl rollout ${this.env}'`);
  }
}

function pollLine(r: AnalysisRecord): string {
  const m = (x: AnalysisRecord["canary"]) => (x ? `${x.slot} ${x.requests} req, ${x.errors} 5xx${x.p99Seconds === null ? "" : `, p99 ${Number(x.p99Seconds.toFixed(3))} s`}` : "no data");
  const alarms = r.alarms.length === 0 ? "no alarms" : r.alarms.every((a) => a.state !== "ALARM") ? `${r.alarms.length} alarms OK` : r.alarms.filter((a) => a.state === "ALARM").map((a) => `${a.name} ALARM`).join(", ");
  return `${m(r.canary)} | ${m(r.stable)} | ${alarms}${r.verdict === "fail" ? ` | FAIL: ${r.reasons.join("; ")}` : ""}`;
}

/** A slot as a person reads it: its version, and the settings it runs when it carries any. */
function slotLabel(s: { readonly version: string | null; readonly settings?: { readonly checksum: string } }): string {
  return `${s.version ?? "empty"}${s.settings ? `, settings ${s.settings.checksum}` : ""}`;
}
