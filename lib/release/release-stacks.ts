/** Which stacks a release command deploys, per compute kind. */
import type { ReleaseEnvironment } from "./ports/index.ts";

/** The stack carrying the weighted rule: shifts, rollouts and rollbacks deploy only this. */
export function trafficStack(env: Pick<ReleaseEnvironment, "name">): string {
  return `${env.name}-traffic`;
}

/** The stack where slot versions live: the infrastructure stack on EC2, the workloads stack on EKS. */
export function stacksForPromotion(env: Pick<ReleaseEnvironment, "name" | "compute">): string[] {
  return env.compute.kind === "eks" ? [`${env.name}-workloads`] : [env.name];
}
