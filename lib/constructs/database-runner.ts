import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SsmDocument } from "@cdktf/provider-aws/lib/ssm-document";
import { Construct } from "constructs";
import { accountOf } from "./account.ts";
import { databaseRunnerScript } from "./database-runner-script.ts";
import { databaseIdentifier, databaseRunnerDocument } from "./naming.ts";

/** The PostgreSQL client image the document's `schema` and `sql` actions run `psql` in (envctl passes it). */
export const POSTGRES_CLIENT_IMAGE = "public.ecr.aws/docker/library/postgres:16-alpine";

export interface DatabaseRunnerProps {
  /** Prefix of every resource name, e.g. `dev`. */
  readonly namePrefix: string;
  /** The application instances' role (it reads the database secret on the instance). */
  readonly instanceRoleName: string;
  /** The KMS key of the database and of its AWS-managed secret (copies use the same one). */
  readonly databaseKeyArn: string;
  /**
   * The role envctl acts as in this account (the account's deploy role): it may send this document,
   * and only this one, to this environment's instances. @default none (attach the same statements to envctl's caller)
   */
  readonly envctlRoleName?: string;
  /** The tag every instance of the environment carries, and its value. */
  readonly instanceTag: { readonly key: string; readonly value: string };
}

/** The id of the policy on envctl's role (the emulator profile drops it: lib/stacks/local-gaps.ts `deployRolePolicy`). */
export const ENVCTL_ROLE_POLICY_ID = "envctl-send";

/** Characters a parameter may hold: no quote, no `$`, no backquote, no whitespace (each sits inside single quotes in the script). */
const SAFE = "^[A-Za-z0-9._:/@+=,-]+$";

/**
 * The SSM document envctl runs an EC2 environment's database commands with (migrate, schema, sql;
 * lib/aws/ssm-runner.ts), the instance role's right to read the database's AWS-managed master secret
 * (the live instance's and its data copies', by the tag RDS puts on them), and envctl's right to
 * send this document to this environment's instances and follow its invocations.
 */
export class DatabaseRunner extends Construct {
  readonly document: SsmDocument;

  constructor(scope: Construct, id: string, props: DatabaseRunnerProps) {
    super(scope, id);
    const p = props.namePrefix;
    const { partition, accountId, region } = accountOf(this);
    const parameter = (description: string, allowedPattern = SAFE, defaultValue?: string) => ({
      type: "String",
      description,
      allowedPattern,
      ...(defaultValue !== undefined ? { default: defaultValue } : {}),
    });
    this.document = new SsmDocument(this, "document", {
      name: databaseRunnerDocument(p),
      documentType: "Command",
      documentFormat: "JSON",
      content: JSON.stringify({
        schemaVersion: "2.2",
        description: `envctl's database commands on ${p}: the slot image's migration command, the schema version, SQL`,
        parameters: {
          action: {
            type: "String",
            description: "migrate, schema or sql",
            allowedValues: ["migrate", "schema", "sql"],
          },
          image: parameter("The image: <repository>:<tag> or <repository>@sha256:<digest>"),
          region: parameter("The region of the database secret", "^[a-z0-9-]+$"),
          databaseHost: parameter("The database instance's endpoint", "^[A-Za-z0-9.-]+$"),
          databasePort: parameter("The database port", "^[0-9]{1,5}$"),
          databaseName: parameter("The database name", "^[A-Za-z0-9_]+$"),
          databaseSecretArn: parameter(
            "ARN of the AWS-managed master secret (read on the instance)",
            "^arn:aws[a-z-]*:secretsmanager:[A-Za-z0-9:!_/+=.@-]+$",
          ),
          schemaTo: parameter("The schema version to migrate to", "^[0-9]{1,15}$", "0"),
          sql: parameter("SQL to run, base64 (sql only)", "^([A-Za-z0-9+/=]+|-)$", "-"),
          executionTimeout: parameter("Seconds before the command is stopped", "^[0-9]{1,6}$", "600"),
        },
        mainSteps: [
          {
            action: "aws:runShellScript",
            name: "database",
            inputs: { timeoutSeconds: "{{ executionTimeout }}", runCommand: databaseRunnerScript() },
          },
        ],
      }),
    });

    // The instance reads the master secret of the environment's database and of its data copies.
    new IamRolePolicy(this, "read-database-secret", {
      name: `${p}-read-database-secret`,
      role: props.instanceRoleName,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: `arn:${partition}:secretsmanager:${region}:${accountId}:secret:rds!db-*`,
            Condition: {
              StringLike: {
                "aws:ResourceTag/aws:rds:primaryDBInstanceArn": `arn:${partition}:rds:${region}:${accountId}:db:${databaseIdentifier(p)}*`,
              },
            },
          },
          { Effect: "Allow", Action: ["kms:Decrypt"], Resource: props.databaseKeyArn },
        ],
      }),
    });

    if (props.envctlRoleName) {
      new IamRolePolicy(this, ENVCTL_ROLE_POLICY_ID, {
        name: `${p}-envctl-database`,
        role: props.envctlRoleName,
        policy: JSON.stringify(envctlStatements(partition, region, accountId, this.document.arn, props.instanceTag)),
      });
    }
  }
}

/** What envctl needs to run the document: send it (this document, this environment's instances), follow and cancel it, find the instance and the database. */
export function envctlStatements(
  partition: string,
  region: string,
  accountId: string,
  documentArn: string,
  tag: { readonly key: string; readonly value: string },
) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "SendTheDocument", Effect: "Allow", Action: ["ssm:SendCommand"], Resource: documentArn },
      {
        Sid: "ToThisEnvironmentsInstances",
        Effect: "Allow",
        Action: ["ssm:SendCommand"],
        Resource: `arn:${partition}:ec2:${region}:${accountId}:instance/*`,
        Condition: { StringEquals: { [`ssm:resourceTag/${tag.key}`]: tag.value } },
      },
      {
        Sid: "FollowAndCancel",
        Effect: "Allow",
        Action: ["ssm:GetCommandInvocation", "ssm:ListCommandInvocations", "ssm:CancelCommand"],
        Resource: "*",
      },
      {
        Sid: "FindInstanceAndDatabase",
        Effect: "Allow",
        Action: ["ec2:DescribeInstances", "rds:DescribeDBInstances"],
        Resource: "*",
      },
    ],
  };
}
