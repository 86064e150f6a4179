/** The traffic a scheduled rollout can count on, from the load balancer's history (`envctl schedule list`). */
import { quietestHour, windowHours, windowLabel } from "../judge/traffic-plan.ts";
import { describeCause } from "../model/errors.ts";
import type { ReleaseEnvironment } from "../ports/index.ts";
import { HISTORY_DAYS, type PlanPorts, readHistory } from "./plan.ts";

/**
 * The traffic a rollout starting at `at` and lasting `seconds` is sure to get: the quietest hour of
 * the last 7 days among its hours of the day (`envctl schedule list`); null with the reason when the
 * history cannot be read or holds none of those hours.
 */
export async function quietestAt(
  ctx: PlanPorts,
  e: ReleaseEnvironment,
  at: Date,
  seconds: number,
): Promise<{ rps: number; hour: string } | { unknown: string }> {
  try {
    const quiet = quietestHour(await readHistory(ctx, e), windowHours(at, seconds), ctx.clock.now());
    if (!quiet)
      return { unknown: `no whole hour of the ${windowLabel(at, seconds)} window in the last ${HISTORY_DAYS} days` };
    return { rps: quiet.rps, hour: `${quiet.start.toISOString().slice(0, 13)}:00 UTC` };
  } catch (err) {
    return { unknown: `CloudWatch could not be read (${describeCause(err)})` };
  }
}
