/**
 * The load balancer's traffic history as the traffic plan reads it, as pure functions: how long a
 * rollout runs, the hours of the day it runs in, the quietest hour among them, the history's error rate.
 */

/** One hour of the load balancer's traffic (lib/release/ports/index.ts HourlyTraffic). */
export interface HourSample {
  readonly start: Date;
  readonly requests: number;
  readonly errors: number;
}

const HOUR = 3_600_000;

/** Seconds a rollout takes: its bakes (`bakeOverride` replaces each) and timed pauses; a manual pause adds none. */
export function rolloutSeconds(
  steps: readonly (
    | { readonly percent: number; readonly bakeSeconds: number }
    | { readonly pause: "manual" | number }
  )[],
  bakeOverride?: number,
): number {
  return steps.reduce(
    (sum, s) => sum + ("percent" in s ? (bakeOverride ?? s.bakeSeconds) : s.pause === "manual" ? 0 : s.pause),
    0,
  );
}

/** The hours of the day (UTC, 0-23) a rollout from `from` lasting `seconds` runs in, wrapping at midnight; every hour from 24 h on. */
export function windowHours(from: Date, seconds: number): number[] {
  if (seconds >= 86_400) return Array.from({ length: 24 }, (_, h) => h);
  const first = from.getUTCHours();
  // The hour the rollout ends in counts only when it runs into it (one ending at 11:00 sharp runs in 10:00's).
  const last =
    Math.floor((from.getTime() + Math.max(0, seconds * 1000 - 1)) / HOUR) - Math.floor(from.getTime() / HOUR);
  return Array.from({ length: last + 1 }, (_, k) => (first + k) % 24);
}

/** "14:00–15:10 UTC", or "any hour" for a rollout of 24 h or more. */
export function windowLabel(from: Date, seconds: number): string {
  if (seconds >= 86_400) return "any hour (the rollout takes 24 h or more)";
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  return `${hhmm(from)}–${hhmm(new Date(from.getTime() + seconds * 1000))} UTC`;
}

/**
 * The quietest whole hour of the history among the hours of the day in `hours` (UTC): the hour a
 * rollout in that window is sure to get at least. Hours from the first sample to `end` without one
 * had no requests (the load balancer publishes none then); hours before the first sample are unknown.
 * Null when no sample falls in those hours.
 */
export function quietestHour(
  history: readonly HourSample[],
  hours: readonly number[],
  end: Date,
): { start: Date; requests: number; rps: number } | null {
  if (history.length === 0) return null;
  const byStart = new Map<number, number>();
  for (const h of history)
    byStart.set(
      Math.floor(h.start.getTime() / HOUR) * HOUR,
      (byStart.get(Math.floor(h.start.getTime() / HOUR) * HOUR) ?? 0) + h.requests,
    );
  const first = Math.min(...byStart.keys());
  const wanted = new Set(hours);
  let best: { start: Date; requests: number; rps: number } | null = null;
  // Only whole hours: the one `end` falls in is still filling.
  for (let t = first; t + HOUR <= end.getTime(); t += HOUR) {
    if (!wanted.has(new Date(t).getUTCHours())) continue;
    const requests = byStart.get(t) ?? 0;
    if (!best || requests < best.requests) best = { start: new Date(t), requests, rps: requests / 3600 };
  }
  return best;
}

/** The history's error rate (target 5xx per request), percent; null without requests. */
export function historyErrorRatePercent(history: readonly HourSample[]): number | null {
  const requests = history.reduce((a, h) => a + h.requests, 0);
  return requests > 0 ? (100 * history.reduce((a, h) => a + h.errors, 0)) / requests : null;
}
