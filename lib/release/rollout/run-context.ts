/**
 * The typed context of one rollout run (Argo Rollouts' reconcile context): the command's context,
 * the environment, which slot is the canary and which the stable one, the analysis policy, and the
 * run's state (the release as this run last wrote it, its record number, the weights it expects the
 * ALB to serve). The reconcile steps (./steps.ts) read and advance it; here are the writes every
 * step shares, and the two ways a run stops early (the gate's rollback, an interruption).
 */
import type { Slot } from "../../core/primitives.ts";
import { type Context, change, locked } from "../command-context.ts";
import * as core from "../core.ts";
import { formatWeights } from "../dry-run.ts";
import type { StepAnalysis } from "../judge/analysis.ts";
import { describeRecord } from "../judge/record.ts";
import type { JudgeSettings } from "../judge/sequential.ts";
import { mitigate } from "../mitigation.ts";
import { GateStoppedError, InterruptedError, SupersededError } from "../model/errors.ts";
import { type Analysis, isWeightStep, judgeSettings } from "../model/policy.ts";
import type { AnalysisRecord } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import { type Weights, weightsOf } from "../model/slots.ts";
import type { ReleaseEnvironment } from "../ports/index.ts";
import type { PlanOptions } from "./plan.ts";

export interface RolloutOptions {
  /** Overrides every step's bake, seconds (checked against the analysis window). */
  readonly bakeSeconds?: number;
  /** Go on from a manual pause. */
  readonly continue?: boolean;
  /** On SIGINT/SIGTERM: return the traffic to the stable slot (default) or leave it where it is. */
  readonly onInterrupt?: "rollback" | "leave";
  /**
   * Canary requests the traffic plan expects a healthy canary to need per canary step (by index;
   * lib/release/judge/traffic-plan.ts), for information: the judge passes a step on its upper bounds. @default none
   */
  readonly plannedRequests?: readonly number[];
  /**
   * The traffic plan's inputs (lib/release/rollout/plan.ts): with them the controller prints the plan
   * first, refuses a start whose step cannot reach a verdict (unless the evidence is observe-only or
   * `ignorePlan`, then the `rollout-started` record notes it), and takes `plannedRequests` from it.
   * @default no plan
   */
  readonly plan?: PlanOptions;
  /**
   * Run a missing expand migration (the canary's `schema.requires`, when the stable slot runs on it
   * too) before any traffic moves (lib/release/migrate.ts). @default false: refused instead
   */
  readonly migrate?: boolean;
}

/** What this run last wrote and expects. */
export interface RolloutState {
  /** The release file as this run last wrote (or read) it. */
  release: Release;
  /** The `seq` of that write: a file with another one was changed by someone else. */
  seq: number;
  /** The weights this run applied: the ALB must serve them. */
  expected: Weights;
  /** The CloudWatch dimensions of the ALB and the slots' target groups, once read. */
  dimensions?: { loadBalancer: string; targetGroups: Record<Slot, string> };
  /** The judge's analysis so far: its evidence carries from step to step and into the watch. */
  judge?: StepAnalysis;
}

export interface RolloutContext {
  readonly ctx: Context;
  readonly environment: ReleaseEnvironment;
  /** The environment's name. */
  readonly env: string;
  /** The slot being rolled out (the idle one). */
  readonly canary: Slot;
  /** The live slot, which keeps serving the rest. */
  readonly stable: Slot;
  readonly analysis: Analysis;
  /** The sequential judge's settings, from the analysis policy. */
  readonly judge: JudgeSettings;
  /** The policy's numbers, as each analysis record keeps them. */
  readonly limits: Record<string, number>;
  readonly options: RolloutOptions;
  /** The last applied step is a weight step without its verdict (the run was interrupted while it baked). */
  readonly resumed: boolean;
  readonly state: RolloutState;
}

export function rolloutContext(
  ctx: Context,
  environment: ReleaseEnvironment,
  release: Release,
  options: RolloutOptions,
): RolloutContext {
  const ro = release.rollout!;
  const a = environment.release.analysis;
  return {
    ctx,
    environment,
    env: environment.name,
    canary: ro.target,
    stable: release.live,
    analysis: a,
    judge: judgeSettings(a),
    limits: {
      falseRollbackPercent: a.falseRollbackPercent,
      detect: a.detect,
      powerPercent: a.powerPercent,
      minSuccessRatePercent: a.minSuccessRatePercent,
      maxLatencyP99Seconds: a.maxLatencyP99Seconds,
      errorRateFloorPercent: a.errorRateFloorPercent,
      intervalSeconds: a.intervalSeconds,
      publishDelaySeconds: a.publishDelaySeconds,
    },
    options,
    resumed: ro.nextStep > 0 && isWeightStep(ro.steps[ro.nextStep - 1]!),
    state: { release, seq: release.lastChange?.seq ?? 0, expected: weightsOf(release) },
  };
}

// ----------------------------------------------------------- file and deploys

/** Refuses to go on when anyone else changed the release file since this rollout's last write. */
export function ensureMine(rc: RolloutContext, current: Release): void {
  if ((current.lastChange?.seq ?? 0) === rc.state.seq) return;
  const c = current.lastChange;
  throw new SupersededError(
    rc.env,
    `${rc.env}: '${c?.command ?? "an edit"}'${c ? ` by ${c.by} at ${c.at}` : ""} changed the release ` +
      `file during the rollout; this rollout stopped without touching traffic (the file now says ` +
      `${formatWeights(weightsOf(current))}${
        current.rollout
          ? `, rollout at step ${current.rollout.nextStep}/${current.rollout.steps.length}`
          : ", no rollout"
      })`,
  );
}

/** Takes `r` as what this run wrote last. */
export function adopt(rc: RolloutContext, r: Release): Release {
  rc.state.release = r;
  rc.state.seq = r.lastChange?.seq ?? rc.state.seq;
  rc.state.expected = weightsOf(r);
  return r;
}

/** A change of the file alone (no deploy), refused when someone else changed it meanwhile. */
export function commitOnly(
  rc: RolloutContext,
  transition: (r: Release) => Release,
  outcome: string,
  record: { analysis?: AnalysisRecord; note?: string } = {},
): Promise<Release> {
  const { ctx, env } = rc;
  return locked(
    ctx,
    env,
    async () => {
      const current = ctx.store.load(env);
      ensureMine(rc, current);
      return adopt(rc, ctx.store.commit(current, transition(current), { change: change(ctx), outcome, ...record }));
    },
    300,
  );
}

// -------------------------------------------------------------- stopping

/** Gate failure: traffic back to the stable slot first, then the file and the deploy; never returns. */
export async function rollBack(rc: RolloutContext, reason: string, record?: AnalysisRecord): Promise<never> {
  const { ctx, env } = rc;
  const weights = core.weightsFor(rc.stable, 100);
  ctx.progress.info(`${env}: gate failed: ${reason}; returning all traffic to ${rc.stable}`);
  await mitigate(
    { ...ctx, signal: undefined },
    env,
    weights,
    `gate: ${reason}`,
    (x) => (x.rollout ? core.rollback(x) : x),
    "rolled-back",
    { ...(record ? { analysis: record } : {}), note: reason },
    { event: "gate-failed", evidence: record ? describeRecord(record) : null },
  );
  const r = rc.state.release;
  throw new GateStoppedError(
    env,
    [
      `${env}: rollout of ${rc.canary} (${r.slots[rc.canary].version}) rolled back: ` +
        `${reason}; all traffic is back on ${rc.stable} (${r.slots[rc.stable].version})`,
      ...(record ? [`  ${describeRecord(record)}`] : []),
    ].join("\n"),
  );
}

/** A signal stopped the run: traffic back to the stable slot, or left with `--on-interrupt leave`; never returns. */
export async function interrupted(rc: RolloutContext): Promise<never> {
  const { ctx, env } = rc;
  const signal = String((ctx.signal?.reason as Error | undefined)?.message ?? "a signal");
  if (rc.options.onInterrupt === "leave") {
    const r = ctx.store.load(env);
    throw new InterruptedError(
      env,
      `${env}: rollout interrupted by ${signal}; traffic left as it is ` +
        `(${formatWeights(weightsOf(r))}). Resume: 'envctl rollout ${env}' (re-judges the current step); stop: 'envctl abort ${env}'`,
    );
  }
  const weights = core.weightsFor(rc.stable, 100);
  await mitigate(
    { ...ctx, signal: undefined },
    env,
    weights,
    `interrupted by ${signal}`,
    (x) => (x.rollout ? core.rollback(x) : x),
    "rolled-back",
    { note: `interrupted by ${signal}` },
  );
  throw new InterruptedError(
    env,
    `${env}: rollout interrupted by ${signal}; traffic returned to ${rc.stable}: ${formatWeights(weights)}. Start again with 'envctl rollout ${env}'`,
  );
}
