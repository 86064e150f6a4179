/**
 * The names that tie the constructs to the code that reads them back (envctl, the rollout gate, the
 * reviewers' tools): one place, no provider imports, so the readers load fast.
 */
import type { Slot } from "../config/schema.ts";

/** Header that pins a request to one slot, whatever the weights: `X-Release-Slot: green`. */
export const SLOT_HEADER = "X-Release-Slot";

/** Priority of the weighted rule: after the per-slot test routes (10, 11). */
export const WEIGHTED_RULE_PRIORITY = 100;

/** Name of an environment's load balancer: `<env>-alb`. */
export function loadBalancerName(namePrefix: string): string {
  return `${namePrefix}-alb`;
}

/** Name of a slot's target group: `<env>-app-<slot>`. */
export function targetGroupName(namePrefix: string, slot: Slot): string {
  return `${namePrefix}-app-${slot}`;
}

/** The slot of a target group ARN (`…:targetgroup/<env>-app-<slot>/<id>`), if it is one of ours. */
export function slotOfTargetGroupArn(arn: string): Slot | undefined {
  return /-app-(blue|green)\//.exec(arn)?.[1] as Slot | undefined;
}

/**
 * Names of the alarms that gate a canary of `slot`: the rollout reads exactly these. The
 * monitoring construct creates them under the same names, so the two cannot drift apart.
 */
export function slotAlarmNames(env: string, slot: Slot): string[] {
  return [`${env}-app-${slot}-5xx-rate`, `${env}-app-${slot}-p99-latency`, `${env}-app-${slot}-unhealthy-hosts`];
}

/** Identifier of an environment's database instance: `<env>-postgres` (what `envctl restore` restores beside). */
export function databaseIdentifier(namePrefix: string): string {
  return `${namePrefix}-postgres`;
}
