import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { accountOf } from "./account.ts";

export interface EncryptionKeyProps {
  /** Alias without the `alias/` prefix. */
  readonly alias: string;
  readonly description: string;
  /** Waiting period before deletion, days. @default 30 */
  readonly deletionWindowDays?: number;
  /**
   * CloudWatch Logs log groups (names) encrypted with this key: the Logs service of the key's
   * region may use it, for exactly these log groups (encryption context condition).
   * @default none
   */
  readonly logGroupNames?: readonly string[];
  /** Provider of another region (e.g. the disaster-recovery region). @default the stack's */
  readonly provider?: TerraformProvider;
}

/**
 * Customer-managed KMS key with yearly rotation, an alias and an explicit key policy: the
 * account administers and uses it through IAM (the root principal, as AWS's default policy, so
 * IAM policies decide who may), and, where log groups use it, the CloudWatch Logs service of
 * the region may encrypt and decrypt for those log groups only.
 */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const { accountId, partition, region } = accountOf(this, props.provider);
    const logGroups = props.logGroupNames ?? [];
    const statements: unknown[] = [
      {
        Sid: "AccountAdministersAndUsesThroughIam",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ];
    if (logGroups.length > 0) {
      statements.push({
        Sid: "CloudWatchLogsForTheseLogGroups",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnEquals: {
            "kms:EncryptionContext:aws:logs:arn": logGroups.map(
              (n) => `arn:${partition}:logs:${region}:${accountId}:log-group:${n}`,
            ),
          },
        },
      });
    }
    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays ?? 30,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
      provider: props.provider,
    });
    new KmsAlias(this, "alias", {
      name: `alias/${props.alias}`,
      targetKeyId: this.key.keyId,
      provider: props.provider,
    });
  }
}
