/**
 * The release events that reach people (Slack, webhooks, SNS: lib/notify), as data. The release
 * emits them through the Notifier port (./ports.ts, ./emit.ts) after the change they describe (a rollback's after
 * the ALB is written); delivery never blocks or fails the release. Pure: the payload is a function
 * of the event and the release file.
 */
import { z } from "zod";
import type { Release } from "./release.ts";
import { type Weights, weightsOf } from "./slots.ts";

/** Every event a notification target can subscribe to. */
export const NOTIFY_EVENTS = [
  "promotion",
  "rollout-started",
  "step-passed",
  "gate-failed",
  "rollback",
  "abort",
  "paused",
  "migration",
  "restore",
  "drift-found",
  "drift-cleared",
  "maintenance-on",
  "maintenance-off",
  "break-glass",
  "window-hold",
  "schedule-started",
  "schedule-skipped",
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NotifyEventSchema = z.enum(NOTIFY_EVENTS, { error: `must be one of ${NOTIFY_EVENTS.join(", ")}` });

/** Severities, lowest first: a target's `minSeverity` drops what is below it. */
export const NOTIFY_SEVERITIES = ["info", "warning", "critical"] as const;
export type NotifySeverity = (typeof NOTIFY_SEVERITIES)[number];
export const NotifySeveritySchema = z.enum(NOTIFY_SEVERITIES, {
  error: `must be one of ${NOTIFY_SEVERITIES.join(", ")}`,
});

/** Each event's severity unless its emitter says otherwise (drift-found: by the drift's class). */
export const DEFAULT_SEVERITY: Record<NotifyEvent, NotifySeverity> = {
  promotion: "info",
  "rollout-started": "info",
  "step-passed": "info",
  "gate-failed": "critical",
  rollback: "critical",
  abort: "warning",
  paused: "info",
  migration: "info",
  restore: "warning",
  "drift-found": "warning",
  "drift-cleared": "info",
  "maintenance-on": "warning",
  "maintenance-off": "info",
  "break-glass": "critical",
  "window-hold": "warning",
  "schedule-started": "info",
  "schedule-skipped": "warning",
};

export function severityAtLeast(s: NotifySeverity, min: NotifySeverity): boolean {
  return NOTIFY_SEVERITIES.indexOf(s) >= NOTIFY_SEVERITIES.indexOf(min);
}

/** What every target receives (the webhook's JSON body; Slack and SNS get it as text too). */
export interface ReleaseEventPayload {
  readonly event: NotifyEvent;
  readonly severity: NotifySeverity;
  readonly environment: string;
  readonly at: string;
  /** Who, by which command. */
  readonly by: string;
  readonly command: string;
  /** What each slot runs and which is live (null: unknown, e.g. drift of an environment without a release file). */
  readonly versions: { readonly blue: string | null; readonly green: string | null; readonly live: string } | null;
  readonly weights: Weights | null;
  /** Why, in one line. */
  readonly reason: string;
  /** The analysis line (or drift list) behind it, when there is one. */
  readonly evidence: string | null;
  /** The run or the report to look at; null when none is known. */
  readonly link: string | null;
}

/** The payload of an event about `r` (the state after the change). */
export function eventPayload(e: {
  event: NotifyEvent;
  environment: string;
  at: string;
  by: string;
  command: string;
  reason: string;
  release?: Pick<Release, "live" | "slots"> | null;
  weights?: Weights;
  evidence?: string | null;
  severity?: NotifySeverity;
  link?: string | null;
}): ReleaseEventPayload {
  const r = e.release ?? null;
  return {
    event: e.event,
    severity: e.severity ?? DEFAULT_SEVERITY[e.event],
    environment: e.environment,
    at: e.at,
    by: e.by,
    command: e.command,
    versions: r ? { blue: r.slots.blue.version, green: r.slots.green.version, live: r.live } : null,
    weights: e.weights ?? (r ? weightsOf(r) : null),
    reason: e.reason,
    evidence: e.evidence ?? null,
    link: e.link ?? null,
  };
}
