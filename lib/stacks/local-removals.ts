/**
 * What the emulator profile's Aspects (lib/stacks/local-gaps.ts) use to read and drop constructs:
 * token resolution as cdktf writes the JSON, and removal of a construct from its scope. Every
 * resource type the stacks use is now served by the emulator (lib/engine/moto/), so no resource
 * leaves the local stacks for a stand-in any more: only the TLS-only bucket policy statement and
 * the EKS token's data source go (gaps `tlsOnlyBucketPolicy`, `eksControlPlane`).
 */
import { DefaultTokenResolver, StringConcat, Tokenization } from "cdktf";
import type { IConstruct } from "constructs";

/** Resolves tokens the way cdktf does when it writes the JSON (references become `${type.name.attr}`). */
// biome-ignore lint/suspicious/noExplicitAny: Terraform JSON, untyped
export function resolveIn(scope: IConstruct, value: unknown): any {
  return Tokenization.resolve(value, {
    scope,
    preparing: false,
    resolver: new DefaultTokenResolver(new StringConcat()),
  });
}

export function remove(node: IConstruct): void {
  node.node.scope?.node.tryRemoveChild(node.node.id);
}
