import type { Construct } from "constructs";
import type { AccountConfig } from "../config/schema/account.ts";
import { EnvironmentsDashboard } from "../constructs/environments-dashboard.ts";
import { BaseStack } from "./base-stack.ts";
import type { EnvironmentStack } from "./environment-stack.ts";
import type { Target } from "./target.ts";

export interface GlobalStackProps {
  readonly project: string;
  readonly region: string;
  readonly target: Target;
  /** The account of the dashboard: the first environment's (lib/stacks/app.ts). */
  readonly account: AccountConfig;
  readonly tags: Record<string, string>;
  /** Every environment's infrastructure stack, by name order. */
  readonly environments: { name: string; stack: EnvironmentStack }[];
}

/** `global`: what spans environments — the cross-environment dashboard. */
export class GlobalStack extends BaseStack {
  constructor(scope: Construct, props: GlobalStackProps) {
    super(scope, "global", props);
    new EnvironmentsDashboard(this, "environments", {
      name: `${props.project}-environments`,
      region: props.region,
      environments: props.environments.map(({ name, stack }) => ({
        name,
        loadBalancerArnSuffix: stack.loadBalancer.alb.arnSuffix,
        autoScalingGroupNames: stack.autoScalingGroupNames,
      })),
    });
  }
}
