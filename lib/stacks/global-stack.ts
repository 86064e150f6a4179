import { DataTerraformRemoteStateLocal, DataTerraformRemoteStateS3, TerraformOutput, type TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AccountConfig } from "../config/schema/account.ts";
import type { Environment } from "../config/schema.ts";
import { EnvironmentsDashboard } from "../constructs/environments-dashboard.ts";
import { SLOTS } from "../core/primitives.ts";
import { BaseStack, stateBackend } from "./base-stack.ts";
import type { Target } from "./target.ts";

export interface GlobalStackProps {
  readonly project: string;
  readonly region: string;
  readonly target: Target;
  /** The account of the dashboard: the first environment's (lib/stacks/app.ts). */
  readonly account: AccountConfig;
  readonly tags: Record<string, string>;
  /** The permanent environments on the dashboard, in name order. */
  readonly environments: readonly Environment[];
}

/** Outputs of an environment's stack that the global stack reads from its state (lib/stacks/environment-stack.ts). */
export const DASHBOARD_OUTPUTS = {
  albArnSuffix: "dashboard_alb_arn_suffix",
  /** One per Auto Scaling group, in order: `dashboard_asg_name_0`, … */
  asgName: (i: number) => `dashboard_asg_name_${i}`,
} as const;

/** Declares the outputs the dashboard reads, in an environment's stack (lib/stacks/environment-stack.ts). */
export function dashboardOutputs(stack: TerraformStack, albArnSuffix: string, asgNames: readonly string[]): void {
  new TerraformOutput(stack, DASHBOARD_OUTPUTS.albArnSuffix, { value: albArnSuffix });
  for (const [i, name] of asgNames.entries()) new TerraformOutput(stack, DASHBOARD_OUTPUTS.asgName(i), { value: name });
}

/** How many Auto Scaling groups an environment's compute has: one per slot on EC2, one per node group on EKS. */
export function autoScalingGroupCount(env: Environment): number {
  return env.compute.kind === "eks" ? env.compute.nodeGroups.length : SLOTS.length;
}

/**
 * `global`: what spans environments — the cross-environment dashboard. It is a function of the
 * environments' configuration alone: it reads each environment's ALB and Auto Scaling groups from
 * that environment's state (the outputs {@link DASHBOARD_OUTPUTS}), never from its constructs, so
 * building it never builds another stack (lib/stacks/units.ts).
 */
export class GlobalStack extends BaseStack {
  constructor(scope: Construct, props: GlobalStackProps) {
    super(scope, "global", props);
    new EnvironmentsDashboard(this, "environments", {
      name: `${props.project}-environments`,
      region: props.region,
      environments: props.environments.map((env) => {
        const backend = stateBackend(
          { project: env.project, region: env.region, target: props.target, account: env.account },
          env.name,
        );
        const id = `state-${env.name}`;
        const state =
          backend.kind === "local"
            ? new DataTerraformRemoteStateLocal(this, id, backend.config)
            : new DataTerraformRemoteStateS3(this, id, backend.config);
        return {
          name: env.name,
          loadBalancerArnSuffix: state.getString(DASHBOARD_OUTPUTS.albArnSuffix),
          autoScalingGroupNames: Array.from({ length: autoScalingGroupCount(env) }, (_, i) =>
            state.getString(DASHBOARD_OUTPUTS.asgName(i)),
          ),
        };
      }),
    });
  }
}
