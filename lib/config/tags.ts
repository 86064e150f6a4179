import type { Environment } from "./schema.ts";

/** Tags every resource must carry (checked by the `required-tags` policy rule). */
export const REQUIRED_TAGS = ["Environment", "Project", "ManagedBy", "Owner", "CostCenter"] as const;

/** Provider default tags of an environment's stacks. */
export function environmentTags(env: Environment): Record<string, string> {
  return {
    ...env.tags,
    Environment: env.name,
    Project: env.project,
    ManagedBy: "cdktf",
    Owner: env.owner,
    CostCenter: env.costCenter,
    Tier: env.tier,
  };
}
