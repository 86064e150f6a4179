/**
 * What the emulator (moto) cannot do, and what the `local` target therefore switches off. The
 * real stacks keep every one of these; only ENVSTACK_TARGET=local leaves them out. The README
 * lists this table.
 */
import type { IConstruct } from "constructs";

export const EMULATOR_GAPS = {
  tlsOnlyBucketPolicy: "moto serves plain HTTP, so a bucket policy denying aws:SecureTransport=false would lock the engine out of the state bucket",
  cloudwatchCbor: "the AWS provider calls CloudWatch over the Smithy RPCv2-CBOR protocol, which moto does not serve (404 on /service/GraniteServiceVersion20100801/operation/*): no alarms or dashboards through the provider; the local loop registers the canary gate's alarms through the SDK's JSON protocol (lib/engine/local.ts)",
  elasticacheReplicationGroup: "moto's CreateReplicationGroup creates no member cache clusters, so the provider's read (DescribeCacheClusters dev-redis-001) fails with CacheClusterNotFound; and DeleteCacheSubnetGroup is not implemented, so the subnet group goes too",
  autoscalingRefresh: "moto never completes an Auto Scaling instance refresh nor the provider's capacity wait after a launch-template change (the update hangs until the 10-minute timeout): the local profile neither refreshes instances nor waits for capacity",
  launchTemplateVersions: "moto's UpdateAutoScalingGroup fails (AssertionError in launch_templates.user_data, HTTP 500, retried forever) when it scales from a launch-template version made by CreateLaunchTemplateVersion: the local profile gives each slot version its own launch template (create before destroy) instead of a new version",
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
