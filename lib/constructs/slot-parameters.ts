import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Construct } from "constructs";
import { skipCheck } from "../policy/checkov-skip.ts";

export interface SlotParametersProps {
  /** SSM path ending in `/`: one parameter per key below it, e.g. `/webapp/dev/slots/blue/SMTP_HOST`. */
  readonly path: string;
  /** The slot's settings, as the application reads them (environment variable values). */
  readonly values: Readonly<Record<string, string>>;
  /** Checksum of the settings (release file): tagged on every parameter. */
  readonly checksum: string;
  /** Slot the settings belong to (tag). */
  readonly slot: string;
}

/**
 * One slot's application settings in SSM Parameter Store, one plain String parameter per key
 * (settings are not secrets: those live in Secrets Manager). The values come from the release
 * file's slot, so a slot keeps what it was promoted with whatever the environment file says now.
 */
export class SlotParameters extends Construct {
  readonly parameters: Record<string, SsmParameter>;

  constructor(scope: Construct, id: string, props: SlotParametersProps) {
    super(scope, id);
    this.parameters = Object.fromEntries(
      Object.keys(props.values)
        .sort()
        .map((key) => [
          key,
          new SsmParameter(this, key, {
            name: `${props.path}${key}`,
            description: `${key} of the ${props.slot} slot (settings ${props.checksum})`,
            type: "String",
            tier: "Standard",
            value: props.values[key]!,
            tags: { Slot: props.slot, SettingsChecksum: props.checksum },
          }),
        ]),
    );
    for (const parameter of Object.values(this.parameters)) {
      skipCheck(
        parameter,
        "CKV2_AWS_34",
        "a non-secret setting (the catalogue refuses secret-looking values); secrets live in Secrets " +
          "Manager, and a SecureString would put a secret value in Terraform (no-secret-values)",
      );
    }
  }
}
