/**
 * What the console needs from envctl: the project on disk and the release actions, run exactly as
 * the envctl commands run them (the composition root of lib/cli builds each action's context: locks,
 * the caller's identity and account check, approvals, notifications, the history). The console only
 * validates, schedules and shows; lib/cli/commands/ui.ts implements this interface.
 */

import type { Problem } from "../config/errors.ts";
import type { Project } from "../config/load.ts";
import type { Progress } from "../release/ports/index.ts";
import type { PlanRequest, TrafficPlan } from "../release/rollout/plan.ts";
import type { LiveObservation } from "../review/live.ts";

/** One action of the API, validated. `confirm`: the environment's name typed again (production). */
export type Action =
  | { readonly kind: "promote"; readonly from: string; readonly to: string; readonly version?: string }
  | { readonly kind: "shift"; readonly env: string; readonly to: "blue" | "green"; readonly percent: number }
  | {
      readonly kind: "rollout";
      readonly env: string;
      readonly continue: boolean;
      /** The traffic plan's inputs (`envctl rollout --rps --error-rate`); default: the ALB's history. */
      readonly rps?: number;
      readonly errorRate?: number;
    }
  | { readonly kind: "abort"; readonly env: string }
  | { readonly kind: "rollback"; readonly env: string }
  | { readonly kind: "approve"; readonly env: string; readonly changeId: string }
  | {
      readonly kind: "maintenance";
      readonly env: string;
      readonly state: "on" | "off";
      readonly message?: string;
      readonly allowCidrs?: readonly string[];
    };

/** The environment an action changes (promote: its target). */
export const targetOf = (a: Action): string => (a.kind === "promote" ? a.to : a.env);

/** How an action ended, as the console reports it (the CLI's exit code, its words and problems). */
export type ActionOutcome =
  | { readonly ok: true; readonly exitCode: 0; readonly output: readonly string[] }
  | {
      readonly ok: false;
      /** envctl's exit code for the same failure (lib/cli/exit-codes.ts). */
      readonly exitCode: number;
      readonly message: string;
      /** The problems of invalid input, each naming its environment, field and rule. */
      readonly problems: readonly Problem[];
    };

/** What an action runs with: its progress lines, and the signal that interrupts it (Pause). */
export interface ActionIo {
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** The typed confirmation was given: production's prompt is answered. */
  readonly confirmed: boolean;
}

/** One slot's sums in one period. */
export interface SlotSums {
  readonly requests: number;
  readonly target5xx: number;
  readonly p99Seconds: number | null;
}

export interface RecentMetrics {
  readonly start: string;
  readonly end: string;
  readonly periodSeconds: number;
  readonly totals: Record<"blue" | "green", SlotSums>;
  readonly periods: readonly { readonly start: string; readonly blue: SlotSums; readonly green: SlotSums }[];
}

export interface ReleaseCore {
  /** The project, loaded afresh (every environment). */
  load(): Promise<Project>;
  now(): Date;
  /** Who runs the console: the history records the console's actions as this person's, as envctl would. */
  actor(): string;
  /**
   * What runs now (`envctl status --live`): the ALB's weights, target health per slot, the gate's
   * alarms, EKS Deployments; each part that cannot be read is `{ error }`, never shown as fine.
   * Read through the release's ports (the AWS adapters load on first use). Undefined: no such environment.
   */
  observe(env: string): Promise<LiveObservation | undefined>;
  /**
   * The last hour of the load balancer's metrics per slot (requests, target 5xx, p99) in 5-minute
   * periods, read through the release's ports (the ALB rule for the dimensions, then CloudWatch);
   * `{ error }` when they cannot be read. Undefined: no such environment.
   */
  metrics(env: string): Promise<RecentMetrics | { error: string } | undefined>;
  /**
   * The traffic plan of the environment's rollout (`envctl analysis plan`): from `req` (the rate the
   * rollout was started with), else the load balancer's history; `{ error }` when it cannot be made.
   * Undefined: no such environment.
   */
  plan(env: string, req: PlanRequest): Promise<TrafficPlan | { error: string } | undefined>;
  /** Runs one action as the envctl command would; never throws (a failure is an outcome). */
  run(action: Action, io: ActionIo): Promise<ActionOutcome>;
}
