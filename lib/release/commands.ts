/**
 * The release commands (promote, stage, shift, reconcile, snapshot): the pure core's transitions
 * (lib/release/core.ts) applied under the environment's lock and deployed by the deploy protocol
 * (lib/release/deploy-protocol.ts). Rollback and abort are mitigation (lib/release/mitigation.ts); the canary
 * is the controller (lib/release/rollout/controller.ts). The CLI is a thin shell over these.
 */
import { calendarGate } from "./calendar.ts";
import { type Context, change, environment, locked } from "./command-context.ts";
import * as core from "./core.ts";
import { applyTransition, deployWithMarker, refusePending } from "./deploy-protocol.ts";
import { releaseDiff, showDeployDryRun } from "./dry-run.ts";
import { emit } from "./emit.ts";
import { schemaGateForRollback, schemaGateForTraffic } from "./migrate.ts";
import { RefusedError } from "./model/errors.ts";
import type { Release } from "./model/release.ts";
import { otherSlot, type SchemaRange } from "./model/slots.ts";
import { snapshotIdFor } from "./model/snapshot-id.ts";
import type { ReleaseEnvironment } from "./ports/index.ts";
import { stacksForPromotion, trafficStack } from "./release-stacks.ts";

/** The candidate a promotion or a stage puts into `target`'s idle slot. */
function candidate(ctx: Context, target: ReleaseEnvironment, v: { version: string; digest?: string }): core.Candidate {
  return { ...v, settings: ctx.settings.forSlot(target) };
}

export async function promote(
  ctx: Context,
  from: string,
  to: string,
  opts: { version?: string; snapshot?: boolean; rollback?: boolean },
): Promise<Release> {
  const source = environment(ctx, from);
  const target = environment(ctx, to);
  const graph = source.release;
  if (graph.rollbackTo.includes(to)) {
    if (!opts.rollback)
      throw new RefusedError(
        `${from} → ${to} is a rollback path only: pass --rollback to promote ${from}'s version back into ${to}`,
      );
  } else if (!graph.promotesTo.includes(to)) {
    const allowed = graph.promotesTo.length ? graph.promotesTo.join(", ") : "nothing";
    throw new RefusedError(`${from} → ${to} is not on the promotion graph (${from} promotes into ${allowed})`);
  }
  const sourceRelease = ctx.store.load(from);
  const promoted = core.versionToPromote(sourceRelease, opts.version);
  if (!ctx.options.dryRun && !opts.rollback)
    await calendarGate(ctx, target, `promoting ${promoted.version} from ${from}`, {
      stacks: stacksForPromotion(target),
    });
  // The target must define every key the source runs the version with, and every key its tier requires.
  ctx.settings.refuseMissing(source, sourceRelease, target, promoted.version);
  const sourceSlot = (["blue", "green"] as const).find((s) => sourceRelease.slots[s].version === promoted.version);
  const schema = sourceSlot ? sourceRelease.slots[sourceSlot].schema : undefined;
  const c = { ...candidate(ctx, target, promoted), ...(schema ? { schema } : {}) };
  return locked(ctx, to, async () => {
    const current = ctx.store.load(to);
    refusePending(current);
    if (unchanged(ctx, current, c)) return current;
    const next = core.promote(current, c); // refuse early, before any snapshot
    if (core.sameState(current, next)) {
      ctx.progress.info(`${to}: nothing to change (the idle slot already holds ${c.version})`);
      return current;
    }
    const wantsSnapshot = opts.snapshot ?? target.release.snapshotBeforePromote;
    if (wantsSnapshot && ctx.options.deploy && !ctx.options.dryRun) {
      await ctx.approve(target, {
        summary: `${ctx.command}: snapshot the database, then deploy ${c.version} into the idle slot`,
        diff: releaseDiff(to, current, next),
        stacks: stacksForPromotion(target),
      });
      await takeSnapshot(ctx, target, "pre-promote");
    } else if (wantsSnapshot) {
      ctx.progress.info(
        `note: ${to} takes a database snapshot before promotion; the pipeline deploying this change takes it ('envctl snapshot ${to}')`,
      );
    }
    const done = await applyTransition(ctx, to, stacksForPromotion(target), (r) => core.promote(r, c));
    if (!ctx.options.dryRun && !core.sameState(current, done))
      emit(ctx, to, "promotion", {
        reason:
          `${c.version} promoted from ` +
          `${from} into the idle slot ${core.idleSlot(current)} of ${to}${ctx.options.deploy ? "" : " (file only: the pipeline deploys it)"}`,
        release: done,
      });
    return done;
  });
}

/** Snapshots the environment's database and waits until it is available. */
export async function takeSnapshot(ctx: Context, env: ReleaseEnvironment, reason = "pre-promote"): Promise<string> {
  const id = snapshotIdFor(env.name, ctx.clock.now(), reason);
  return ctx.progress.step(`snapshot ${env.name}-postgres as ${id}`, () =>
    ctx.snapshots(env).snapshot(`${env.name}-postgres`, id),
  );
}

/**
 * A promotion or stage that would change nothing says why and writes nothing (exit 0); a
 * settings-only change says what differs and goes on. Call under the lock, on the current state.
 */
function unchanged(ctx: Context, current: Release, c: core.Candidate): boolean {
  const noop = core.promotionNoop(current, c);
  if (noop !== undefined) {
    ctx.progress.info(`${current.environment}: nothing to change: ${noop}`);
    return true;
  }
  const settingsOnly = core.settingsOnlyChange(current, c);
  if (settingsOnly !== undefined) ctx.progress.info(`${current.environment}: settings-only change: ${settingsOnly}`);
  return false;
}

/**
 * A freshly built version (or a settings change) enters the promotion graph at a root (an
 * environment nothing promotes into, e.g. dev): it goes into the idle slot at weight 0.
 * Without a version, the live version is staged again with the environment's current settings:
 * a settings-only change, or nothing to change when the live slot already runs those settings.
 */
export async function stage(
  ctx: Context,
  env: string,
  opts: { version?: string; digest?: string; schema?: SchemaRange },
): Promise<Release> {
  const target = environment(ctx, env);
  const feeders = ctx.environments
    .all()
    .filter((e) => e.release.promotesTo.includes(env))
    .map((e) => e.name);
  if (opts.version !== undefined && feeders.length > 0)
    throw new RefusedError(
      `${env} receives versions by promotion from ` +
        `${feeders.join(", ")}: use 'envctl promote ${feeders[0]} ${env}' (a settings change alone may be staged with 'envctl stage ${env}')`,
    );
  const settings = ctx.settings.forSlot(target);
  return locked(ctx, env, async () => {
    const current = ctx.store.load(env);
    refusePending(current);
    const live = current.slots[current.live];
    const version = opts.version ?? live.version!;
    const digest = opts.digest ?? (opts.version === undefined ? live.digest : undefined);
    const schema = opts.schema ?? (opts.version === undefined ? live.schema : undefined);
    const c: core.Candidate = { version, ...(digest ? { digest } : {}), settings, ...(schema ? { schema } : {}) };
    if (unchanged(ctx, current, c)) return current;
    return applyTransition(ctx, env, stacksForPromotion(target), (r) => core.promote(r, c));
  });
}

export async function shift(ctx: Context, env: string, slot: "blue" | "green", percent: number): Promise<Release> {
  const e = environment(ctx, env);
  const r = ctx.store.load(env);
  const receiving = percent > 0 ? slot : otherSlot(slot);
  const back = receiving === r.previousLive || (receiving === r.live && core.inCanary(r));
  // Traffic going back to what served before is a mitigation: never held by the calendar.
  if (!back && !ctx.options.dryRun)
    await calendarGate(ctx, e, `shifting ${percent} % to ${slot}`, { stacks: [trafficStack(e)] });
  if (!ctx.options.dryRun && r.slots[receiving].weight < (percent > 0 ? percent : 100)) {
    if (back) await schemaGateForRollback(ctx, e, r, receiving);
    else await schemaGateForTraffic(ctx, e, r, receiving);
  }
  return locked(ctx, env, () => applyTransition(ctx, env, [trafficStack(e)], (r) => core.shift(r, slot, percent)));
}

/** Re-deploys what the file says (or, with `revert`, the state before the failed change). */
export async function reconcile(ctx: Context, env: string, revert: boolean): Promise<Release> {
  return locked(ctx, env, async () => {
    const r = ctx.store.load(env);
    if (!r.pending) {
      ctx.progress.info(`${env}: nothing pending, the file and the cloud agree`);
      return r;
    }
    const pending = r.pending;
    const target: Release = revert
      ? { ...pending.previous, pending: null, lastChange: r.lastChange }
      : { ...r, pending: null };
    if (ctx.options.dryRun) {
      showDeployDryRun(ctx, {
        env,
        before: r,
        after: target,
        stacks: pending.stacks,
        labels: ["current", "reconciled"],
      });
      return r;
    }
    if (!ctx.options.deploy) {
      // GitOps: the pipeline deploys the file as it is; only a revert changes it.
      if (!revert)
        throw new RefusedError(
          `${env}: reconcile --no-deploy changes nothing: the pending deploy of ` +
            `${pending.stacks.join(", ")} must run; let the pipeline deploy, or pass --revert --no-deploy to restore the previous state`,
        );
      return ctx.store.commit(r, target, {
        change: change(ctx),
        outcome: "reverted",
        note: "edited only (--no-deploy): the pipeline deploys it",
      });
    }
    await ctx.approve(environment(ctx, env), {
      summary: ctx.command,
      diff: releaseDiff(env, r, target, ["current", "reconciled"]),
      stacks: pending.stacks,
    });
    // The same marker again (its stacks, its command, its previous state), restarted now.
    return deployWithMarker(ctx, env, {
      current: r,
      next: target,
      pending: { ...pending, since: ctx.clock.now().toISOString() },
      outcome: revert ? "reverted" : "reconciled",
    });
  });
}
