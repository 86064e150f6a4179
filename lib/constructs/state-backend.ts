import { Construct } from "constructs";
import { skipCheck } from "../policy/checkov-skip.ts";
import { EncryptionKey } from "./encryption-key.ts";
import { SecureBucket, type SecureBucketProps } from "./secure-bucket.ts";

export interface StateBackendProps {
  /** Name of the state bucket; its access logs go to `<name>-access-logs`. */
  readonly bucketName: string;
  /** Noncurrent state versions are kept this many days. @default 365 */
  readonly stateHistoryDays?: number;
  /** Access logs of the state bucket are kept this many days. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** Allow `destroy` to remove buckets holding state (emulator only). @default false */
  readonly forceDestroy?: boolean;
  /**
   * The account whose people record approvals in the bucket (`approvals/`, lib/aws/approval-ledger.ts):
   * the policy lets each write only under, and tagged with, its own aws:userid. @default no approvals
   */
  readonly approvalsOf?: string;
}

/**
 * The bucket-policy statements that make `approvals/<env>/<change>/<aws:userid>` prove who wrote
 * it: only IAM users and IAM Identity Center sessions of `account` write there (a role session's
 * name is its caller's choice), each with its own aws:userid as the `approver` tag (envctl checks
 * the key's last part against it) and an IAM user with its own name as `username`; nothing there
 * is deleted or re-tagged. `&{...}` is a policy variable (Terraform's escape of `\${...}`).
 */
export function approvalStatements(account: string): NonNullable<SecureBucketProps["extraStatements"]> {
  const anyone = [{ type: "*", identifiers: ["*"] }];
  const paths = ["/approvals/*"];
  return [
    {
      sid: "ApprovalsOnlyByPeople",
      effect: "Deny",
      actions: ["s3:PutObject", "s3:PutObjectTagging"],
      principals: anyone,
      resourcePaths: paths,
      condition: [
        {
          test: "ArnNotLike",
          variable: "aws:PrincipalArn",
          values: [`arn:aws:iam::${account}:user/*`, `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/*`],
        },
      ],
    },
    {
      sid: "ApprovalsUnderOwnUserId",
      effect: "Deny",
      actions: ["s3:PutObject", "s3:PutObjectTagging"],
      principals: anyone,
      resourcePaths: paths,
      condition: [{ test: "StringNotEquals", variable: "s3:RequestObjectTag/approver", values: ["&{aws:userid}"] }],
    },
    {
      sid: "ApprovalsWithOwnUserName",
      effect: "Deny",
      actions: ["s3:PutObject", "s3:PutObjectTagging"],
      principals: anyone,
      resourcePaths: paths,
      condition: [
        { test: "ArnLike", variable: "aws:PrincipalArn", values: [`arn:aws:iam::${account}:user/*`] },
        { test: "StringNotEquals", variable: "s3:RequestObjectTag/username", values: ["&{aws:username}"] },
      ],
    },
    {
      sid: "ApprovalsNeverErased",
      effect: "Deny",
      actions: ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"],
      principals: anyone,
      resourcePaths: paths,
    },
  ];
}

/**
 * Remote state for every stack: a versioned, KMS-encrypted, private, TLS-only bucket whose
 * every access is logged to a second bucket. Locking needs nothing else: each stack's lock is a
 * `<key>.tflock` object next to its state (`use_lockfile`, S3 conditional writes).
 */
export class StateBackend extends Construct {
  readonly bucketName: string;
  readonly accessLogsBucketName: string;

  constructor(scope: Construct, id: string, props: StateBackendProps) {
    super(scope, id);
    const forceDestroy = props.forceDestroy ?? false;
    const key = new EncryptionKey(this, "key", { alias: `${props.bucketName}-key`, description: "Terraform state" });

    const logs = new SecureBucket(this, "access-logs", {
      bucketName: `${props.bucketName}-access-logs`,
      versioned: false,
      expireAfterDays: props.accessLogRetentionDays ?? 365,
      receivesAccessLogs: true,
      forceDestroy,
    });
    skipCheck(
      logs.bucket,
      "CKV_AWS_21",
      "access logs are written once and expire after their retention; versions would keep deleted logs past it",
    );
    skipCheck(
      logs.bucket,
      "CKV_AWS_145",
      "S3 server access logging delivers only to SSE-S3 (AES256) target buckets, not SSE-KMS",
    );
    skipCheck(
      logs.bucket,
      "CKV_AWS_144",
      "access logs are audit records of this region's state bucket; they are not part of the recovery plan (README: recovery runbook)",
    );

    const bucket = new SecureBucket(this, "bucket", {
      bucketName: props.bucketName,
      kmsKeyArn: key.key.arn,
      versioned: true,
      noncurrentVersionExpireAfterDays: props.stateHistoryDays ?? 365,
      accessLogs: { bucket: logs, prefix: "state-bucket/" },
      forceDestroy,
      ...(props.approvalsOf ? { extraStatements: approvalStatements(props.approvalsOf) } : {}),
    });
    skipCheck(
      bucket.bucket,
      "CKV_AWS_144",
      "state is versioned (a year of history) and rebuilt from code and import if the region is lost; no second-region replica (README: recovery runbook)",
    );
    this.bucketName = bucket.bucket.bucket;
    this.accessLogsBucketName = logs.bucket.bucket;
  }
}
