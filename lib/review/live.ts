/**
 * What runs, for `envctl status --live`: the weights the ALB's weighted rule serves and the target
 * health per slot, and the canary gate's alarms of both slots. Each part is
 * read on its own; a part that cannot be read is reported as unreadable (shown as unknown),
 * never guessed.
 */

import { slotAlarmNames } from "../constructs/naming.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import { describeCause } from "../release/model/errors.ts";
import type { AlarmStates, MaintenanceRules, SlotWorkload, Traffic, Workloads } from "../release/ports/index.ts";

/** What is read (lib/aws/traffic.ts and lib/aws/alarms.ts, wired by lib/cli). */
export interface LiveSources {
  readonly traffic: Pick<Traffic, "read"> & {
    health(): Promise<
      Record<Slot, { readonly healthy: number; readonly unhealthy: number; readonly states: Record<string, number> }>
    >;
  };
  readonly alarms: { read(names: readonly string[]): Promise<AlarmStates> };
  /** The maintenance rules of the listener (lib/aws/maintenance.ts); not read when absent. */
  readonly maintenance?: { read(): Promise<MaintenanceRules> };
  /** EKS: the slots' Deployments (lib/kube/workloads.ts); absent for EC2 environments. */
  readonly workloads?: Workloads;
}

/** A part of the live observation that could not be read: shown as unknown, never as fine. */
export interface Unreadable {
  readonly error: string;
}

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA" | "missing";

/** Registered targets of a slot's target group by health. */
export interface TargetHealth {
  readonly healthy: number;
  readonly unhealthy: number;
  /** initial, draining, unused, unavailable. */
  readonly other: number;
}

/** What runs, read from AWS at `observedAt`: the ALB's weights, target health, the gate's alarms. */
export interface LiveObservation {
  readonly observedAt: string;
  readonly weights: Record<Slot, number> | Unreadable;
  readonly health: Record<Slot, TargetHealth> | Unreadable;
  /** The gate's alarms of both slots (slotAlarmNames), in that order. */
  readonly alarms: readonly { name: string; slot: Slot; state: AlarmState }[] | Unreadable;
  /** The listener's maintenance rules; undefined when not read. */
  readonly maintenance?: MaintenanceRules | Unreadable;
  /** EKS: each slot's Deployment (null: none); undefined for EC2 environments. */
  readonly workloads?: Record<Slot, SlotWorkload | null> | Unreadable;
}

export const isUnreadable = (x: unknown): x is Unreadable => typeof x === "object" && x !== null && "error" in x;

async function part<T>(fn: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await fn();
  } catch (err) {
    return { error: describeCause(err) };
  }
}

const ALARM_STATES = new Set(["OK", "ALARM", "INSUFFICIENT_DATA"]);

/** One observation of `env` at `now`. */
export async function observe(env: string, sources: LiveSources, now: Date): Promise<LiveObservation> {
  const weights = part(async () => (await sources.traffic.read()).weights);
  const health = part(async () => {
    const h = await sources.traffic.health();
    return Object.fromEntries(
      SLOTS.map((s) => {
        const states = h[s].states;
        const other = Object.entries(states)
          .filter(([k]) => k !== "healthy" && k !== "unhealthy")
          .reduce((a, [, n]) => a + n, 0);
        return [s, { healthy: h[s].healthy, unhealthy: h[s].unhealthy, other }];
      }),
    ) as Record<Slot, TargetHealth>;
  });
  const alarms = part(async () => {
    const names = SLOTS.flatMap((slot) => slotAlarmNames(env, slot).map((name) => ({ name, slot })));
    const read = await sources.alarms.read(names.map((n) => n.name));
    const state = new Map(read.states.map((s) => [s.name, s.state]));
    return names.map(({ name, slot }) => {
      const s = state.get(name);
      return {
        name,
        slot,
        state: (s === undefined ? "missing" : ALARM_STATES.has(s) ? s : "INSUFFICIENT_DATA") as AlarmState,
      };
    });
  });
  const workloads = sources.workloads ? part(() => sources.workloads!.read()) : undefined;
  const maintenance = sources.maintenance ? await part(() => sources.maintenance!.read()) : undefined;
  return {
    observedAt: now.toISOString(),
    weights: await weights,
    health: await health,
    alarms: await alarms,
    ...(maintenance ? { maintenance } : {}),
    ...(workloads !== undefined ? { workloads: await workloads } : {}),
  };
}
