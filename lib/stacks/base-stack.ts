import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, type LocalBackendConfig, S3Backend, type S3BackendConfig, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { type AccountConfig, accountStateBucket } from "../config/schema/account.ts";
import { applyEmulatorProfile } from "./local-gaps.ts";
import { emulatorCredentials, emulatorEndpoint, type Target } from "./target.ts";

export interface BaseStackProps {
  /** Project name: first part of the state key and of the state bucket name. */
  readonly project: string;
  readonly region: string;
  readonly target: Target;
  /**
   * The AWS account the stack deploys into: every AWS provider of the stack is pinned to it
   * (`allowed_account_ids`) and assumes its `deployRoleArn`; the stack's state is in its bucket.
   */
  readonly account: AccountConfig;
  /** Provider default tags: applied to every taggable resource of the stack. */
  readonly tags: Record<string, string>;
}

/** The state bucket of an account: `ENVSTACK_STATE_BUCKET`, else the account's (`account.stateBucket`, else `<project>-tfstate-<id>`). */
export function stateBucketName(
  project: string,
  target: Target,
  account: Pick<AccountConfig, "id" | "stateBucket">,
): string {
  return target.stateBucket ?? accountStateBucket(project, account);
}

/** Key of a stack's state: `<project>/<stack>/terraform.tfstate`. */
export function stateKey(project: string, stack: string): string {
  return `${project}/${stack}/terraform.tfstate`;
}

/** The `assume_role` of a stack's providers and backend: the account's deploy role, when it has one. */
function assumeRoleOf(account: AccountConfig, stack: string) {
  if (!account.deployRoleArn) return undefined;
  return {
    roleArn: account.deployRoleArn,
    sessionName: `envstack-${stack}`.slice(0, 64),
    ...(account.externalId ? { externalId: account.externalId } : {}),
    ...(account.sessionTags ? { tags: account.sessionTags } : {}),
  };
}

/**
 * Where a stack keeps its state: a local file, or the account's S3 bucket (through the deploy role;
 * on the emulator with its endpoint and the account's emulator credentials). The stack's backend and
 * every reader of its state (lib/stacks/global-stack.ts) take it from here.
 */
export function stateBackend(
  props: Pick<BaseStackProps, "project" | "region" | "target" | "account">,
  id: string,
): { kind: "local"; config: LocalBackendConfig } | { kind: "s3"; config: S3BackendConfig } {
  const { target, account } = props;
  if (target.backend === "local") return { kind: "local", config: { path: `${target.stateDir}/${id}.tfstate` } };
  const local = emulatorEndpoint(target);
  const assumeRole = assumeRoleOf(account, id);
  return {
    kind: "s3",
    config: {
      bucket: stateBucketName(props.project, target, account),
      key: stateKey(props.project, id),
      region: props.region,
      encrypt: true,
      ...(assumeRole ? { assumeRole } : {}),
      ...(local
        ? {
            ...emulatorCredentials(target, account.id),
            endpoints: { s3: local, sts: local, iam: local },
            usePathStyle: true,
            skipCredentialsValidation: true,
            skipRequestingAccountId: true,
            skipMetadataApiCheck: true,
            skipRegionValidation: true,
          }
        : {}),
    },
  };
}

/**
 * A stack with its own state (S3 with locking, or a local file), and the AWS provider carrying
 * the default tags, pinned to the stack's account and assuming its deploy role; pointed at the
 * emulator when the target is `local`.
 *
 * S3 state is locked by a lock file next to it (`<key>.tflock`, `use_lockfile`, S3 conditional
 * writes; OpenTofu ≥ 1.10 / Terraform ≥ 1.10): no DynamoDB table.
 */
export class BaseStack extends TerraformStack {
  readonly provider: AwsProvider;
  private readonly props: BaseStackProps;

  constructor(scope: Construct, id: string, props: BaseStackProps) {
    super(scope, id);
    this.props = props;
    const { target } = props;
    // The emulator's gaps, as Aspects over the whole stack (lib/stacks/local-gaps.ts).
    if (target.kind === "local") applyEmulatorProfile(this, target);
    const backend = stateBackend(props, id);
    if (backend.kind === "local") new LocalBackend(this, backend.config);
    else {
      // cdktf 0.21's S3Backend has no field for it yet.
      new S3Backend(this, backend.config).addOverride("use_lockfile", true);
    }

    this.provider = this.awsProvider("aws", props.region);
  }

  /**
   * A second AWS provider for another region (e.g. disaster recovery), alias `id`, with the
   * stack's default tags, account and target; resources pass it as their `provider`.
   */
  regionProvider(id: string, region: string): AwsProvider {
    return this.awsProvider(id, region, id);
  }

  private awsProvider(id: string, region: string, alias?: string): AwsProvider {
    const { target, tags, account } = this.props;
    const local = emulatorEndpoint(target);
    const assumeRole = assumeRoleOf(account, this.node.id);
    return new AwsProvider(this, id, {
      region,
      alias,
      defaultTags: [{ tags }],
      // The provider refuses credentials of any other account before it reads or changes anything.
      allowedAccountIds: [account.id],
      ...(assumeRole ? { assumeRole: [assumeRole] } : {}),
      ...(local
        ? {
            // No `endpoints` block: the emulator's address comes from AWS_ENDPOINT_URL in the
            // engine's environment (lib/engine/local.ts localTargetEnv). The provider validates the
            // endpoints set quadratically in its ~300 attributes, about 2 s of CPU at each of a
            // plan's provider starts, which is most of a traffic shift's plan. Without the variable,
            // the fake credentials fail against AWS: nothing is touched.
            // The account is requested (STS GetCallerIdentity), as on AWS: allowed_account_ids needs it.
            ...emulatorCredentials(target, account.id),
            s3UsePathStyle: true,
            skipCredentialsValidation: true,
            skipMetadataApiCheck: "true",
            skipRegionValidation: true,
          }
        : {}),
    });
  }
}
