/**
 * The deploy protocol, the one way a release change reaches the cloud (no drift between file and
 * cloud): the new state is written with a `pending` marker naming the stacks being deployed; only
 * after the deploy succeeds is the marker cleared. A failed or interrupted deploy leaves the
 * marker; later commands refuse until `envctl reconcile` re-deploys the file (or `--revert`
 * restores and deploys the previous state). Every write carries its history record (lib/release/store).
 *
 * Used by every command ({@link applyTransition}), by mitigation (lib/release/mitigation.ts), by the
 * rollout's steps and by reconcile (lib/release/commands.ts), all through {@link deployWithMarker}.
 */
import { type Context, change, environment } from "./command-context.ts";
import * as core from "./core.ts";
import { formatWeights, releaseDiff, showDeployDryRun } from "./dry-run.ts";
import { DeployFailedError, describeCause, RefusedError } from "./model/errors.ts";
import type { Pending, Release } from "./model/release.ts";
import { type Weights, weightsOf } from "./model/slots.ts";
import { unrecordedEdit, unrecordedNote } from "./model/unrecorded.ts";
import type { RecordDetails, ReleaseEnvironment } from "./ports/index.ts";
import { trafficStack } from "./release-stacks.ts";
import { withRetries } from "./retry.ts";

/** Refuses to change an environment whose last deploy did not finish. */
export function refusePending(r: Release): void {
  if (r.pending) {
    throw new RefusedError(
      `${r.environment}: the deploy of ${r.pending.stacks.join(", ")} by ` +
        `'${r.pending.command}' (since ${r.pending.since}) did not finish; run 'envctl reconcile ${r.environment}' first`,
    );
  }
}

/** One deploy under the protocol. */
export interface MarkedDeploy {
  /** The state on disk (read under the lock). */
  readonly current: Release;
  /** The state to deploy (its `pending` is replaced). */
  readonly next: Release;
  /** The marker written with `next` while the deploy runs. */
  readonly pending: Pending;
  /** The final record's outcome (`deployed`, `rolled-back`, `reconciled`, ...). */
  readonly outcome: string;
  /** What the final (and a failure's) record says the change started from; default: `current`. */
  readonly from?: Release;
  /** The final record's analysis and note (the note also goes on the marker's record). */
  readonly record?: RecordDetails;
}

/** Writes the marker, deploys its stacks, then clears the marker; each write recorded. Call under the lock. */
export async function deployWithMarker(ctx: Context, env: string, d: MarkedDeploy): Promise<Release> {
  const record = withUnrecorded(d.current, d.record ?? {});
  const from = d.from ? { from: d.from } : {};
  const marked = ctx.store.commit(
    d.current,
    { ...d.next, pending: d.pending },
    { change: change(ctx), outcome: "deploying", ...(record.note ? { note: record.note } : {}) },
  );
  const stacks = d.pending.stacks;
  try {
    await ctx.progress.step(`deploy ${stacks.join(" ")}`, (log) => ctx.deployer.deploy(stacks, log));
  } catch (err) {
    // The evidence of the decision stays in the history even when its deploy fails.
    ctx.store.commit(marked, marked, {
      change: change(ctx),
      outcome: "deploy-failed",
      ...from,
      ...(record.analysis ? { analysis: record.analysis } : {}),
      note: (err as Error).message,
    });
    throw new DeployFailedError(env, err as Error);
  }
  if (d.next.maintenance?.allowHeader && stacks.includes(trafficStack(environment(ctx, env))))
    await syncBypass(ctx, environment(ctx, env));
  return ctx.store.commit(
    marked,
    { ...d.next, pending: null },
    { change: change(ctx), outcome: d.outcome, ...from, ...record },
  );
}

/**
 * The header bypass is envctl's own rule (the traffic stack cannot hold its secret value): after a
 * deploy moved the weights, it forwards with them again. A failure only concerns testers: noted.
 */
export async function syncBypass(ctx: Context, e: ReleaseEnvironment): Promise<void> {
  try {
    if (await withRetries(2, () => ctx.maintenance(e).syncBypass(), ctx.clock))
      ctx.progress.info(`${e.name}: the maintenance bypass header forwards with the weighted rule's weights`);
  } catch (err) {
    ctx.progress.info(
      `${e.name}: could not bring the maintenance bypass header's rule to the new weights (${describeCause(err)}): ` +
        `run 'envctl maintenance ${e.name} on' with the same options again`,
    );
  }
}

/** The record's note, naming an edit of the file that no record accounts for. */
function withUnrecorded(current: Release, record: RecordDetails): RecordDetails {
  const edit = unrecordedEdit(current);
  if (!edit) return record;
  const note = unrecordedNote(current, edit);
  return { ...record, note: record.note ? `${record.note}; ${note}` : note };
}

/** The marker of a change from `before` by this command. */
export function markerFor(ctx: Context, before: Release, stacks: readonly string[]): Pending {
  return {
    stacks: [...stacks],
    command: ctx.command,
    since: ctx.clock.now().toISOString(),
    previous: { ...before, pending: null },
  };
}

/** Deploys `after` (a change from `before`) under the protocol. */
export function deployChange(
  ctx: Context,
  env: string,
  before: Release,
  after: Release,
  stacks: readonly string[],
  outcome: string,
  record: RecordDetails = {},
): Promise<Release> {
  return deployWithMarker(ctx, env, {
    current: before,
    next: after,
    pending: markerFor(ctx, before, stacks),
    outcome,
    from: before,
    record,
  });
}

/**
 * Applies one transition to an environment's release file and deploys `stacks`. Must run under the
 * environment's lock. A transition that changes nothing writes nothing and deploys nothing.
 * Returns the new state (the old one on --dry-run or no change).
 */
export async function applyTransition(
  ctx: Context,
  env: string,
  stacks: readonly string[],
  transition: (r: Release) => Release,
  outcome = "deployed",
  record: RecordDetails = {},
): Promise<Release> {
  const before = ctx.store.load(env);
  refusePending(before);
  const after = transition(before);
  const deploying = ctx.options.deploy && stacks.length > 0;
  if (core.sameState(before, after)) {
    // The file already says so; a traffic change may still be waiting for its deploy (--no-deploy earlier).
    const e = environment(ctx, env);
    const observed =
      deploying && !ctx.options.dryRun && stacks.includes(trafficStack(e)) ? await observedWeights(ctx, e) : undefined;
    if (observed === undefined || core.sameWeights(observed, weightsOf(before))) {
      ctx.progress.info(`${env}: nothing to change`);
      return before;
    }
    ctx.progress.info(
      `${env}: the release file already says ${formatWeights(weightsOf(before))}, but the ALB serves ${formatWeights(observed)}: deploying ${stacks.join(" ")}`,
    );
    const edit = unrecordedEdit(before);
    await ctx.approve(e, {
      summary: `${ctx.command}: deploy the release file's ${formatWeights(weightsOf(before))} (the ALB serves ${formatWeights(observed)})`,
      ...(edit ? { diff: `# ${unrecordedNote(before, edit)}\n` } : {}),
      stacks,
    });
    return deployChange(ctx, env, before, after, stacks, outcome, {
      note: `the ALB served ${formatWeights(observed)}`,
    });
  }
  if (ctx.options.dryRun) {
    showDeployDryRun(ctx, { env, before, after, stacks });
    return before;
  }
  const edit = unrecordedEdit(before);
  if (edit)
    ctx.progress.info(`${env}: this change ${unrecordedNote(before, edit)}; its approval and its record say so`);
  if (deploying)
    await ctx.approve(environment(ctx, env), { summary: ctx.command, diff: releaseDiff(env, before, after), stacks });
  if (!deploying)
    return ctx.store.commit(before, after, {
      change: change(ctx),
      outcome: stacks.length === 0 ? outcome : "edited",
      ...withUnrecorded(before, record),
    });
  return deployChange(ctx, env, before, after, stacks, outcome, record);
}

/** What the ALB serves now, or undefined (with a note) when it cannot be read or nothing deploys. */
export async function observedWeights(ctx: Context, e: ReleaseEnvironment): Promise<Weights | undefined> {
  if (!ctx.options.deploy || ctx.options.dryRun) return undefined;
  try {
    return (await withRetries(2, () => ctx.traffic(e).read(), ctx.clock)).weights;
  } catch (err) {
    ctx.progress.info(`${e.name}: could not read the ALB's weights (${describeCause(err)}); going by the release file`);
    return undefined;
  }
}
