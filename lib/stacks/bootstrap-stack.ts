import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { AccountConfig } from "../config/schema/account.ts";
import { bootstrapStackName } from "../constructs/naming.ts";
import { StateBackend } from "../constructs/state-backend.ts";
import { BaseStack, stateBucketName } from "./base-stack.ts";
import type { Target } from "./target.ts";

export interface BootstrapStackProps {
  readonly project: string;
  readonly region: string;
  readonly target: Target;
  /** The account whose state bucket this is (its deploy role is assumed, its id pinned). */
  readonly account: AccountConfig;
  readonly tags: Record<string, string>;
}

export { bootstrapStackName };

/**
 * `bootstrap-<account id>`, one per account: the state bucket every stack of the account's
 * environments keeps its state (and its lock file) in, and the approvals of their changes
 * (`approvals/`, written by each person under their own aws:userid only), and the bucket of its
 * access logs. Apply
 * it first with `ENVSTACK_BACKEND=local`, then migrate its own state into the bucket (README).
 */
export class BootstrapStack extends BaseStack {
  constructor(scope: Construct, props: BootstrapStackProps) {
    super(scope, bootstrapStackName(props.account.id), props);
    const backend = new StateBackend(this, "state", {
      bucketName: stateBucketName(props.project, props.target, props.account),
      forceDestroy: props.target.kind === "local",
      // Approvals of the account's environments: each person writes only under their own aws:userid.
      approvalsOf: props.account.id,
    });
    new TerraformOutput(this, "state_bucket", { value: backend.bucketName });
    new TerraformOutput(this, "state_access_logs_bucket", { value: backend.accessLogsBucketName });
  }
}
