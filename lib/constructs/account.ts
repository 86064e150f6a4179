import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { type TerraformProvider, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";

/** Account, partition and region a stack deploys to, as references resolved at plan time. */
export interface AccountContext {
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;
}

const cache = new WeakMap<TerraformStack, Map<string, AccountContext>>();

/**
 * The account context of `scope`'s stack, for the default provider or `provider` (another
 * region): one set of data sources per stack and provider, shared by every construct asking.
 */
export function accountOf(scope: IConstruct, provider?: TerraformProvider): AccountContext {
  const stack = TerraformStack.of(scope);
  const byProvider = cache.get(stack) ?? new Map<string, AccountContext>();
  cache.set(stack, byProvider);
  const key = provider?.node.id ?? "default";
  const known = byProvider.get(key);
  if (known) return known;
  const suffix = provider ? `-${provider.node.id}` : "";
  const context = {
    accountId: new DataAwsCallerIdentity(stack, `account${suffix}`, { provider }).accountId,
    partition: new DataAwsPartition(stack, `partition${suffix}`, { provider }).partition,
    region: new DataAwsRegion(stack, `region${suffix}`, { provider }).region,
  };
  byProvider.set(key, context);
  return context;
}
