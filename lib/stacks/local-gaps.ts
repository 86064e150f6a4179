/**
 * What the emulator (moto) cannot do, and what the `local` target therefore switches off. The
 * real stacks keep every one of these; only ENVSTACK_TARGET=local leaves them out. The README
 * lists this table.
 */
import type { IConstruct } from "constructs";
import { Aspects, TerraformResource, type IAspect } from "cdktf";

export const EMULATOR_GAPS = {
  tlsOnlyBucketPolicy: "moto serves plain HTTP, so a bucket policy denying aws:SecureTransport=false would lock the engine out of the state bucket",
  elasticacheReplicationGroup: "moto's CreateReplicationGroup creates no member cache clusters, so the provider's read (DescribeCacheClusters dev-redis-001) fails with CacheClusterNotFound; and DeleteCacheSubnetGroup is not implemented, so the subnet group goes too",
  autoscalingRefresh: "moto never completes an Auto Scaling instance refresh nor the provider's capacity wait after a launch-template change (the update hangs until the 10-minute timeout): the local profile neither refreshes instances nor waits for capacity",
  launchTemplateVersions: "moto's UpdateAutoScalingGroup fails (AssertionError in launch_templates.user_data, HTTP 500, retried forever) when it scales from a launch-template version made by CreateLaunchTemplateVersion: the local profile gives each slot version its own launch template (create before destroy) instead of a new version",
  perpetualDiffs: "moto reads back some attributes differently from what it was given (referenced_security_group_id as '<account>/sg-…'; launch templates echo an extra 'launch-template' tag specification), so every plan would show updates: the local profile ignores changes to exactly those attributes (EMULATOR_IGNORED_ATTRIBUTES)",
  elasticacheRbac: "moto never moves an ElastiCache user group (CreateUserGroup) to 'active', so the provider waits forever; the local profile runs Redis without the IAM-auth user group",
} as const;

export type EmulatorGap = keyof typeof EMULATOR_GAPS;

const CONTEXT_KEY = "envstack:emulated";

/** Marks a stack as deployed to the emulator (set by BaseStack for the `local` target). */
export function markEmulated(scope: IConstruct): void {
  scope.node.setContext(CONTEXT_KEY, true);
}

/** True when `gap` must be switched off because the scope deploys to the emulator. */
export function emulatorLacks(scope: IConstruct, _gap: EmulatorGap): boolean {
  return scope.node.tryGetContext(CONTEXT_KEY) === true;
}

/** Attributes moto reads back differently, per resource type (gap `perpetualDiffs`). */
export const EMULATOR_IGNORED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_vpc_security_group_ingress_rule: ["referenced_security_group_id"],
  aws_vpc_security_group_egress_rule: ["referenced_security_group_id"],
  aws_launch_template: ["tag_specifications", "security_group_names"],
};

/** Adds the type's ignored attributes to whatever `ignore_changes` the resource already has. */
class IgnoreEmulatorReadBacks implements IAspect {
  visit(node: IConstruct): void {
    if (!TerraformResource.isTerraformResource(node)) return;
    const attrs = EMULATOR_IGNORED_ATTRIBUTES[node.terraformResourceType];
    const current = node.lifecycle?.ignoreChanges;
    if (!attrs || current === "all") return;
    node.lifecycle = { ...node.lifecycle, ignoreChanges: [...new Set([...(current ?? []), ...attrs])] };
  }
}

/** Applied by BaseStack to stacks of the `local` target only. */
export function ignoreEmulatorReadBacks(scope: IConstruct): void {
  Aspects.of(scope).add(new IgnoreEmulatorReadBacks());
}
