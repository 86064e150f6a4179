import type { Construct } from "constructs";
import type { Environment } from "../config/schema.ts";
import { environmentTags } from "../config/tags.ts";
import { MaintenanceRouting } from "../constructs/maintenance-routing.ts";
import { WeightedRouting } from "../constructs/weighted-routing.ts";
import type { Release } from "../release/model/release.ts";
import { BaseStack } from "./base-stack.ts";
import type { EnvironmentStack } from "./environment-stack.ts";
import type { Target } from "./target.ts";

export interface TrafficStackProps {
  readonly env: Environment;
  /** Weights come from here. */
  readonly release: Release;
  /** The environment's infrastructure stack: listener and target groups are read through cross-stack references. */
  readonly infrastructure: EnvironmentStack;
  readonly target: Target;
}

/** Name of an environment's traffic stack. */
export function trafficStackName(env: string): string {
  return `${env}-traffic`;
}

/**
 * `<env>-traffic`: the weighted listener rule, and in maintenance mode (the release file's
 * `maintenance`) the 503 page ahead of it with the testers' bypasses. A traffic shift changes this
 * stack alone, so it plans only listener rules and can never touch a database.
 */
export class TrafficStack extends BaseStack {
  readonly routing: WeightedRouting;
  readonly maintenance?: MaintenanceRouting;

  constructor(scope: Construct, props: TrafficStackProps) {
    const { env, release, infrastructure, target } = props;
    super(scope, trafficStackName(env.name), {
      project: env.project,
      region: env.region,
      target,
      account: env.account,
      tags: environmentTags(env),
    });
    const lb = infrastructure.loadBalancer;
    this.routing = new WeightedRouting(this, "weighted", {
      namePrefix: env.name,
      listenerArn: lb.listener.arn,
      targetGroupArns: { blue: lb.targetGroups.blue.arn, green: lb.targetGroups.green.arn },
      weights: { blue: release.slots.blue.weight, green: release.slots.green.weight },
    });
    const m = release.maintenance;
    if (m) {
      this.maintenance = new MaintenanceRouting(this, "maintenance", {
        namePrefix: env.name,
        listenerArn: lb.listener.arn,
        message: m.message,
        targetGroupArns: { blue: lb.targetGroups.blue.arn, green: lb.targetGroups.green.arn },
        weights: { blue: release.slots.blue.weight, green: release.slots.green.weight },
        allowCidrs: m.allowCidrs,
      });
    }
  }
}
