import type { ReleaseEventPayload } from "../model/events.ts";
import type { Release } from "../model/release.ts";
import type { SlotSettings } from "../model/slots.ts";
import type { ReleaseEnvironment } from "./environments.ts";

// ----------------------------------------------------------- smoke checks

export type Fetch = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal; redirect: "manual" },
) => Promise<{ status: number; text(): Promise<string> }>;

/** HTTP for the smoke checks (lib/release/gates/smoke.ts). */
export interface SmokeDeps {
  readonly fetch: Fetch;
  readonly sleep: (ms: number) => Promise<void>;
}

/** {@link SmokeDeps} and the header that pins a request to one slot (`X-Release-Slot`, set by the load balancer construct). */
export interface SmokeClient extends SmokeDeps {
  readonly slotHeader: string;
}

// --------------------------------------------------------------- settings

/** The application settings a slot carries (lib/settings/release.ts). */
export interface SlotSettingsSource {
  /** The settings a slot staged into `env` now would carry; refuses when the tier requires a key the environment lacks. */
  forSlot(env: ReleaseEnvironment): SlotSettings | null;
  /** Refuses a promotion of `version` from `source` into `target` when the target lacks a key. */
  refuseMissing(source: ReleaseEnvironment, sourceRelease: Release, target: ReleaseEnvironment, version: string): void;
}

// ------------------------------------------------------ time, terminal, people

export interface Clock {
  now(): Date;
  /** Waits `ms`; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Progress of the steps (lib/cli/progress.ts: a live display on a terminal, timestamped lines in CI). */
export interface Progress {
  /** Runs one named step; `log` receives the step's output lines (e.g. the engine's). */
  step<T>(title: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T>;
  /** Waits `seconds`, showing the time left. */
  wait(title: string, seconds: number): Promise<void>;
  info(line: string): void;
}

/** What a person approves: a summary, the release-file diff and the stacks that will deploy. */
export interface Approval {
  readonly summary: string;
  readonly diff?: string;
  readonly stacks: readonly string[];
  /** A change outside the release calendar, and why: it needs the environment's approvals plus one. */
  readonly breakGlass?: string;
  /**
   * A scheduled change: approved when it is scheduled (`schedule`: its author is recorded in the
   * approvals ledger), judged by the ledger when it starts (`start`, in CI too: a cron run has no
   * review to read). Not part of the change's id.
   */
  readonly scheduled?: "schedule" | "start";
}

/** Asks for approval before a production change (shows what changes); throws to cancel. */
export type Approve = (env: ReleaseEnvironment, what: Approval) => Promise<void>;

// ----------------------------------------------------------- notifications

/**
 * Notifications of release events (lib/notify: Slack, webhooks, SNS). `send` queues the event for
 * the environment's targets and returns at once: it never throws and never waits for a receiver
 * (delivery retries with backoff and a timeout in the background; every delivery is recorded in
 * the environment's history). The CLI waits for queued deliveries, bounded, before it exits.
 */
export interface Notifier {
  send(event: ReleaseEventPayload): void;
}
