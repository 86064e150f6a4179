/**
 * Release operations: the pure core wired to files, locks, the deploy runner, the alarm gate
 * and snapshots. The CLI is a thin shell over these.
 *
 * Deploy protocol (no drift between file and cloud): the new state is written with a `pending`
 * marker naming the stacks being deployed; only after the deploy succeeds is the marker cleared.
 * A failed or interrupted deploy leaves the marker; every later command refuses until
 * `envctl reconcile` re-deploys the file (or `--revert` restores and deploys the previous state).
 */
import { createTwoFilesPatch } from "diff";
import { estimateMonthlyCost } from "../cost/estimate.ts";
import { PRICES_AS_OF } from "../cost/prices.ts";
import type { LoadedEnvironment, Project } from "../config/load.ts";
import type { Release } from "../config/release.ts";
import type { Environment } from "../config/schema.ts";
import { slotAlarmNames } from "../constructs/monitoring.ts";
import type { Deployer } from "../deploy/runner.ts";
import type { Progress } from "../cli/progress.ts";
import * as core from "./core.ts";
import type { AlarmReader } from "./gate.ts";
import { snapshotIdFor, type Snapshotter } from "./snapshot.ts";
import { stacksForPromotion, trafficStack } from "./stacks.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { appendAudit, loadRelease, releaseText, withLock, writeRelease } from "./store.ts";

export interface Options {
  /** Deploy after editing (false: only edit the file, the pipeline deploys). */
  readonly deploy: boolean;
  /** Show the release-file diff and the stacks that would deploy; change nothing. */
  readonly dryRun: boolean;
  /** Seconds to wait for another envctl holding the environment's lock. */
  readonly waitSeconds: number;
}

export interface Context {
  readonly project: Project;
  readonly deployer: Deployer;
  readonly alarms: (env: Environment) => AlarmReader;
  readonly snapshots: (env: Environment) => Snapshotter;
  readonly progress: Progress;
  readonly actor: string;
  readonly now: () => Date;
  /** Where human-readable results go (stdout). */
  readonly out: (text: string) => void;
  /** Receives what a --dry-run would do instead of `out` (the CLI's --json); default: printed to `out`. */
  readonly dryRun?: (plan: DryRunPlan) => void;
  readonly options: Options;
  /** The command line, for the audit history. */
  readonly command: string;
  /** Asks for approval before a deploy (production); throws to cancel. */
  readonly approve: (env: Environment, what: string) => Promise<void>;
}

/** What a --dry-run would do: the release-file diff and the stacks it would deploy. */
export interface DryRunPlan {
  readonly environment: string;
  /** Unified diff of the release file (current → proposed). */
  readonly diff: string;
  readonly deploy: readonly string[];
  readonly proposed: Release;
  /** Rollouts: the steps still to apply. */
  readonly steps?: readonly { percent: number; bakeSeconds: number }[];
}

function showDryRun(ctx: Context, plan: DryRunPlan, text: string): void {
  if (ctx.dryRun) ctx.dryRun(plan);
  else ctx.out(text);
}

/** Exit codes of envctl. */
export const EXIT = { ok: 0, invalid: 1, drift: 2, rolledBack: 3, deployFailed: 4, locked: 5 } as const;

/** A rollout the gate stopped: traffic is back on the previous live slot. */
export class RolledBackError extends Error {
  constructor(readonly env: string, readonly alarms: readonly string[]) {
    super(`${env}: rollout rolled back: ${alarms.join(", ")}; all traffic is back on the previous live slot`);
    this.name = "RolledBackError";
  }
}

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

const change = (ctx: Context): core.Change => ({ by: ctx.actor, at: ctx.now().toISOString(), command: ctx.command });

function refusePending(r: Release): void {
  if (r.pending) {
    throw new core.RefusedError(`${r.environment}: the deploy of ${r.pending.stacks.join(", ")} by '${r.pending.command}' (since ${r.pending.since}) did not finish; run 'envctl reconcile ${r.environment}' first`);
  }
}

/**
 * Applies one transition to an environment's release file and deploys `stacks`. Must run
 * under the environment's lock. Returns the new state (the old one on --dry-run).
 */
export async function applyTransition(ctx: Context, env: string, stacks: readonly string[], transition: (r: Release) => Release, outcome = "deployed"): Promise<Release> {
  const root = ctx.project.root;
  const before = loadRelease(root, env);
  refusePending(before);
  const after = transition(before);
  const deploying = ctx.options.deploy && stacks.length > 0;

  if (ctx.options.dryRun) {
    const diff = createTwoFilesPatch(`environments/releases/${env}.json`, `environments/releases/${env}.json`, releaseText(before), releaseText(after), "current", "proposed");
    showDryRun(ctx, { environment: env, diff, deploy: deploying ? [...stacks] : [], proposed: after },
      `${diff}\n${deploying ? `would deploy: ${stacks.join(" ")}` : "would deploy: nothing (--no-deploy)"}`);
    return before;
  }
  const audit = (result: string, to: Release) =>
    appendAudit(root, { environment: env, ...change(ctx), from: { live: before.live, slots: before.slots }, to: { live: to.live, slots: to.slots }, outcome: result });

  if (deploying) await ctx.approve(environment(ctx, env).config, `Deploy ${stacks.join(" ")} for '${ctx.command}'`);
  if (!deploying) {
    writeRelease(root, after);
    audit(stacks.length === 0 ? outcome : "edited", after);
    return after;
  }
  writeRelease(root, { ...after, pending: { stacks: [...stacks], command: ctx.command, since: ctx.now().toISOString(), previous: before } });
  await deployStacks(ctx, env, stacks, () => audit("deploy-failed", after));
  writeRelease(root, after);
  audit(outcome, after);
  return after;
}

async function deployStacks(ctx: Context, env: string, stacks: readonly string[], onFailure: () => void): Promise<void> {
  try {
    await ctx.progress.step(`deploy ${stacks.join(" ")}`, (log) => ctx.deployer.deploy(stacks, log));
  } catch (err) {
    onFailure();
    throw new DeployFailedError(env, err as Error);
  }
}

// ---------------------------------------------------------------- commands

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
  const version = core.versionToPromote(loadRelease(ctx.project.root, from), opts.version);
  return withLock(ctx.project.root, to, ctx.options.waitSeconds, async () => {
    const current = loadRelease(ctx.project.root, to);
    refusePending(current);
    core.promote(current, version, change(ctx)); // refuse early, before any snapshot
    const wantsSnapshot = opts.snapshot ?? target.config.release.snapshotBeforePromote;
    if (wantsSnapshot && ctx.options.deploy && !ctx.options.dryRun) {
      await ctx.approve(target.config, `Snapshot the database and promote ${version}`);
      const id = snapshotIdFor(to, ctx.now());
      await ctx.progress.step(`snapshot ${to}-postgres as ${id}`, () => ctx.snapshots(target.config).snapshot(`${to}-postgres`, id));
    } else if (wantsSnapshot) {
      ctx.progress.info(`note: ${to} takes a database snapshot before promotion; the pipeline deploying this change must take it`);
    }
    return applyTransition(ctx, to, stacksForPromotion(target.config), (r) => core.promote(r, version, change(ctx)));
  });
}

/**
 * A freshly built version enters the promotion graph at a root (an environment nothing promotes
 * into, e.g. dev): it goes into the idle slot at weight 0, like a promotion.
 */
export async function stage(ctx: Context, env: string, version: string): Promise<Release> {
  const target = environment(ctx, env);
  const feeders = ctx.project.environments.filter((e) => e.config.release.promotesTo.includes(env)).map((e) => e.config.name);
  if (feeders.length > 0) throw new core.RefusedError(`${env} receives versions by promotion from ${feeders.join(", ")}: use 'envctl promote ${feeders[0]} ${env}'`);
  return withLock(ctx.project.root, env, ctx.options.waitSeconds, () =>
    applyTransition(ctx, env, stacksForPromotion(target.config), (r) => core.promote(r, version, change(ctx))));
}

export async function shift(ctx: Context, env: string, slot: "blue" | "green", percent: number): Promise<Release> {
  const e = environment(ctx, env);
  return withLock(ctx.project.root, env, ctx.options.waitSeconds, () =>
    applyTransition(ctx, env, [trafficStack(e.config)], (r) => core.shift(r, slot, percent, change(ctx))));
}

export async function rollback(ctx: Context, env: string): Promise<Release> {
  const e = environment(ctx, env);
  return withLock(ctx.project.root, env, ctx.options.waitSeconds, () =>
    applyTransition(ctx, env, [trafficStack(e.config)], (r) => core.rollback(r, change(ctx)), "rolled-back"));
}

export async function abort(ctx: Context, env: string): Promise<Release> {
  const e = environment(ctx, env);
  return withLock(ctx.project.root, env, ctx.options.waitSeconds, () =>
    applyTransition(ctx, env, [trafficStack(e.config)], (r) => core.abortRollout(r, change(ctx)), "aborted"));
}

/** Re-deploys what the file says (or, with `revert`, the state before the failed change). */
export async function reconcile(ctx: Context, env: string, revert: boolean): Promise<Release> {
  return withLock(ctx.project.root, env, ctx.options.waitSeconds, async () => {
    const r = loadRelease(ctx.project.root, env);
    if (!r.pending) {
      ctx.progress.info(`${env}: nothing pending, the file and the cloud agree`);
      return r;
    }
    const pending = r.pending;
    const target: Release = revert ? { ...(pending.previous as Release), pending: null } : { ...r, pending: null };
    if (ctx.options.dryRun) {
      const diff = createTwoFilesPatch(`${env}.json`, `${env}.json`, releaseText(r), releaseText(target), "current", "reconciled");
      showDryRun(ctx, { environment: env, diff, deploy: pending.stacks, proposed: target }, `${diff}\nwould deploy: ${pending.stacks.join(" ")}`);
      return r;
    }
    writeRelease(ctx.project.root, { ...target, pending: { ...pending, since: ctx.now().toISOString() } });
    await deployStacks(ctx, env, pending.stacks, () => undefined);
    writeRelease(ctx.project.root, target);
    appendAudit(ctx.project.root, { environment: env, ...change(ctx), from: { live: r.live, slots: r.slots }, to: { live: target.live, slots: target.slots }, outcome: revert ? "reverted" : "reconciled" });
    return target;
  });
}

export interface RolloutOptions {
  /** Overrides every step's bake time, seconds (demos and tests). */
  readonly bakeSeconds?: number;
}

/**
 * The tier's progressive canary of the idle slot: each step writes the file, deploys the
 * traffic stack, bakes, then reads the target slot's alarms. An alarm (or a missing alarm)
 * rolls back to 100 % on the previous live slot at once. Resumable: the step is in the file.
 */
export async function rollout(ctx: Context, env: string, opts: RolloutOptions = {}): Promise<Release> {
  const e = environment(ctx, env);
  const stacks = [trafficStack(e.config)];
  return withLock(ctx.project.root, env, ctx.options.waitSeconds, async () => {
    let r = loadRelease(ctx.project.root, env);
    refusePending(r);
    if (ctx.options.dryRun || !ctx.options.deploy) {
      if (!ctx.options.deploy && !ctx.options.dryRun) throw new core.RefusedError("rollout needs to deploy each step and read the alarms: --no-deploy does not apply (use 'shift --no-deploy' for GitOps)");
      const started = r.rollout ? r : core.startRollout(r, e.config.release.canary, change(ctx));
      const steps = started.rollout!.steps.slice(started.rollout!.nextStep).map((s) => ({ percent: s.percent, bakeSeconds: opts.bakeSeconds ?? s.bakeSeconds }));
      showDryRun(ctx, { environment: env, diff: createTwoFilesPatch(`environments/releases/${env}.json`, `environments/releases/${env}.json`, releaseText(r), releaseText(started), "current", "proposed"), deploy: stacks, proposed: started, steps }, `would roll out ${started.rollout!.target} (${started.slots[started.rollout!.target].version}) in ${env}: ${started.rollout!.steps.slice(started.rollout!.nextStep).map((s) => `${s.percent} % (bake ${opts.bakeSeconds ?? s.bakeSeconds} s)`).join(" → ")}, deploying ${stacks.join(" ")} at each step`);
      return r;
    }
    if (r.rollout) {
      ctx.progress.info(`${env}: resuming the rollout of ${r.rollout.target} at step ${r.rollout.nextStep}/${r.rollout.steps.length}`);
    } else {
      r = await applyTransition(ctx, env, [], (x) => core.startRollout(x, e.config.release.canary, change(ctx)), "rollout-started");
    }
    const target = r.rollout!.target;
    const gate = async (percent: number, bake: number) => {
      if (bake > 0) await ctx.progress.wait(`bake ${target} at ${percent} %`, bake);
      const names = slotAlarmNames(env, target);
      const verdict = await ctx.progress.step(`gate: ${names.length} alarms of ${target}`, () => ctx.alarms(e.config).failing(names));
      const failing = [...verdict.alarming.map((a) => `${a} in ALARM`), ...verdict.missing.map((a) => `${a} missing`)];
      if (failing.length > 0) {
        ctx.progress.info(`${env}: gate failed (${failing.join(", ")}); rolling back`);
        await applyTransition(ctx, env, stacks, (x) => core.rollback(x, change(ctx)), "rolled-back");
        throw new RolledBackError(env, failing);
      }
    };
    // An interrupted rollout resumes by re-checking the step it had applied.
    if (r.rollout!.nextStep > 0) {
      const last = r.rollout!.steps[r.rollout!.nextStep - 1]!;
      await gate(last.percent, opts.bakeSeconds ?? last.bakeSeconds);
    }
    while (r.rollout && r.rollout.nextStep < r.rollout.steps.length) {
      const step = r.rollout.steps[r.rollout.nextStep]!;
      ctx.progress.info(`${env}: step ${r.rollout.nextStep + 1}/${r.rollout.steps.length}: ${target} → ${step.percent} %`);
      r = await applyTransition(ctx, env, stacks, (x) => core.advanceRollout(x, change(ctx)), `rollout-${step.percent}`);
      await gate(step.percent, opts.bakeSeconds ?? step.bakeSeconds);
    }
    return applyTransition(ctx, env, [], (x) => core.completeRollout(x, change(ctx)), "rollout-complete");
  });
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
