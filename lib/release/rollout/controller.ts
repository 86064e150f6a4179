/**
 * The rollout controller: the environment's canary of the idle slot, step by step, judged by
 * continuous analysis (lib/release/judge/analysis.ts), with the release core deciding on each verdict.
 * This file decides whether a run starts, continues from a manual pause or resumes; the run itself
 * is a sequence of reconcile steps over a typed context (lib/release/rollout/).
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
import type { Slot } from "../../core/primitives.ts";
import { calendarGate, rolloutDuration } from "../calendar.ts";
import { type Context, change, environment, locked } from "../command-context.ts";
import * as core from "../core.ts";
import { applyTransition, refusePending } from "../deploy-protocol.ts";
import { releaseDiff, showDryRun } from "../dry-run.ts";
import { emit } from "../emit.ts";
import { slotReadiness } from "../gates/readiness.ts";
import { schemaPlan } from "../gates/schema-migration.ts";
import { describeSmoke, runSmokeChecks, smokeBaseUrl } from "../gates/smoke.ts";
import { schemaGateForTraffic } from "../migrate.ts";
import { GateStoppedError, RefusedError } from "../model/errors.ts";
import { bakeProblems } from "../model/policy.ts";
import type { Release, RolloutStep } from "../model/release.ts";
import type { ReleaseEnvironment } from "../ports/index.ts";
import { trafficStack } from "../release-stacks.ts";
import { dryRunPlan, formatPlan, resumePlan, type StartPlan, startGate } from "./plan.ts";
import { type RolloutOptions, rolloutContext } from "./run-context.ts";
import { printPaused, reconcile } from "./steps.ts";

export type { RolloutOptions } from "./run-context.ts";

const describeSteps = (steps: readonly RolloutStep[], bake?: number) =>
  steps
    .map((s) =>
      "pause" in s
        ? s.pause === "manual"
          ? "pause (manual)"
          : `pause ${s.pause} s`
        : `${s.percent} % (bake ${bake ?? s.bakeSeconds} s)`,
    )
    .join(" → ");

export async function rollout(ctx: Context, env: string, opts: RolloutOptions = {}): Promise<Release> {
  const e = environment(ctx, env);
  const policy = e.release;
  if (opts.bakeSeconds !== undefined) {
    const problems = bakeProblems(policy.canary, policy.analysis, opts.bakeSeconds);
    if (problems.length > 0) throw new RefusedError(`${env}: --bake ${opts.bakeSeconds}: ${problems[0]!.message}`);
  }
  // The one start of a rollout: shown by a dry run, checked before the gates, applied under the lock.
  const start = (x: Release) => core.startRollout(x, policy.canary, change(ctx));
  let r = ctx.store.load(env);
  refusePending(r);
  if (r.maintenance && r.rollout && !ctx.options.dryRun) {
    throw new RefusedError(
      `${env} is in maintenance (since ${r.maintenance.since}, by ` +
        `${r.maintenance.by}): the rollout of ` +
        `${r.rollout.target} waits (step ` +
        `${r.rollout.nextStep}/${r.rollout.steps.length}); its analysis cannot judge a canary users ` +
        `do not reach. End maintenance first with 'envctl maintenance ${env} off'`,
    );
  }

  let plannedRequests = opts.plannedRequests;
  if (ctx.options.dryRun) {
    const started = r.rollout ? r : start(r);
    const ro = started.rollout!;
    const plan = opts.plan
      ? await dryRunPlan(ctx, e, { ...opts.plan, bakeSeconds: opts.bakeSeconds }, ro.steps)
      : undefined;
    if (plan && !ctx.dryRun) ctx.out("error" in plan ? plan.error : formatPlan(plan).join("\n"));
    showDryRun(ctx, {
      ...(plan ? { trafficPlan: plan } : {}),
      environment: env,
      diff: releaseDiff(env, r, started),
      deploy: [trafficStack(e)],
      proposed: started,
      summary:
        `would roll out ${ro.target} (${started.slots[ro.target].version}) in ` +
        `${env}: ${describeSteps(ro.steps.slice(ro.nextStep), opts.bakeSeconds)}${
          policy.analysis.postSwitchWatchSeconds ? ` → watch ${policy.analysis.postSwitchWatchSeconds} s` : ""
        }, deploying ${trafficStack(e)} at each step; ` +
        `${r.rollout ? "" : `smoke checks first (${policy.smoke.checks.length} against ${smokeBaseUrl(e)}); `}analysis ` +
        `every ${policy.analysis.intervalSeconds} s${schemaPlan(r, ro.target, opts.migrate === true)}`,
    });
    return r;
  }

  if (!r.rollout) {
    if (opts.continue) throw new RefusedError(`${env} has no rollout waiting at a pause`);
    const planned = start(r); // refuses early (no version, rollout running)
    const target = planned.rollout!.target;
    await calendarGate(ctx, e, `the rollout of ${target} (${r.slots[target].version})`, {
      seconds: rolloutDuration(e, planned.rollout!.steps, opts.bakeSeconds),
      stacks: [trafficStack(e)],
    });
    const gate: StartPlan = opts.plan ? await startGate(ctx, e, { ...opts.plan, bakeSeconds: opts.bakeSeconds }) : {};
    plannedRequests ??= gate.plannedRequests;
    await ctx.approve(e, {
      summary: `roll out ${target} (${r.slots[target].version}) in ${env}: ${describeSteps(planned.rollout!.steps, opts.bakeSeconds)}, each step analysed`,
      stacks: [trafficStack(e)],
    });
    await readinessGate(ctx, e, target, r.slots[target].version!);
    // The database's schema must suit both slots before traffic moves (an expand runs first with --migrate).
    r = await schemaGateForTraffic(ctx, e, r, target, opts.migrate === true);
    await smokeGate(ctx, e, target, r.slots[target].version!);
    r = await locked(ctx, env, () =>
      applyTransition(ctx, env, [], start, "rollout-started", gate.note ? { note: gate.note } : {}),
    );
    emit(ctx, env, "rollout-started", {
      reason: `rollout of ${target} (${r.slots[target].version}) started: ${describeSteps(r.rollout!.steps, opts.bakeSeconds)}`,
      release: r,
      evidence: gate.note ?? null,
    });
  } else if (r.rollout.paused) {
    if (!opts.continue) {
      printPaused(ctx.progress, r);
      return r;
    }
    const required = await goOnGates(ctx, e, r, opts, `continuing the rollout of ${r.rollout.target}`);
    plannedRequests ??= required;
    await ctx.approve(e, {
      summary: `continue the rollout of ${r.rollout.target} in ${env}: ${describeSteps(r.rollout.steps.slice(r.rollout.nextStep), opts.bakeSeconds)}`,
      stacks: [trafficStack(e)],
    });
    r = await locked(ctx, env, () => applyTransition(ctx, env, [], (x) => core.continueRollout(x), "continued"));
  } else {
    if (opts.continue)
      throw new RefusedError(
        `${env}: the rollout of ${r.rollout.target} is not paused (step ${r.rollout.nextStep}/${r.rollout.steps.length})`,
      );
    const required = await goOnGates(ctx, e, r, opts, `resuming the rollout of ${r.rollout.target}`);
    plannedRequests ??= required;
    await ctx.approve(e, {
      summary: `resume the rollout of ${r.rollout.target} in ${env} at step ${r.rollout.nextStep}/${r.rollout.steps.length}`,
      stacks: [trafficStack(e)],
    });
    ctx.progress.info(
      `${env}: resuming the rollout of ${r.rollout.target} at step ${r.rollout.nextStep}/${r.rollout.steps.length}`,
    );
  }
  return reconcile(rolloutContext(ctx, e, r, { ...opts, ...(plannedRequests ? { plannedRequests } : {}) }));
}

/**
 * What a rollout that goes on (from a manual pause, or resumed) passes first: the release calendar
 * for its remaining steps and the database's schema; then its traffic plan's requirements, if any.
 */
async function goOnGates(
  ctx: Context,
  e: ReleaseEnvironment,
  r: Release,
  opts: RolloutOptions,
  what: string,
): Promise<readonly number[] | undefined> {
  const ro = r.rollout!;
  const seconds = rolloutDuration(e, ro.steps.slice(ro.nextStep), opts.bakeSeconds);
  await calendarGate(ctx, e, what, { seconds, stacks: [trafficStack(e)] });
  await schemaGateForTraffic(ctx, e, r, ro.target);
  return opts.plan ? resumePlan(ctx, e, { ...opts.plan, bakeSeconds: opts.bakeSeconds }, ro.steps) : undefined;
}

/** EKS: the idle slot's Deployment must be Ready with its version before anything moves (lib/release/gates/readiness.ts). */
async function readinessGate(ctx: Context, e: ReleaseEnvironment, slot: Slot, version: string): Promise<void> {
  const workloads = ctx.workloads(e);
  if (!workloads) return;
  const reason = await ctx.progress.step(`readiness of ${slot} (${version}): its Deployment in the cluster`, () =>
    slotReadiness(workloads, slot, version),
  );
  if (reason)
    throw new GateStoppedError(
      e.name,
      `${e.name}: rollout refused: ${reason}; no traffic was moved. See 'envctl status ` +
        `${e.name} --live' and 'kubectl -n ` +
        `${e.name} describe deployment app-${slot}'; 'cdktf deploy ${e.name}-workloads' re-applies the slot as the release file says`,
    );
  ctx.progress.info(`  ✔ ${slot}: its Deployment runs ${version}, every pod Ready`);
}

/** Smoke checks of the idle slot; a failure refuses the rollout (nothing has moved). */
async function smokeGate(ctx: Context, e: ReleaseEnvironment, slot: Slot, version: string): Promise<void> {
  const checks = e.release.smoke.checks;
  if (checks.length === 0) return;
  const base = smokeBaseUrl(e);
  const results = await ctx.progress.step(
    `smoke checks of ${slot} (${version}) through ${base} with ${ctx.smoke.slotHeader}: ${slot}`,
    () => runSmokeChecks(base, slot, checks, ctx.smoke),
  );
  for (const r of results) ctx.progress.info(`  ${describeSmoke(r)}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new GateStoppedError(
      e.name,
      `${e.name}: rollout refused: ${failed.length} of ` +
        `${results.length} smoke checks of ${slot} (${version}) failed; no traffic was moved\n${failed.map((f) => `  ${describeSmoke(f)}`).join("\n")}`,
    );
  }
}
