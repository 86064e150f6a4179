import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretPolicy } from "@cdktf/provider-aws/lib/secretsmanager-secret-policy";
import { SecretsmanagerSecretRotation } from "@cdktf/provider-aws/lib/secretsmanager-secret-rotation";
import { Construct } from "constructs";
import { skipCheck } from "../policy/checkov-skip.ts";
import { EncryptionKey } from "./encryption-key.ts";

export interface AppSecretProps {
  /** Name of the secret in the application (an environment variable name, e.g. `SMTP_PASSWORD`). */
  readonly name: string;
  /**
   * Rotation by a Lambda function every `everyDays` days; its execution role is the only other
   * principal allowed to read the value. @default no rotation
   */
  readonly rotation?: { readonly lambdaArn: string; readonly lambdaRoleArn: string; readonly everyDays: number };
}

export interface AppSecretsProps {
  /** Prefix of every secret name: a secret is `<namePrefix><name>`, e.g. `webapp/dev/SMTP_PASSWORD`. */
  readonly namePrefix: string;
  /** Alias of the environment's secrets key, without `alias/`. */
  readonly keyAlias: string;
  /** What the secrets belong to, for descriptions (e.g. `dev`). */
  readonly owner: string;
  readonly secrets: readonly AppSecretProps[];
  /** Days a deleted secret can still be restored; 0 deletes it at once. @default 30 */
  readonly recoveryWindowDays?: number;
}

/**
 * The application's secrets in AWS Secrets Manager, one per name, WITHOUT values: Terraform
 * creates each secret, its resource policy and its rotation, never a version (values are written
 * with `envctl secret set`, so they never appear in code, plan or state).
 *
 * - Encrypted with a customer-managed KMS key of the environment (yearly key rotation).
 * - Readable only by the application's role ({@link grantRead}): it gets GetSecretValue and
 *   DescribeSecret on exactly these secrets and kms:Decrypt through Secrets Manager only; each
 *   secret's resource policy denies GetSecretValue to every other principal (a rotation
 *   function's role excepted), so operators can set a value but not read it back.
 * - Public resource policies are refused by Secrets Manager (block_public_policy).
 */
export class AppSecrets extends Construct {
  readonly key: EncryptionKey;
  readonly secrets: Record<string, SecretsmanagerSecret>;
  private readonly specs: readonly AppSecretProps[];
  private reader?: IamRole;

  constructor(scope: Construct, id: string, props: AppSecretsProps) {
    super(scope, id);
    this.specs = props.secrets;
    this.key = new EncryptionKey(this, "key", {
      alias: props.keyAlias,
      description: `Application secrets of ${props.owner}`,
    });
    this.secrets = Object.fromEntries(
      props.secrets.map((s) => {
        const secret = new SecretsmanagerSecret(this, `secret-${s.name}`, {
          name: `${props.namePrefix}${s.name}`,
          description: `${s.name} of ${props.owner} (value set with 'envctl secret set', never by Terraform)`,
          kmsKeyId: this.key.key.arn,
          recoveryWindowInDays: props.recoveryWindowDays ?? 30,
        });
        if (!s.rotation) {
          skipCheck(
            secret,
            "CKV2_AWS_57",
            "no rotation Lambda declared for this secret (app.secrets[].rotation); its value is set with 'envctl secret set'",
          );
        } else {
          new SecretsmanagerSecretRotation(this, `rotation-${s.name}`, {
            secretId: secret.id,
            rotationLambdaArn: s.rotation.lambdaArn,
            rotationRules: { automaticallyAfterDays: s.rotation.everyDays },
          });
        }
        return [s.name, secret];
      }),
    );
  }

  /** ARN of each secret, by name. */
  get arns(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.secrets).map(([name, s]) => [name, s.arn]));
  }

  /**
   * Makes `role` the only reader of the values: its IAM policy, and each secret's resource
   * policy denying GetSecretValue to anyone else (a rotation function's role excepted). Once.
   */
  grantRead(role: IamRole): void {
    if (this.reader)
      throw new Error(`${this.node.path}: the secrets already have their reader (${this.reader.node.path})`);
    this.reader = role;
    for (const s of this.specs) {
      const readers = [role.arn, ...(s.rotation ? [s.rotation.lambdaRoleArn] : [])];
      new SecretsmanagerSecretPolicy(this, `policy-${s.name}`, {
        secretArn: this.secrets[s.name]!.arn,
        blockPublicPolicy: true,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ApplicationReads",
              Effect: "Allow",
              Principal: { AWS: role.arn },
              Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
              Resource: "*",
            },
            {
              Sid: "NobodyElseReadsTheValue",
              Effect: "Deny",
              Principal: "*",
              Action: "secretsmanager:GetSecretValue",
              Resource: "*",
              Condition: { StringNotEquals: { "aws:PrincipalArn": readers } },
            },
          ],
        }),
      });
    }
    new IamRolePolicy(this, "read", {
      role: role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            Resource: Object.values(this.arns),
          },
          {
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: this.key.key.arn,
            Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
          },
        ],
      }),
    });
  }
}
