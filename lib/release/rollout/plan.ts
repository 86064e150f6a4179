/**
 * The traffic plan of an environment's rollout, read through the ports: the request rate (`--rps`,
 * or the quietest hour of the load balancer's last 7 days among the hours of the day the rollout
 * may run in), the stable error rate (`--error-rate`, or the last 7 days'; never below the
 * policy's floor), and per canary weight step what lib/release/judge/traffic-plan.ts says of it.
 *
 * `envctl analysis plan` prints it; `envctl rollout` prints it first and refuses to start when a
 * step cannot reach a verdict ({@link startGate}), unless the evidence is observe-only for the
 * environment or `--ignore-plan` is given (the override is recorded with the `rollout-started`
 * change). Fail closed: without a readable history the plan is an error asking for `--rps`.
 */
import type { Context } from "../command-context.ts";
import { maxRatioFor } from "../judge/exposure.ts";
import {
  detectReachesFullPercent,
  historyErrorRatePercent,
  planSteps,
  quietestHour,
  rolloutSeconds,
  type StepPlan,
  windowHours,
  windowLabel,
} from "../judge/traffic-plan.ts";
import { describeCause, RefusedError } from "../model/errors.ts";
import { type CanaryStep, judgeSettings } from "../model/policy.ts";
import { arnSuffix, type HourlyTraffic, type ReleaseEnvironment } from "../ports/index.ts";
import { withRetries } from "../retry.ts";
import { formatPlan, requests, stepName, unreachableSteps, unreachableText } from "./plan-text.ts";

export { formatPlan, unreachableSteps, unreachableText } from "./plan-text.ts";

/** Days of history the plan reads. */
export const HISTORY_DAYS = 7;

/** What the plan is computed from, beyond the environment's policy. */
export interface PlanRequest {
  /** Requests per second of the load balancer (`--rps`); default: the quietest hour of the history in the rollout's window. */
  readonly rps?: number;
  /** The stable error rate, percent (`--error-rate`); default: the history's. */
  readonly errorRatePercent?: number;
  /** Replaces every step's bake (`envctl rollout --bake`). */
  readonly bakeSeconds?: number;
}

/** How a rollout treats its plan. */
export interface PlanOptions extends PlanRequest {
  /** Start even when a step cannot reach a verdict (`--ignore-plan`); the override is recorded. */
  readonly ignorePlan?: boolean;
}

/** One canary weight step's plan; `canaryStep` is its index in the environment's `release.canary`. */
export interface CanaryStepPlan extends StepPlan {
  readonly canaryStep: number;
}

export interface TrafficPlan {
  readonly environment: string;
  readonly rps: number;
  /** Where the rate comes from, in words. */
  readonly rpsSource: string;
  /** The stable error rate the plan assumes (never below the floor), percent. */
  readonly baseErrorRatePercent: number;
  readonly baseErrorRateSource: string;
  readonly steps: readonly CanaryStepPlan[];
  /** The judge's settings the plan is for, as the text names them. */
  readonly detect: number;
  readonly powerPercent: number;
  readonly falseRollbackPercent: number;
  /** Probability that a `detect` regression reaches 100 %, percent (null: no step below 100 %). */
  readonly detectReachesFullPercent: number | null;
  /** False when the evidence is observe-only (`analysis.enforce.evidence: false`). */
  readonly evidenceEnforced: boolean;
}

export type PlanPorts = Pick<Context, "traffic" | "trafficHistory" | "clock">;

const round = (x: number) => Number(x.toPrecision(3));
const pct = (x: number) => `${round(x)} %`;

/** The load balancer's last {@link HISTORY_DAYS} days per hour (reads retried as the rollout's are); throws with the cause. */
export async function readHistory(ctx: PlanPorts, e: ReleaseEnvironment): Promise<readonly HourlyTraffic[]> {
  const attempts = e.release.analysis.readAttempts;
  const rule = await withRetries(attempts, () => ctx.traffic(e).read(), ctx.clock);
  const end = ctx.clock.now();
  const q = {
    loadBalancer: arnSuffix(rule.loadBalancerArn),
    start: new Date(end.getTime() - HISTORY_DAYS * 86_400_000),
    end,
  };
  return withRetries(attempts, () => ctx.trafficHistory(e).read(q), ctx.clock);
}

/** The traffic cannot be known: the plan fails closed, asking for `--rps`. */
export class NoTrafficPlan extends RefusedError {
  constructor(
    readonly env: string,
    readonly reason: string,
  ) {
    super(
      `${env}: no traffic plan: ${reason}; pass --rps <requests per second> (and --error-rate <percent>) to plan with a rate you know`,
    );
  }
}

/** A canary step as the policy and a running rollout hold it. */
type Step = { readonly percent: number; readonly bakeSeconds: number } | { readonly pause: "manual" | number };

/**
 * The plan of `e`'s rollout of `steps` (default: the policy's canary) starting now; a
 * {@link NoTrafficPlan} (asking for `--rps`) when the traffic cannot be known.
 */
export async function trafficPlan(
  ctx: PlanPorts,
  e: ReleaseEnvironment,
  req: PlanRequest,
  steps: readonly Step[] = e.release.canary,
): Promise<TrafficPlan> {
  const a = e.release.analysis;
  let history: readonly HourlyTraffic[] | null = null;
  let unread: string | null = null;
  if (req.rps === undefined || req.errorRatePercent === undefined) {
    try {
      history = await readHistory(ctx, e);
    } catch (err) {
      unread = describeCause(err);
    }
  }
  let rps: number;
  let rpsSource: string;
  if (req.rps !== undefined) {
    rps = req.rps;
    rpsSource = `--rps ${req.rps}`;
  } else {
    if (unread !== null)
      throw new NoTrafficPlan(e.name, `could not read the load balancer's request history from CloudWatch (${unread})`);
    const now = ctx.clock.now();
    const seconds = rolloutSeconds(steps, req.bakeSeconds) + a.postSwitchWatchSeconds;
    const label = windowLabel(now, seconds);
    const quiet = quietestHour(history!, windowHours(now, seconds), now);
    if (!quiet)
      throw new NoTrafficPlan(
        e.name,
        history!.length === 0
          ? `CloudWatch holds no RequestCount of its load balancer in the last ${HISTORY_DAYS} days`
          : `the last ${HISTORY_DAYS} days hold no whole hour in the ${label} window`,
      );
    rps = quiet.rps;
    rpsSource =
      `quietest hour of the last ` +
      `${HISTORY_DAYS} days in the ${label} window (${quiet.start.toISOString().slice(0, 13)}:00 UTC): ${round(rps)} requests/s`;
  }
  const floor = a.errorRateFloorPercent;
  let measured: number | null;
  let measuredSource: string;
  if (req.errorRatePercent !== undefined) {
    measured = req.errorRatePercent;
    measuredSource = `--error-rate ${req.errorRatePercent}`;
  } else if (unread !== null) {
    measured = null;
    measuredSource = `CloudWatch could not be read (${unread})`;
  } else {
    measured = historyErrorRatePercent(history!);
    measuredSource =
      measured === null
        ? `no requests in the last ${HISTORY_DAYS} days`
        : `target 5xx of the last ${HISTORY_DAYS} days: ${pct(measured)}`;
  }
  const base = Math.max(floor, measured ?? 0);
  const baseErrorRateSource =
    measured !== null && measured >= floor
      ? measuredSource
      : `the floor errorRateFloorPercent ${floor} % (${measuredSource})`;
  const weightSteps = steps.map((s, i) => ({ s, i })).filter((x) => "percent" in x.s) as {
    s: { percent: number; bakeSeconds: number };
    i: number;
  }[];
  const plans = planSteps({
    rps,
    baseErrorRatePercent: base,
    settings: judgeSettings(a),
    publishDelaySeconds: a.publishDelaySeconds,
    intervalSeconds: a.intervalSeconds,
    steps: weightSteps.map(({ s, i }) => ({
      percent: s.percent,
      bakeSeconds: req.bakeSeconds ?? s.bakeSeconds,
      maxRatio: maxRatioFor(steps as CanaryStep[], i, a),
    })),
  });
  return {
    environment: e.name,
    rps,
    rpsSource,
    baseErrorRatePercent: base,
    baseErrorRateSource,
    steps: plans.map((p, k) => ({ ...p, canaryStep: weightSteps[k]!.i })),
    detect: a.detect,
    powerPercent: a.powerPercent,
    falseRollbackPercent: a.falseRollbackPercent,
    detectReachesFullPercent: detectReachesFullPercent(plans),
    evidenceEnforced: a.enforce.evidence,
  };
}

/** Canary requests a healthy canary needs per canary step index (0 for pauses), as the plan expects them. */
export function plannedRequestsOf(p: TrafficPlan, canarySteps: number): number[] {
  const planned = Array.from({ length: canarySteps }, () => 0);
  // A requirement no traffic can meet is left to the judge's own (it says why the step is inconclusive).
  for (const s of p.steps) planned[s.canaryStep] = Number.isFinite(s.requiredRequests) ? s.requiredRequests : 0;
  return planned;
}

/** What a rollout's start does with the plan: the requests it requires, and the note for the `rollout-started` record. */
export interface StartPlan {
  readonly plannedRequests?: readonly number[];
  readonly note?: string;
}

/**
 * At the start of a rollout: prints the plan and refuses (nothing written) when a step cannot reach
 * a verdict, unless the evidence is observe-only or `ignorePlan`; then the note says it started
 * against the plan. Without readable traffic, refuses too (asking for `--rps`) under the same exceptions.
 */
export async function startGate(ctx: Context, e: ReleaseEnvironment, o: PlanOptions): Promise<StartPlan> {
  const observeOnly = !e.release.analysis.enforce.evidence;
  const why = o.ignorePlan ? "--ignore-plan" : "evidence observe-only";
  let plan: TrafficPlan;
  try {
    plan = await trafficPlan(ctx, e, o);
  } catch (err) {
    if (!(err instanceof NoTrafficPlan) || (!o.ignorePlan && !observeOnly)) throw err;
    ctx.progress.info(`${e.name}: no traffic plan: ${err.reason}; going on without one (${why})`);
    return { note: `started without a traffic plan: ${err.reason} (${why})` };
  }
  for (const line of formatPlan(plan)) ctx.progress.info(line);
  const plannedRequests = plannedRequestsOf(plan, e.release.canary.length);
  if (unreachableSteps(plan).length === 0) return { plannedRequests };
  if (!o.ignorePlan && !observeOnly) {
    const detail = unreachableSteps(plan).map(
      (s) =>
        `  ${stepName(s)}: expects ${s.expectedCanaryRequests} canary requests in its ` +
        `${s.bakeSeconds} s bake, a pass needs ${requests(s.requiredRequests)}; fix: ${s.fix}`,
    );
    throw new RefusedError(
      [
        `${e.name}: rollout refused by its traffic plan: ${unreachableText(plan)} (${plan.rpsSource}); nothing was changed`,
        ...detail,
        `  start anyway with --ignore-plan (recorded in the history), or make the evidence ` +
          `observe-only for ${e.name} (release.analysis.enforce: { evidence: false })`,
      ].join("\n"),
    );
  }
  ctx.progress.info(
    `${e.name}: ${unreachableText(plan)}; starting anyway ` +
      `(${why}${observeOnly ? ": an inconclusive step passes, noted in its analysis" : ": recorded in the history"})`,
  );
  return { plannedRequests, note: `started against the traffic plan: ${unreachableText(plan)} (${why})` };
}

/** Continuing or resuming the rollout of `steps`: the plan's requirements when it can be computed, never a refusal. */
export async function resumePlan(
  ctx: Context,
  e: ReleaseEnvironment,
  o: PlanOptions,
  steps: readonly Step[],
): Promise<readonly number[] | undefined> {
  try {
    const plan = await trafficPlan(ctx, e, o, steps);
    for (const line of formatPlan(plan)) ctx.progress.info(line);
    return plannedRequestsOf(plan, steps.length);
  } catch (err) {
    if (!(err instanceof NoTrafficPlan)) throw err;
    ctx.progress.info(
      `${e.name}: no traffic plan: ${err.reason}; the steps are judged without planned requests (pass --rps to plan)`,
    );
    return undefined;
  }
}

/** A dry run's plan, or why there is none. */
export async function dryRunPlan(
  ctx: Context,
  e: ReleaseEnvironment,
  o: PlanOptions,
  steps: readonly Step[],
): Promise<TrafficPlan | { readonly error: string }> {
  try {
    return await trafficPlan(ctx, e, o, steps);
  } catch (err) {
    if (!(err instanceof NoTrafficPlan)) throw err;
    return { error: err.message };
  }
}
