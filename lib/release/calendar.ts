/**
 * The release calendar as commands meet it: `rollout`, `promote` and `shift` outside a window or
 * inside a freeze are refused, naming the next opening; a rollout that could not finish before the
 * window closes is refused before it starts; `--break-glass <reason>` overrides, with the
 * environment's approvals plus one, recorded in the history and notified. Mitigations (rollback,
 * abort, maintenance) never call this. The judge of a moment is pure: ./gates/calendar.ts.
 */
import { type Context, change } from "./command-context.ts";
import { emit } from "./emit.ts";
import { type CalendarState, calendarAt, fitsWindow, hasCalendar, localTime, windowsText } from "./gates/calendar.ts";
import { rolloutSeconds } from "./judge/traffic-plan.ts";
import type { Calendar } from "./model/calendar.ts";
import { RefusedError } from "./model/errors.ts";
import type { CanaryStep } from "./model/policy.ts";
import type { ReleaseEnvironment } from "./ports/index.ts";

/** The calendar of an environment's release policy. */
export function calendarOf(e: ReleaseEnvironment): Calendar {
  return { ...(e.release.windows ? { windows: e.release.windows } : {}), freezes: e.release.freezes };
}

/** Seconds a rollout of `steps` runs: bakes, timed pauses and the post-switch watch. */
export function rolloutDuration(e: ReleaseEnvironment, steps: readonly CanaryStep[], bakeSeconds?: number): number {
  return rolloutSeconds(steps, bakeSeconds) + e.release.analysis.postSwitchWatchSeconds;
}

const minutes = (s: number) => (s < 120 ? `${s} s` : `${Math.round(s / 60)} min`);

/** Why the calendar refuses `what` now, or undefined when it may run. */
export function calendarRefusal(cal: Calendar, now: Date, what: string, seconds = 0): string | undefined {
  if (!hasCalendar(cal)) return undefined;
  const state: CalendarState = calendarAt(cal, now);
  if (!state.open) {
    const next = state.nextOpening ? `; next opening ${localTime(cal, state.nextOpening)}` : "; no opening ahead";
    return `${what} refused: ${state.reason}${next}`;
  }
  if (seconds > 0 && !fitsWindow(state, now, seconds)) {
    const left = Math.max(0, Math.floor((state.closesAt!.getTime() - now.getTime()) / 1000));
    return (
      `${what} refused: it needs ${minutes(seconds)} of bakes and pauses, and the window closes at ` +
      `${localTime(cal, state.closesAt!)}, in ${minutes(left)} (${windowsText(cal)}); ` +
      "start it early in a window, or shorten the bakes with --bake (the plan must still reach a verdict)"
    );
  }
  return undefined;
}

/**
 * Refuses `what` outside the calendar, unless the command runs with `--break-glass <reason>`:
 * then it asks for the approvals plus one and records and notifies the override.
 */
export async function calendarGate(
  ctx: Context,
  e: ReleaseEnvironment,
  what: string,
  opts: { readonly seconds?: number; readonly stacks: readonly string[] },
): Promise<void> {
  const refusal = calendarRefusal(calendarOf(e), ctx.clock.now(), `${e.name}: ${what}`, opts.seconds);
  if (refusal === undefined) return;
  const reason = ctx.options.breakGlass;
  if (reason === undefined)
    throw new RefusedError(
      `${refusal}. Nothing was changed. Outside the calendar only with --break-glass "<reason>" ` +
        "(the environment's approvals plus one; recorded and notified)",
    );
  if (ctx.options.dryRun) {
    ctx.progress.info(`${refusal}; --break-glass would override it ("${reason}")`);
    return;
  }
  await ctx.approve(e, { summary: `BREAK-GLASS ${what}: ${reason}`, stacks: opts.stacks, breakGlass: reason });
  ctx.progress.info(`${e.name}: break-glass: ${refusal}; overridden by ${change(ctx).by}: ${reason}`);
  ctx.store.note?.(e.name, {
    kind: "break-glass",
    at: ctx.clock.now().toISOString(),
    by: change(ctx).by,
    command: ctx.command,
    refusal,
    reason,
  });
  emit(ctx, e.name, "break-glass", {
    reason: `${what} outside the release calendar by ${change(ctx).by}: ${reason}`,
    release: ctx.store.load(e.name),
    evidence: refusal,
  });
}
