/**
 * The names that tie the constructs to the code that reads them back (envctl, the rollout gate, the
 * reviewers' tools): one place, no provider imports, so the readers load fast.
 */
import type { Slot } from "../config/schema.ts";

/** Header that pins a request to one slot, whatever the weights: `X-Release-Slot: green`. */
export const SLOT_HEADER = "X-Release-Slot";

/** Priority of the weighted rule: after the per-slot test routes (10, 11). */
export const WEIGHTED_RULE_PRIORITY = 100;

/**
 * Priorities of the maintenance rules, ahead of the weighted rule: the traffic stack's (`stack`)
 * and the direct write's (`fast`, what `envctl maintenance` puts on the listener at once, removed
 * once the deploy has converged). In each band the bypasses (testers' CIDRs, their header) come
 * before the page. The slots' test routes (10, 11) stay ahead of both.
 */
export const MAINTENANCE_PRIORITIES = {
  fast: { cidr: 40, header: 41, page: 42 },
  stack: { cidr: 50, header: 51, page: 52 },
} as const;

/** Every maintenance priority of a band (or both). */
export function maintenancePriorities(band?: "fast" | "stack"): number[] {
  const bands = band ? [MAINTENANCE_PRIORITIES[band]] : [MAINTENANCE_PRIORITIES.fast, MAINTENANCE_PRIORITIES.stack];
  return bands.flatMap((b) => [b.cidr, b.header, b.page]);
}

/** The maintenance page's status code and content type (a fixed response of the ALB). */
export const MAINTENANCE_STATUS_CODE = "503";
export const MAINTENANCE_CONTENT_TYPE = "text/html";

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

/** The bootstrap stack of an account (its state bucket): `bootstrap-<account id>`. */
/** The EKS cluster of an environment (lib/constructs/eks/cluster.ts): envctl describes it and makes its tokens for it. */
export function eksClusterName(namePrefix: string): string {
  return `${namePrefix}-eks`;
}

export function bootstrapStackName(accountId: string): string {
  return `bootstrap-${accountId}`;
}

/** Name of a slot's Auto Scaling group on EC2: `<env>-app-<slot>` (its instances carry it as `aws:autoscaling:groupName`). */
export function slotGroupName(namePrefix: string, slot: Slot): string {
  return `${namePrefix}-app-${slot}`;
}

/** The SSM document envctl runs database commands with on an EC2 environment's instances: `<env>-envctl-database`. */
export function databaseRunnerDocument(namePrefix: string): string {
  return `${namePrefix}-envctl-database`;
}
