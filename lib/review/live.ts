/**
 * What runs, for `envctl status --live`: the weights the ALB's weighted rule serves and the target
 * health per slot (lib/aws/traffic.ts), and the canary gate's alarms of both slots. Each part is
 * read on its own; a part that cannot be read is reported as unreadable (shown as unknown),
 * never guessed.
 */
import { describeAwsError } from "../aws/clients.ts";
import type { TrafficApi } from "../aws/traffic.ts";
import { SLOTS, type Slot } from "../config/schema.ts";
import { slotAlarmNames } from "../constructs/naming.ts";
import type { AlarmReader } from "../release/gate.ts";
import type { AlarmState, LiveObservation, TargetHealth, Unreadable } from "../release/views.ts";

export interface LiveSources {
  readonly traffic: TrafficApi;
  readonly alarms: AlarmReader;
}

async function part<T>(fn: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await fn();
  } catch (err) {
    return { error: describeAwsError(err) };
  }
}

const ALARM_STATES = new Set(["OK", "ALARM", "INSUFFICIENT_DATA"]);

/** One observation of `env` at `now`. */
export async function observe(env: string, sources: LiveSources, now: Date): Promise<LiveObservation> {
  const weights = part(async () => (await sources.traffic.read()).weights);
  const health = part(async () => {
    const h = await sources.traffic.health();
    return Object.fromEntries(SLOTS.map((s) => {
      const states = h[s].states;
      const other = Object.entries(states).filter(([k]) => k !== "healthy" && k !== "unhealthy").reduce((a, [, n]) => a + n, 0);
      return [s, { healthy: h[s].healthy, unhealthy: h[s].unhealthy, other }];
    })) as Record<Slot, TargetHealth>;
  });
  const alarms = part(async () => {
    const names = SLOTS.flatMap((slot) => slotAlarmNames(env, slot).map((name) => ({ name, slot })));
    const read = await sources.alarms.read(names.map((n) => n.name));
    const state = new Map(read.states.map((s) => [s.name, s.state]));
    return names.map(({ name, slot }) => {
      const s = state.get(name);
      return { name, slot, state: (s === undefined ? "missing" : ALARM_STATES.has(s) ? s : "INSUFFICIENT_DATA") as AlarmState };
    });
  });
  return { observedAt: now.toISOString(), weights: await weights, health: await health, alarms: await alarms };
}
