/**
 * Where settings and secrets live on AWS, shared by the stacks (which create them), envctl
 * (which writes secret values and reads both back) and the tests. Plain values: importing this
 * file loads no provider binding.
 */
import type { Slot } from "../config/schema.ts";

/** Secrets Manager name of one secret of one environment: `<project>/<env>/<NAME>`. */
export function secretName(project: string, env: string, name: string): string {
  return `${project}/${env}/${name}`;
}

/** Prefix of an environment's secret names (for listing). */
export function secretPrefix(project: string, env: string): string {
  return `${project}/${env}/`;
}

/** SSM path of one slot's settings (EC2): one String parameter per key below it. */
export function slotSettingsPath(project: string, env: string, slot: Slot): string {
  return `/${project}/${env}/slots/${slot}/`;
}

/** SSM path of an environment's secret ARNs (EC2): one String parameter per secret, named like it, holding its ARN. */
export function secretArnsPath(project: string, env: string): string {
  return `/${project}/${env}/secrets/`;
}
