import { TerraformResource } from "cdktf";
import type { Construct } from "constructs";

export interface ReplaceTriggerProps {
  /** Values whose change replaces this resource (and whatever names it in `replace_triggered_by`). */
  readonly triggers: Record<string, unknown>;
}

/**
 * A built-in `terraform_data` resource used as a replacement trigger. cdktf's own DataResource
 * adds a validation that runs `terraform version` at synth time, which makes synthesis depend
 * on an engine binary being installed; this one synthesizes the same JSON without it.
 */
export class ReplaceTrigger extends TerraformResource {
  static readonly tfResourceType = "terraform_data";

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ReplaceTriggerProps,
  ) {
    super(scope, id, { terraformResourceType: ReplaceTrigger.tfResourceType });
  }

  /** Address for `lifecycle.replace_triggered_by`. */
  get address(): string {
    return `${ReplaceTrigger.tfResourceType}.${this.friendlyUniqueId}`;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { triggers_replace: this.props.triggers };
  }
}
