/**
 * Fast mitigation (rollback, abort, a failed gate, an interrupted rollout): the weights are first
 * written to the listener rule directly (one API call: traffic moves within a second or two), then
 * the release file is changed and the traffic stack deployed by the deploy protocol
 * (lib/release/deploy-protocol.ts), whose plan then finds nothing to change.
 */
import { type Context, change, environment, locked } from "./command-context.ts";
import * as core from "./core.ts";
import { deployChange } from "./deploy-protocol.ts";
import { formatWeights, releaseDiff, showDeployDryRun } from "./dry-run.ts";
import { emit } from "./emit.ts";
import { schemaGateForRollback } from "./migrate.ts";
import { describeCause, RefusedError } from "./model/errors.ts";
import type { NotifyEvent } from "./model/events.ts";
import type { Release } from "./model/release.ts";
import { type Weights, weightsOf } from "./model/slots.ts";
import type { RecordDetails, ReleaseEnvironment } from "./ports/index.ts";
import { trafficStack } from "./release-stacks.ts";
import { withRetries } from "./retry.ts";
import { refuseUnserved } from "./served.ts";

/**
 * Writes `weights` to the ALB at once (best effort, a few quick attempts) and reports how long
 * until they read back. Returns false when the ALB could not be written: the deploy that follows
 * moves the traffic then.
 */
export async function writeWeightsNow(
  ctx: Context,
  e: ReleaseEnvironment,
  weights: Weights,
  why: string,
): Promise<boolean> {
  const t0 = performance.now();
  const traffic = ctx.traffic(e);
  try {
    await withRetries(3, () => traffic.write(weights), ctx.clock);
    const back = (await withRetries(3, () => traffic.read(), ctx.clock)).weights;
    const ms = Math.round(performance.now() - t0);
    if (!core.sameWeights(back, weights)) {
      ctx.progress.info(
        `${e.name}: wrote ${formatWeights(weights)} to the ALB (${why}) but it reads back ${formatWeights(back)}; the deploy follows`,
      );
      return false;
    }
    ctx.progress.info(
      `${e.name}: ALB now serves ${formatWeights(weights)} (${why}; written and read back in ${ms} ms)`,
    );
    return true;
  } catch (err) {
    ctx.progress.info(
      `${e.name}: could not write the weights to the ALB directly (${describeCause(err)}); deploying the traffic stack instead`,
    );
    return false;
  }
}

/** What a mitigation announces (after the ALB is written): its event and the evidence behind it. */
export interface MitigationNotice {
  readonly event: NotifyEvent;
  readonly evidence?: string | null;
}

/**
 * Mitigation as one operation: traffic first (direct write), then the notification (queued, never
 * awaited), then the file (with its record) and the traffic stack's deploy. `transition` recomputes
 * the new state from the file as it is under the lock.
 */
export async function mitigate(
  ctx: Context,
  env: string,
  weights: Weights,
  why: string,
  transition: (r: Release) => Release,
  outcome: string,
  record: RecordDetails = {},
  notice?: MitigationNotice,
): Promise<Release> {
  const e = environment(ctx, env);
  if (ctx.options.deploy && !ctx.options.dryRun) await writeWeightsNow(ctx, e, weights, why);
  if (!ctx.options.dryRun) {
    const event = notice?.event ?? (outcome === "aborted" ? "abort" : "rollback");
    let after: Release | null = null;
    try {
      after = transition(ctx.store.load(env));
    } catch {
      // the file is read again under the lock below, which reports any problem
    }
    emit(ctx, env, event, { reason: why, release: after, weights, evidence: notice?.evidence ?? null });
  }
  // The lock may be held by a deploy in flight (a rollout step): wait for it.
  return locked(
    ctx,
    env,
    async () => {
      const current = ctx.store.load(env);
      const next = transition(current);
      const stacks = [trafficStack(e)];
      if (ctx.options.dryRun) {
        const first = `write ${formatWeights(weights)} to the ALB`;
        showDeployDryRun(ctx, { env, before: current, after: next, stacks, first });
        return current;
      }
      if (!ctx.options.deploy)
        return ctx.store.commit(current, next, { change: change(ctx), outcome: "edited", ...record });
      const done = await deployChange(ctx, env, current, next, stacks, outcome, record);
      // A deploy left pending by an earlier command stays pending for its other stacks.
      const rest = current.pending?.stacks.filter((s) => !stacks.includes(s)) ?? [];
      if (current.pending && rest.length > 0) {
        ctx.progress.info(
          `${env}: the earlier deploy of ${rest.join(", ")} is still pending: run 'envctl reconcile ${env}' when the incident is over`,
        );
        return ctx.store.commit(
          done,
          { ...done, pending: { ...current.pending, stacks: rest } },
          { change: change(ctx), outcome: "still-pending" },
        );
      }
      return done;
    },
    Math.max(ctx.options.waitSeconds, 300),
  );
}

/**
 * What the ALB serves now, for a command's mitigation: undefined when nothing is deployed
 * (--no-deploy, --dry-run) or when it cannot be read (said so: the history and the file are still
 * checked, and the deploy that follows the direct write moves the traffic to the checked target).
 */
async function servingNow(ctx: Context, e: ReleaseEnvironment): Promise<Weights | undefined> {
  if (!ctx.options.deploy || ctx.options.dryRun) return undefined;
  try {
    return (await withRetries(2, () => ctx.traffic(e).read(), ctx.clock)).weights;
  } catch (err) {
    ctx.progress.info(
      `${e.name}: could not read the ALB's listener rule (${describeCause(err)}); checking the target against the history and the release file only`,
    );
    return undefined;
  }
}

/**
 * Refuses a mitigation whose target the history does not vouch for (lib/release/served.ts): the
 * release file must be what the history last recorded, each slot given traffic must hold the
 * version it served before, and the ALB must serve a split the history knows.
 */
function verifyTarget(ctx: Context, env: string, r: Release, target: Weights, observed: Weights | undefined): void {
  const logged = ctx.store.logged?.(env);
  if (!logged)
    throw new RefusedError(`${env}: this store keeps no history to check a mitigation against; nothing was moved`);
  const refusal = refuseUnserved({ env, file: r, logged, target, ...(observed ? { observed } : {}) });
  if (refusal) throw new RefusedError(refusal);
}

/**
 * 100 % back to the previous live slot. When the ALB serves a split the file does not show (a deploy
 * interrupted midway), the file's live slot is restored. Takes effect at once: weights first, then
 * the file and the traffic stack. Only to a slot and version the history recorded as serving, with
 * the file and the ALB agreeing with the history (./served.ts); a split the history never recorded
 * stops it.
 */
export async function rollback(ctx: Context, env: string): Promise<Release> {
  const e = environment(ctx, env);
  const r = ctx.store.load(env);
  const observed = await servingNow(ctx, e);
  const unknownSplit = observed !== undefined && !core.sameWeights(observed, weightsOf(r)) && !core.inCanary(r);
  const transition = (x: Release) => (unknownSplit && !core.inCanary(x) ? x : core.rollback(x));
  const target = transition(r);
  if (!unknownSplit && core.sameState(r, target)) {
    ctx.progress.info(`${env}: nothing to change`);
    return r;
  }
  // A rollback never puts traffic on a version the database's schema no longer supports (a contract ran).
  const weights = weightsOf(target);
  // Only to what served before, as the history records it, checked against the file and the ALB.
  verifyTarget(ctx, env, r, weights, observed);
  if (!unknownSplit) await schemaGateForRollback(ctx, e, r, target.live);
  const why = unknownSplit
    ? `the ALB served ${formatWeights(observed!)}, which the release file does not know; restoring its live slot ${r.live}`
    : `rollback to ${target.live}`;
  await ctx.approve(e, {
    summary: `${ctx.command}: ${why}`,
    diff: releaseDiff(env, r, target),
    stacks: [trafficStack(e)],
  });
  return mitigate(ctx, env, weights, why, transition, "rolled-back", { note: why });
}

/**
 * Stops a rollout, restoring the weights it started from. When the file shows no rollout but the
 * ALB serves a split the history recorded (a deploy interrupted midway), the file's weights are
 * restored. Checked as a rollback is (./served.ts).
 */
export async function abort(ctx: Context, env: string): Promise<Release> {
  const e = environment(ctx, env);
  const r = ctx.store.load(env);
  const observed = await servingNow(ctx, e);
  if (!r.rollout && (observed === undefined || core.sameWeights(observed, weightsOf(r)))) {
    throw new RefusedError(
      `${env} has no rollout in progress to abort${observed ? ` (the ALB serves ${formatWeights(observed)}, as the release file says)` : ""}`,
    );
  }
  const transition = (x: Release) => (x.rollout ? core.abortRollout(x) : x);
  const weights = r.rollout ? r.rollout.before : weightsOf(r);
  verifyTarget(ctx, env, r, weights, observed);
  const why = r.rollout
    ? `abort: back to ${formatWeights(weights)}, the weights before the rollout`
    : `abort: the ALB served ${formatWeights(observed!)}; restoring the release file's ${formatWeights(weights)}`;
  await ctx.approve(e, {
    summary: `${ctx.command}: ${why}`,
    diff: releaseDiff(env, r, transition(r)),
    stacks: [trafficStack(e)],
  });
  return mitigate(ctx, env, weights, why, transition, "aborted", { note: why });
}
