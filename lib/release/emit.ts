/**
 * Emitting a release event: the payload (./events.ts) handed to the Notifier port, which queues it
 * and returns at once. Called after the change it reports (a mitigation's after the ALB is written).
 */
import type { Context } from "./command-context.ts";
import { eventPayload, type NotifyEvent, type NotifySeverity } from "./model/events.ts";
import type { Release } from "./model/release.ts";
import type { Weights } from "./model/slots.ts";

export interface Emitted {
  readonly reason: string;
  readonly release?: Pick<Release, "live" | "slots"> | null;
  readonly weights?: Weights;
  readonly evidence?: string | null;
  readonly severity?: NotifySeverity;
}

/** Queues the event for the environment's notification targets; never throws, never waits. */
export function emit(
  ctx: Pick<Context, "notifier" | "clock" | "actor" | "command" | "link">,
  env: string,
  event: NotifyEvent,
  e: Emitted,
): void {
  try {
    ctx.notifier.send(
      eventPayload({
        event,
        environment: env,
        at: ctx.clock.now().toISOString(),
        by: ctx.actor,
        command: ctx.command,
        link: ctx.link ?? null,
        ...e,
      }),
    );
  } catch {
    // A notification never fails the release (the notifier records its own failures).
  }
}
