/**
 * Scheduled rollouts: `envctl schedule <env> <version> --at <time>` records a change to start
 * later (refused when the time falls outside the release calendar or the rollout could not finish
 * in its window); its approvals are asked for when it is scheduled and bound to the release's state
 * then. `envctl schedule run` (a cron job) starts what is due exactly once, even when two runs
 * overlap: the change is claimed under the environment's lock and recorded in the history first.
 * A change whose window passed, whose approvals are missing or whose environment changed since is
 * skipped, recorded and notified, never started late. A run also resumes the rollouts held at a
 * window's end once their calendar opens again.
 */
import { createHash } from "node:crypto";
import { calendarOf, calendarRefusal, rolloutDuration } from "./calendar.ts";
import { type Context, environment, locked } from "./command-context.ts";
import { promote, stage } from "./commands.ts";
import { emit } from "./emit.ts";
import { RefusedError } from "./model/errors.ts";
import type { Release } from "./model/release.ts";
import type { ScheduledChange, ScheduleFile } from "./model/schedule.ts";
import type { Approval, ReleaseEnvironment, ReleaseStore } from "./ports/index.ts";
import { stacksForPromotion, trafficStack } from "./release-stacks.ts";
import { rollout } from "./rollout/controller.ts";

type ScheduleStore = Required<Pick<ReleaseStore, "schedule" | "saveSchedule">>;

function scheduleStore(ctx: Context): ScheduleStore {
  const { schedule, saveSchedule } = ctx.store;
  if (!schedule || !saveSchedule) throw new RefusedError("this release store keeps no schedule");
  return { schedule: schedule.bind(ctx.store), saveSchedule: saveSchedule.bind(ctx.store) };
}

/** What approvers approve for a scheduled change: the same text when it is scheduled and when it starts. */
export function scheduledApproval(
  e: ReleaseEnvironment,
  c: ScheduledChange,
  phase: NonNullable<Approval["scheduled"]>,
): Approval {
  return {
    scheduled: phase,
    summary: `scheduled ${c.strategy} rollout of ${c.version} in ${e.name} at ${c.at} (${c.id}, from record ${c.baseSeq})`,
    stacks: [...new Set([...stacksForPromotion(e), trafficStack(e)])],
  };
}

export function scheduleIdOf(env: string, version: string, strategy: string, at: Date): string {
  return `s-${createHash("sha256").update(`${env}\n${version}\n${strategy}\n${at.toISOString()}`).digest("hex").slice(0, 8)}`;
}

/** Records a scheduled change; asks for its approvals now (a missing one is reported, not fatal). */
export async function scheduleChange(
  ctx: Context,
  env: string,
  req: { readonly version: string; readonly at: Date; readonly strategy: "canary" },
): Promise<ScheduledChange> {
  const e = environment(ctx, env);
  const store = scheduleStore(ctx);
  const now = ctx.clock.now();
  if (req.at.getTime() <= now.getTime())
    throw new RefusedError(`${env}: --at ${req.at.toISOString()} is not in the future (it is ${now.toISOString()})`);
  const seconds = rolloutDuration(e, e.release.canary);
  const refusal = calendarRefusal(calendarOf(e), req.at, `${env}: a rollout at ${req.at.toISOString()}`, seconds);
  if (refusal) throw new RefusedError(`${refusal}. Nothing was scheduled`);
  const release = ctx.store.load(env);
  const entry: ScheduledChange = {
    id: scheduleIdOf(env, req.version, req.strategy, req.at),
    version: req.version,
    strategy: req.strategy,
    at: req.at.toISOString(),
    by: ctx.actor,
    createdAt: now.toISOString(),
    baseSeq: release.lastChange?.seq ?? 0,
    estimatedSeconds: seconds,
    state: "scheduled",
  };
  if (ctx.options.dryRun) {
    ctx.out(`would schedule ${entry.id}: ${scheduledApproval(e, entry, "schedule").summary}; nothing was written`);
    return entry;
  }
  // Approvals first: an approver's `envctl approve` recomputes this command up to here, writing nothing.
  try {
    await ctx.approve(e, scheduledApproval(e, entry, "schedule"));
  } catch (err) {
    if (!(err instanceof RefusedError)) throw err;
    ctx.progress.info(`${env}: ${entry.id} is scheduled; its approvals are not complete yet: ${err.message}`);
  }
  await locked(ctx, env, async () => {
    const file = store.schedule(env);
    if (file.changes.some((c) => c.id === entry.id && c.state === "scheduled"))
      throw new RefusedError(`${env}: ${entry.id} is already scheduled (the same version, strategy and time)`);
    store.saveSchedule({ ...file, changes: [...file.changes, entry] });
  });
  return entry;
}

/** Cancels a scheduled change (only one that has not started). */
export async function cancelScheduled(ctx: Context, env: string, id: string): Promise<ScheduledChange> {
  environment(ctx, env);
  const store = scheduleStore(ctx);
  return locked(ctx, env, async () => {
    const file = store.schedule(env);
    const c = file.changes.find((x) => x.id === id);
    if (!c) throw new RefusedError(`${env}: no scheduled change ${id} (see 'envctl schedule list')`);
    if (c.state !== "scheduled")
      throw new RefusedError(`${env}: ${id} is ${c.state}, not scheduled: nothing to cancel`);
    const done = { ...c, state: "cancelled" as const, note: `cancelled by ${ctx.actor}`, updatedAt: iso(ctx) };
    if (!ctx.options.dryRun) store.saveSchedule(replace(file, done));
    return done;
  });
}

/** Every environment's scheduled changes (all states), soonest first. */
export function scheduledChanges(ctx: Context): { env: ReleaseEnvironment; change: ScheduledChange }[] {
  const store = scheduleStore(ctx);
  return ctx.environments
    .all()
    .flatMap((env) => store.schedule(env.name).changes.map((change) => ({ env, change })))
    .sort((a, b) => a.change.at.localeCompare(b.change.at));
}

export interface RunOutcome {
  readonly environment: string;
  readonly id: string;
  readonly outcome: "started" | "skipped" | "taken" | "resumed";
  readonly reason: string;
  readonly release?: Release;
}

/** Starts every due scheduled change once; skips (recorded, notified) what may not start. */
export async function runDue(ctx: Context): Promise<RunOutcome[]> {
  const now = ctx.clock.now();
  const outcomes: RunOutcome[] = [];
  for (const { env, change } of scheduledChanges(ctx)) {
    if (change.state !== "scheduled" || Date.parse(change.at) > now.getTime()) continue;
    outcomes.push(await runOne(ctx, env, change));
  }
  // Rollouts held at a window's end go on once their calendar opens again.
  for (const env of ctx.environments.all()) {
    const r = ctx.store.load(env.name);
    if (!r.rollout || r.lastChange?.outcome !== "window-hold") continue;
    const left = rolloutDuration(env, r.rollout.steps.slice(r.rollout.nextStep));
    if (calendarRefusal(calendarOf(env), now, env.name, left) || ctx.options.dryRun) continue;
    ctx.progress.info(`${env.name}: resuming the rollout of ${r.rollout.target} held at the last window's end`);
    const release = await rollout(ctx, env.name, {});
    outcomes.push({ environment: env.name, id: "held", outcome: "resumed", reason: "its window opened", release });
  }
  return outcomes;
}

async function runOne(ctx: Context, e: ReleaseEnvironment, c: ScheduledChange): Promise<RunOutcome> {
  const skip = (reason: string) => settle(ctx, e, c, "skipped", reason);
  const refusal = calendarRefusal(calendarOf(e), ctx.clock.now(), `${e.name}: ${c.id}`, c.estimatedSeconds);
  if (refusal) return skip(`its window passed: ${refusal}`);
  const seq = ctx.store.load(e.name).lastChange?.seq ?? 0;
  if (seq !== c.baseSeq)
    return skip(`${e.name} changed since it was scheduled (record ${c.baseSeq}, now ${seq}): schedule it again`);
  if (!ctx.options.dryRun) {
    try {
      await ctx.approve(e, scheduledApproval(e, c, "start"));
    } catch (err) {
      if (err instanceof RefusedError) return skip(`approvals missing: ${err.message}`);
      throw err;
    }
  }
  const claimed = await settle(ctx, e, c, "started", `started by ${ctx.actor}`);
  if (claimed.outcome !== "started" || ctx.options.dryRun) return claimed;
  const feeder = ctx.environments.all().find((x) => x.release.promotesTo.includes(e.name));
  if (feeder) await promote(ctx, feeder.name, e.name, { version: c.version });
  else await stage(ctx, e.name, { version: c.version });
  return { ...claimed, release: await rollout(ctx, e.name, {}) };
}

/** Moves a scheduled change to `state` under the lock, once: another run that got there first wins. */
async function settle(
  ctx: Context,
  e: ReleaseEnvironment,
  c: ScheduledChange,
  state: "started" | "skipped",
  reason: string,
): Promise<RunOutcome> {
  const store = scheduleStore(ctx);
  if (ctx.options.dryRun)
    return { environment: e.name, id: c.id, outcome: state, reason: `would be ${state} (dry run): ${reason}` };
  const taken = await locked(
    ctx,
    e.name,
    async () => {
      const file = store.schedule(e.name);
      const current = file.changes.find((x) => x.id === c.id);
      if (current?.state !== "scheduled") return true;
      store.saveSchedule(replace(file, { ...current, state, note: reason, updatedAt: iso(ctx) }));
      ctx.store.note?.(e.name, { kind: `schedule-${state}`, at: iso(ctx), id: c.id, version: c.version, reason });
      return false;
    },
    // Overlapping runs queue for the lock: the second then finds the change taken.
    Math.max(ctx.options.waitSeconds, 60),
  );
  if (taken) return { environment: e.name, id: c.id, outcome: "taken", reason: "another run took it first" };
  emit(ctx, e.name, state === "started" ? "schedule-started" : "schedule-skipped", {
    reason: `${c.id} (${c.version} at ${c.at}) ${state}: ${reason}`,
    release: ctx.store.load(e.name),
  });
  ctx.progress.info(`${e.name}: ${c.id} (${c.version}) ${state}: ${reason}`);
  return { environment: e.name, id: c.id, outcome: state, reason };
}

const iso = (ctx: Context) => ctx.clock.now().toISOString();

function replace(file: ScheduleFile, c: ScheduledChange): ScheduleFile {
  return { ...file, changes: file.changes.map((x) => (x.id === c.id ? c : x)) };
}
