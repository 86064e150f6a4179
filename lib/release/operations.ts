/**
 * Release operations: the pure core wired to files, locks, the deploy runner, the ALB and snapshots.
 * The CLI is a thin shell over these; the canary itself is lib/release/controller.ts.
 *
 * Deploy protocol (no drift between file and cloud): the new state is written with a `pending`
 * marker naming the stacks being deployed; only after the deploy succeeds is the marker cleared.
 * A failed or interrupted deploy leaves the marker; later commands refuse until `envctl reconcile`
 * re-deploys the file (or `--revert` restores and deploys the previous state). Every write carries
 * its history record (lib/release/store.ts).
 *
 * Fast mitigation (rollback, abort, a failed gate, an interrupted rollout): the weights are first
 * written to the listener rule directly (one API call: traffic moves within a second or two), then
 * the release file is changed and the traffic stack deployed, whose plan then finds nothing to change.
 */
import { createTwoFilesPatch } from "diff";
import { estimateMonthlyCost } from "../config/cost-estimate.ts";
import { PRICES_AS_OF } from "../cost/prices.ts";
import type { LoadedEnvironment, Project } from "../config/load.ts";
import { weightsOf, type Release, type SlotSettings, type Weights } from "../config/release.ts";
import type { Environment } from "../config/schema.ts";
import type { Deployer } from "../deploy/runner.ts";
import type { Progress } from "../cli/progress.ts";
import { describeAwsError } from "../aws/clients.ts";
import type { MetricsReader } from "../aws/metrics.ts";
import type { TrafficApi } from "../aws/traffic.ts";
import * as core from "./core.ts";
import type { AlarmReader } from "./gate.ts";
import { refuseMissingSettings } from "../settings/release.ts";
import { snapshotIdFor, type Snapshotter } from "./snapshot.ts";
import type { SmokeDeps } from "./smoke.ts";
import { stacksForPromotion, trafficStack } from "./stacks.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { commit, loadRelease, releaseText, withLock, type RecordInput } from "./store.ts";

export interface Options {
  /** Deploy after editing (false: only edit the file, the pipeline deploys). */
  readonly deploy: boolean;
  /** Show the release-file diff and the stacks that would deploy; change nothing. */
  readonly dryRun: boolean;
  /** Seconds to wait for another envctl holding the environment's lock. */
  readonly waitSeconds: number;
}

export interface Clock {
  now(): Date;
  /** Waits `ms`; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface Context {
  readonly project: Project;
  readonly deployer: Deployer;
  readonly traffic: (env: Environment) => TrafficApi;
  readonly metrics: (env: Environment) => MetricsReader;
  readonly alarms: (env: Environment) => AlarmReader;
  readonly snapshots: (env: Environment) => Snapshotter;
  readonly smoke: SmokeDeps;
  /** The application settings a slot staged into `env` now would carry. */
  readonly settings: (env: Environment) => SlotSettings | null;
  readonly progress: Progress;
  readonly actor: string;
  readonly clock: Clock;
  /** Where human-readable results go (stdout). */
  readonly out: (text: string) => void;
  /** Receives what a --dry-run would do instead of `out` (the CLI's --json); default: printed to `out`. */
  readonly dryRun?: (plan: DryRunPlan) => void;
  readonly options: Options;
  /** The command line, for the audit history. */
  readonly command: string;
  /** Asks for approval before a production change (shows what changes); throws to cancel. */
  readonly approve: (env: Environment, what: Approval) => Promise<void>;
  /** Aborts when the process is asked to stop (SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
}

/** What a person approves: a summary, the release-file diff and the stacks that will deploy. */
export interface Approval {
  readonly summary: string;
  readonly diff?: string;
  readonly stacks: readonly string[];
}

/** Exit codes of envctl (the review commands add 2 and 6). */
export const EXIT = { ok: 0, invalid: 1, drift: 2, gateStopped: 3, deployFailed: 4, locked: 5, superseded: 7, interrupted: 8 } as const;

/** A rollout ended other than by completing; the subclass says how (and sets the exit code). */
export class RolloutStopped extends Error {
  constructor(readonly env: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The gate stopped a rollout (failed or inconclusive analysis, failed smoke checks): traffic is on the stable slot. */
export class GateStoppedError extends RolloutStopped {}

/** Another command (here or on another machine) changed the environment during a rollout; this one stopped without touching traffic. */
export class SupersededError extends RolloutStopped {}

/** The rollout was interrupted by a signal. */
export class InterruptedError extends RolloutStopped {}

/** A deploy failed; the release file keeps a pending marker. */
export class DeployFailedError extends Error {
  constructor(readonly env: string, cause: Error) {
    super(`${cause.message}\n${env}: the release file is marked pending; run 'envctl reconcile ${env}' to retry, or 'envctl reconcile ${env} --revert' to restore and redeploy the previous state`);
    this.name = "DeployFailedError";
  }
}

export function environment(ctx: Context, name: string): LoadedEnvironment {
  const e = ctx.project.environments.find((x) => x.config.name === name);
  if (!e) {
    throw new core.RefusedError(unknownEnvironmentMessage(name, ctx.project.environments.map((x) => x.config.name)));
  }
  return e;
}

export const change = (ctx: Context): core.Change => ({ by: ctx.actor, at: ctx.clock.now().toISOString(), command: ctx.command });

function refusePending(r: Release): void {
  if (r.pending) {
    throw new core.RefusedError(`${r.environment}: the deploy of ${r.pending.stacks.join(", ")} by '${r.pending.command}' (since ${r.pending.since}) did not finish; run 'envctl reconcile ${r.environment}' first`);
  }
}

/** What a --dry-run would do: the release-file diff and what it would deploy or write. */
export interface DryRunPlan {
  readonly environment: string;
  /** Unified diff of the release file (current → proposed). */
  readonly diff: string;
  /** Stacks it would deploy. */
  readonly deploy: readonly string[];
  readonly proposed: Release;
  /** In words: what it would do (the text a dry run prints after the diff). */
  readonly summary: string;
}

/** A dry run's result: to the `dryRun` receiver when there is one (--json), else printed. */
export function showDryRun(ctx: Context, plan: DryRunPlan): void {
  if (ctx.dryRun) ctx.dryRun(plan);
  else {
    if (plan.diff) ctx.out(plan.diff);
    ctx.out(plan.summary);
  }
}

export function releaseDiff(env: string, before: Release, after: Release, labels: [string, string] = ["current", "proposed"]): string {
  const file = `environments/releases/${env}.json`;
  return createTwoFilesPatch(file, file, releaseText(before), releaseText(after), labels[0], labels[1]);
}

/** Weights as the messages show them: `blue 90 / green 10`. */
export function formatWeights(w: Weights): string {
  return `blue ${w.blue} / green ${w.green}`;
}

/** Runs `fn` under the environment's lock, named after the command for whoever waits on it. */
export function locked<T>(ctx: Context, env: string, fn: () => Promise<T>, waitSeconds = ctx.options.waitSeconds): Promise<T> {
  return withLock(ctx.project.root, env, waitSeconds, fn, ctx.command);
}

/**
 * Applies one transition to an environment's release file and deploys `stacks`. Must run under the
 * environment's lock. A transition that changes nothing writes nothing and deploys nothing.
 * Returns the new state (the old one on --dry-run or no change).
 */
export async function applyTransition(ctx: Context, env: string, stacks: readonly string[], transition: (r: Release) => Release, outcome = "deployed", record: Omit<RecordInput, "change" | "outcome"> = {}): Promise<Release> {
  const root = ctx.project.root;
  const before = loadRelease(root, env);
  refusePending(before);
  const after = transition(before);
  const deploying = ctx.options.deploy && stacks.length > 0;
  if (core.sameState(before, after)) {
    // The file already says so; a traffic change may still be waiting for its deploy (--no-deploy earlier).
    const e = environment(ctx, env).config;
    const observed = deploying && !ctx.options.dryRun && stacks.includes(trafficStack(e)) ? await observedWeights(ctx, e) : undefined;
    if (observed === undefined || core.sameWeights(observed, weightsOf(before))) {
      ctx.progress.info(`${env}: nothing to change`);
      return before;
    }
    ctx.progress.info(`${env}: the release file already says ${formatWeights(weightsOf(before))}, but the ALB serves ${formatWeights(observed)}: deploying ${stacks.join(" ")}`);
    await ctx.approve(e, { summary: `${ctx.command}: deploy the release file's ${formatWeights(weightsOf(before))} (the ALB serves ${formatWeights(observed)})`, stacks });
    return deployCommitted(ctx, env, before, after, stacks, outcome, { note: `the ALB served ${formatWeights(observed)}` });
  }
  if (ctx.options.dryRun) {
    showDryRun(ctx, { environment: env, diff: releaseDiff(env, before, after), deploy: deploying ? [...stacks] : [], proposed: after, summary: deploying ? `would deploy: ${stacks.join(" ")}` : "would deploy: nothing (--no-deploy)" });
    return before;
  }
  if (deploying) await ctx.approve(environment(ctx, env).config, { summary: ctx.command, diff: releaseDiff(env, before, after), stacks });
  if (!deploying) return commit(root, before, after, { change: change(ctx), outcome: stacks.length === 0 ? outcome : "edited", ...record });
  return deployCommitted(ctx, env, before, after, stacks, outcome, record);
}

/** Writes `after` with a pending marker, deploys, then clears the marker; each write recorded. */
async function deployCommitted(ctx: Context, env: string, before: Release, after: Release, stacks: readonly string[], outcome: string, record: Omit<RecordInput, "change" | "outcome"> = {}): Promise<Release> {
  const root = ctx.project.root;
  const pending = commit(root, before, { ...after, pending: { stacks: [...stacks], command: ctx.command, since: ctx.clock.now().toISOString(), previous: { ...before, pending: null } } }, { change: change(ctx), outcome: "deploying", ...(record.note ? { note: record.note } : {}) });
  try {
    await ctx.progress.step(`deploy ${stacks.join(" ")}`, (log) => ctx.deployer.deploy(stacks, log));
  } catch (err) {
    // The evidence of the decision stays in the history even when its deploy fails.
    commit(root, pending, pending, { change: change(ctx), outcome: "deploy-failed", from: before, ...(record.analysis ? { analysis: record.analysis } : {}), note: (err as Error).message });
    throw new DeployFailedError(env, err as Error);
  }
  return commit(root, pending, { ...after, pending: null }, { change: change(ctx), outcome, from: before, ...record });
}

// ---------------------------------------------------------------- commands

/** The candidate a promotion or a stage puts into `target`'s idle slot. */
function candidate(ctx: Context, target: LoadedEnvironment, v: { version: string; digest?: string }): core.Candidate {
  return { ...v, settings: ctx.settings(target.config) };
}

export async function promote(ctx: Context, from: string, to: string, opts: { version?: string; snapshot?: boolean; rollback?: boolean }): Promise<Release> {
  const source = environment(ctx, from);
  const target = environment(ctx, to);
  const graph = source.config.release;
  if (graph.rollbackTo.includes(to)) {
    if (!opts.rollback) throw new core.RefusedError(`${from} → ${to} is a rollback path only: pass --rollback to promote ${from}'s version back into ${to}`);
  } else if (!graph.promotesTo.includes(to)) {
    const allowed = graph.promotesTo.length ? graph.promotesTo.join(", ") : "nothing";
    throw new core.RefusedError(`${from} → ${to} is not on the promotion graph (${from} promotes into ${allowed})`);
  }
  const sourceRelease = loadRelease(ctx.project.root, from);
  const promoted = core.versionToPromote(sourceRelease, opts.version);
  // The target must define every key the source runs the version with, and every key its tier requires.
  refuseMissingSettings(source.config, sourceRelease, target.config, promoted.version);
  const c = candidate(ctx, target, promoted);
  return locked(ctx, to, async () => {
    const current = loadRelease(ctx.project.root, to);
    refusePending(current);
    const next = core.promote(current, c, change(ctx)); // refuse early, before any snapshot
    if (core.sameState(current, next)) {
      ctx.progress.info(`${to}: nothing to change (the idle slot already holds ${c.version})`);
      return current;
    }
    const wantsSnapshot = opts.snapshot ?? target.config.release.snapshotBeforePromote;
    if (wantsSnapshot && ctx.options.deploy && !ctx.options.dryRun) {
      await ctx.approve(target.config, { summary: `${ctx.command}: snapshot the database, then deploy ${c.version} into the idle slot`, diff: releaseDiff(to, current, next), stacks: stacksForPromotion(target.config) });
      await takeSnapshot(ctx, target.config, "pre-promote");
    } else if (wantsSnapshot) {
      ctx.progress.info(`note: ${to} takes a database snapshot before promotion; the pipeline deploying this change takes it ('envctl snapshot ${to}')`);
    }
    return applyTransition(ctx, to, stacksForPromotion(target.config), (r) => core.promote(r, c, change(ctx)));
  });
}

/** Snapshots the environment's database and waits until it is available. */
export async function takeSnapshot(ctx: Context, env: Environment, reason = "pre-promote"): Promise<string> {
  const id = snapshotIdFor(env.name, ctx.clock.now(), reason);
  return ctx.progress.step(`snapshot ${env.name}-postgres as ${id}`, () => ctx.snapshots(env).snapshot(`${env.name}-postgres`, id));
}

/**
 * A freshly built version (or a settings change) enters the promotion graph at a root (an
 * environment nothing promotes into, e.g. dev): it goes into the idle slot at weight 0.
 * `settingsOnly` stages the live version again with the environment's current settings.
 */
export async function stage(ctx: Context, env: string, opts: { version?: string; digest?: string }): Promise<Release> {
  const target = environment(ctx, env);
  const feeders = ctx.project.environments.filter((e) => e.config.release.promotesTo.includes(env)).map((e) => e.config.name);
  const current = loadRelease(ctx.project.root, env);
  const version = opts.version ?? current.slots[current.live].version!;
  if (opts.version !== undefined && feeders.length > 0) throw new core.RefusedError(`${env} receives versions by promotion from ${feeders.join(", ")}: use 'envctl promote ${feeders[0]} ${env}' (a settings change alone may be staged with 'envctl stage ${env}')`);
  const digest = opts.digest ?? (opts.version === undefined ? current.slots[current.live].digest : undefined);
  const c = candidate(ctx, target, { version, ...(digest ? { digest } : {}) });
  return locked(ctx, env, () => applyTransition(ctx, env, stacksForPromotion(target.config), (r) => core.promote(r, c, change(ctx))));
}

export async function shift(ctx: Context, env: string, slot: "blue" | "green", percent: number): Promise<Release> {
  const e = environment(ctx, env);
  return locked(ctx, env, () => applyTransition(ctx, env, [trafficStack(e.config)], (r) => core.shift(r, slot, percent, change(ctx))));
}

/** Re-deploys what the file says (or, with `revert`, the state before the failed change). */
export async function reconcile(ctx: Context, env: string, revert: boolean): Promise<Release> {
  return locked(ctx, env, async () => {
    const r = loadRelease(ctx.project.root, env);
    if (!r.pending) {
      ctx.progress.info(`${env}: nothing pending, the file and the cloud agree`);
      return r;
    }
    const pending = r.pending;
    const target: Release = revert ? { ...pending.previous, pending: null, lastChange: r.lastChange } : { ...r, pending: null };
    if (ctx.options.dryRun) {
      showDryRun(ctx, { environment: env, diff: releaseDiff(env, r, target, ["current", "reconciled"]), deploy: ctx.options.deploy ? pending.stacks : [], proposed: target, summary: ctx.options.deploy ? `would deploy: ${pending.stacks.join(" ")}` : "would deploy: nothing (--no-deploy)" });
      return r;
    }
    if (!ctx.options.deploy) {
      // GitOps: the pipeline deploys the file as it is; only a revert changes it.
      if (!revert) throw new core.RefusedError(`${env}: reconcile --no-deploy changes nothing: the pending deploy of ${pending.stacks.join(", ")} must run; let the pipeline deploy, or pass --revert --no-deploy to restore the previous state`);
      return commit(ctx.project.root, r, target, { change: change(ctx), outcome: "reverted", note: "edited only (--no-deploy): the pipeline deploys it" });
    }
    await ctx.approve(environment(ctx, env).config, { summary: ctx.command, diff: releaseDiff(env, r, target, ["current", "reconciled"]), stacks: pending.stacks });
    const restarted = commit(ctx.project.root, r, { ...target, pending: { ...pending, since: ctx.clock.now().toISOString() } }, { change: change(ctx), outcome: "deploying" });
    try {
      await ctx.progress.step(`deploy ${pending.stacks.join(" ")}`, (log) => ctx.deployer.deploy(pending.stacks, log));
    } catch (err) {
      commit(ctx.project.root, restarted, restarted, { change: change(ctx), outcome: "deploy-failed", note: (err as Error).message });
      throw new DeployFailedError(env, err as Error);
    }
    return commit(ctx.project.root, restarted, target, { change: change(ctx), outcome: revert ? "reverted" : "reconciled" });
  });
}

// ------------------------------------------------------- fast mitigation

/** Bounded retries with exponential backoff (0.5 s, 1 s, 2 s, ...); the last error is rethrown. */
export async function withRetries<T>(attempts: number, fn: () => Promise<T>, clock: Clock, signal?: AbortSignal): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await clock.sleep(500 * 2 ** (i - 1), signal);
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/**
 * Writes `weights` to the ALB at once (best effort, a few quick attempts) and reports how long
 * until they read back. Returns false when the ALB could not be written: the deploy that follows
 * moves the traffic then.
 */
export async function writeWeightsNow(ctx: Context, e: Environment, weights: Weights, why: string): Promise<boolean> {
  const t0 = performance.now();
  const traffic = ctx.traffic(e);
  try {
    await withRetries(3, () => traffic.write(weights), ctx.clock);
    const back = (await withRetries(3, () => traffic.read(), ctx.clock)).weights;
    const ms = Math.round(performance.now() - t0);
    if (!core.sameWeights(back, weights)) {
      ctx.progress.info(`${e.name}: wrote ${formatWeights(weights)} to the ALB (${why}) but it reads back ${formatWeights(back)}; the deploy follows`);
      return false;
    }
    ctx.progress.info(`${e.name}: ALB now serves ${formatWeights(weights)} (${why}; written and read back in ${ms} ms)`);
    return true;
  } catch (err) {
    ctx.progress.info(`${e.name}: could not write the weights to the ALB directly (${describeAwsError(err)}); deploying the traffic stack instead`);
    return false;
  }
}

/**
 * Mitigation as one operation: traffic first (direct write), then the file (with its record) and the
 * traffic stack's deploy. `transition` recomputes the new state from the file as it is under the lock.
 */
export async function mitigate(ctx: Context, env: string, weights: Weights, why: string, transition: (r: Release) => Release, outcome: string, record: Omit<RecordInput, "change" | "outcome"> = {}): Promise<Release> {
  const e = environment(ctx, env);
  if (ctx.options.deploy && !ctx.options.dryRun) await writeWeightsNow(ctx, e.config, weights, why);
  // The lock may be held by a deploy in flight (a rollout step): wait for it.
  return locked(ctx, env, async () => {
    const current = loadRelease(ctx.project.root, env);
    const next = transition(current);
    const stacks = [trafficStack(e.config)];
    if (ctx.options.dryRun) {
      showDryRun(ctx, { environment: env, diff: releaseDiff(env, current, next), deploy: ctx.options.deploy ? stacks : [], proposed: next, summary: ctx.options.deploy ? `would write ${formatWeights(weights)} to the ALB, then deploy: ${stacks.join(" ")}` : "would deploy: nothing (--no-deploy)" });
      return current;
    }
    if (!ctx.options.deploy) return commit(ctx.project.root, current, next, { change: change(ctx), outcome: "edited", ...record });
    const done = await deployCommitted(ctx, env, current, next, stacks, outcome, record);
    // A deploy left pending by an earlier command stays pending for its other stacks.
    const rest = current.pending?.stacks.filter((s) => !stacks.includes(s)) ?? [];
    if (current.pending && rest.length > 0) {
      ctx.progress.info(`${env}: the earlier deploy of ${rest.join(", ")} is still pending: run 'envctl reconcile ${env}' when the incident is over`);
      return commit(ctx.project.root, done, { ...done, pending: { ...current.pending, stacks: rest } }, { change: change(ctx), outcome: "still-pending" });
    }
    return done;
  }, Math.max(ctx.options.waitSeconds, 300));
}

/** What the ALB serves now, or undefined (with a note) when it cannot be read. */
async function observedWeights(ctx: Context, e: Environment): Promise<Weights | undefined> {
  if (!ctx.options.deploy || ctx.options.dryRun) return undefined;
  try {
    return (await withRetries(2, () => ctx.traffic(e).read(), ctx.clock)).weights;
  } catch (err) {
    ctx.progress.info(`${e.name}: could not read the ALB's weights (${describeAwsError(err)}); going by the release file`);
    return undefined;
  }
}

/**
 * 100 % back to the previous live slot. When the ALB serves a split the file does not know (a
 * rollout running on another machine), the file's live slot is restored. Takes effect at once:
 * weights first, then the file and the traffic stack.
 */
export async function rollback(ctx: Context, env: string): Promise<Release> {
  const e = environment(ctx, env);
  const r = loadRelease(ctx.project.root, env);
  const observed = await observedWeights(ctx, e.config);
  const unknownSplit = observed !== undefined && !core.sameWeights(observed, weightsOf(r)) && !core.inCanary(r);
  const transition = (x: Release) => (unknownSplit && !core.inCanary(x) ? x : core.rollback(x, change(ctx)));
  const target = transition(r);
  if (!unknownSplit && core.sameState(r, target)) {
    ctx.progress.info(`${env}: nothing to change`);
    return r;
  }
  const weights = weightsOf(target);
  const why = unknownSplit ? `the ALB served ${formatWeights(observed!)}, which the release file does not know; restoring its live slot ${r.live}` : `rollback to ${target.live}`;
  await ctx.approve(e.config, { summary: `${ctx.command}: ${why}`, diff: releaseDiff(env, r, target), stacks: [trafficStack(e.config)] });
  return mitigate(ctx, env, weights, why, transition, "rolled-back", { note: why });
}

/**
 * Stops a rollout, restoring the weights it started from. When the file shows no rollout but the
 * ALB serves a split (a rollout running on another machine), the file's weights are restored.
 */
export async function abort(ctx: Context, env: string): Promise<Release> {
  const e = environment(ctx, env);
  const r = loadRelease(ctx.project.root, env);
  const observed = r.rollout ? undefined : await observedWeights(ctx, e.config);
  if (!r.rollout && (observed === undefined || core.sameWeights(observed, weightsOf(r)))) {
    throw new core.RefusedError(`${env} has no rollout in progress to abort${observed ? ` (the ALB serves ${formatWeights(observed)}, as the release file says)` : ""}`);
  }
  const transition = (x: Release) => (x.rollout ? core.abortRollout(x, change(ctx)) : x);
  const weights = r.rollout ? r.rollout.before : weightsOf(r);
  const why = r.rollout ? `abort: back to ${formatWeights(weights)}, the weights before the rollout` : `abort: the ALB served ${formatWeights(observed!)}; restoring the release file's ${formatWeights(weights)}`;
  await ctx.approve(e.config, { summary: `${ctx.command}: ${why}`, diff: releaseDiff(env, r, transition(r)), stacks: [trafficStack(e.config)] });
  return mitigate(ctx, env, weights, why, transition, "aborted", { note: why });
}

/** The release file as it is now (after a command ran). */
export function currentRelease(ctx: Context, env: string): Release {
  return loadRelease(ctx.project.root, env);
}

/** Extra rows of `envctl diff`: the monthly cost estimates. */
export function costRows(a: Environment, b: Environment): [Record<string, string>, Record<string, string>] {
  const row = (e: Environment) => ({ [`est. monthly cost (${PRICES_AS_OF})`]: `$${estimateMonthlyCost(e).total.toFixed(2)}` });
  return [row(a), row(b)];
}
