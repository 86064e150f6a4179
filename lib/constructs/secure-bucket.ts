import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { skipCheck } from "../policy/checkov-skip.ts";
import { accountOf } from "./account.ts";

export interface SecureBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** KMS key for SSE-KMS; SSE-S3 (AES256) when absent (required for ALB and S3 access logs). @default SSE-S3 */
  readonly kmsKeyArn?: string;
  /** Keep every object version. @default true */
  readonly versioned?: boolean;
  /** Expire objects after this many days. @default never */
  readonly expireAfterDays?: number;
  /** Expire noncurrent versions after this many days (versioned buckets). @default `expireAfterDays`, else never */
  readonly noncurrentVersionExpireAfterDays?: number;
  /** Abort incomplete multipart uploads after this many days. @default 7 */
  readonly abortIncompleteUploadsAfterDays?: number;
  /**
   * Server access logs of this bucket go to that bucket (one with `receivesAccessLogs`), under
   * that prefix; set up after the target's policy lets the logging service write. @default none
   */
  readonly accessLogs?: { readonly bucket: SecureBucket; readonly prefix: string };
  /** This bucket receives S3 server access logs from buckets of the same account. @default false */
  readonly receivesAccessLogs?: boolean;
  /** Let `destroy` delete a non-empty bucket. @default false */
  readonly forceDestroy?: boolean;
  /** Extra bucket-policy statements (the TLS-only deny is always present). @default none */
  readonly extraStatements?: {
    sid: string;
    /** @default "Allow" */
    effect?: "Allow" | "Deny";
    actions: string[];
    principals: { type: string; identifiers: string[] }[];
    resourcePaths: string[];
    condition?: { test: string; variable: string; values: string[] }[];
  }[];
}

/**
 * S3 bucket with encryption, public access blocked, owner-enforced objects, a TLS-only policy,
 * a lifecycle that always aborts incomplete multipart uploads, and optional access logging.
 * No bucket here has a consumer of object events: CKV2_AWS_62 is an exception of every one.
 */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName, forceDestroy: props.forceDestroy ?? false });
    skipCheck(this.bucket, "CKV2_AWS_62", "nothing consumes this bucket's object events: no notification to configure");
    const bucketRef = { bucket: this.bucket.id };

    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      ...bucketRef,
      rule: [
        {
          applyServerSideEncryptionByDefault: props.kmsKeyArn
            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn }
            : { sseAlgorithm: "AES256" },
          bucketKeyEnabled: props.kmsKeyArn !== undefined,
        },
      ],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      ...bucketRef,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      ...bucketRef,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    const versioned = props.versioned ?? true;
    if (versioned) {
      new S3BucketVersioningA(this, "versioning", { ...bucketRef, versioningConfiguration: { status: "Enabled" } });
    }
    const noncurrentDays = props.noncurrentVersionExpireAfterDays ?? props.expireAfterDays;
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      ...bucketRef,
      rule: [
        {
          id: "abort-incomplete-uploads",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: props.abortIncompleteUploadsAfterDays ?? 7 }],
        },
        ...(props.expireAfterDays !== undefined || (versioned && noncurrentDays !== undefined)
          ? [
              {
                id: "expire",
                status: "Enabled",
                filter: [{ prefix: "" }],
                ...(props.expireAfterDays !== undefined ? { expiration: [{ days: props.expireAfterDays }] } : {}),
                ...(noncurrentDays !== undefined ? { noncurrentVersionExpiration: [{ noncurrentDays }] } : {}),
              },
            ]
          : []),
      ],
    });
    if (props.accessLogs) {
      const target = props.accessLogs.bucket;
      new S3BucketLoggingA(this, "logging", {
        ...bucketRef,
        targetBucket: target.bucket.id,
        targetPrefix: props.accessLogs.prefix,
        dependsOn: [target.policy],
      });
    }

    const statements = [
      {
        sid: "DenyInsecureTransport",
        effect: "Deny",
        actions: ["s3:*"],
        principals: [{ type: "*", identifiers: ["*"] }],
        resources: [this.bucket.arn, `${this.bucket.arn}/*`],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      },
      ...(props.receivesAccessLogs
        ? [
            {
              sid: "AllowS3ServerAccessLogs",
              effect: "Allow",
              actions: ["s3:PutObject"],
              principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
              resources: [`${this.bucket.arn}/*`],
              condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountOf(this).accountId] }],
            },
          ]
        : []),
      ...(props.extraStatements ?? []).map((s) => ({
        sid: s.sid,
        effect: s.effect ?? "Allow",
        actions: s.actions,
        principals: s.principals,
        resources: s.resourcePaths.map((p) => `${this.bucket.arn}${p}`),
        ...(s.condition ? { condition: s.condition } : {}),
      })),
    ];
    const policy = new DataAwsIamPolicyDocument(this, "policy-doc", { statement: statements });
    this.policy = new S3BucketPolicy(this, "policy", { ...bucketRef, policy: policy.json, dependsOn: [publicAccess] });
  }
}
