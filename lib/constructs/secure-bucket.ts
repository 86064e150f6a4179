import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";

export interface SecureBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** KMS key for SSE-KMS; SSE-S3 (AES256) when absent (required for ALB access logs). @default SSE-S3 */
  readonly kmsKeyArn?: string;
  /** Keep every object version. @default true */
  readonly versioned?: boolean;
  /** Expire objects after this many days. @default never */
  readonly expireAfterDays?: number;
  /** Let `destroy` delete a non-empty bucket. @default false */
  readonly forceDestroy?: boolean;
  /** Extra bucket-policy statements (the TLS-only deny is always present). @default none */
  readonly extraStatements?: { sid: string; actions: string[]; principals: { type: string; identifiers: string[] }[]; resourcePaths: string[] }[];
}

/** S3 bucket with encryption, public access blocked, owner-enforced objects and a TLS-only policy. */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName, forceDestroy: props.forceDestroy ?? false });
    const bucketRef = { bucket: this.bucket.id };

    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      ...bucketRef,
      rule: [{
        applyServerSideEncryptionByDefault: props.kmsKeyArn
          ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn }
          : { sseAlgorithm: "AES256" },
        bucketKeyEnabled: props.kmsKeyArn !== undefined,
      }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      ...bucketRef,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { ...bucketRef, rule: { objectOwnership: "BucketOwnerEnforced" } });
    if (props.versioned ?? true) {
      new S3BucketVersioningA(this, "versioning", { ...bucketRef, versioningConfiguration: { status: "Enabled" } });
    }
    if (props.expireAfterDays !== undefined) {
      new S3BucketLifecycleConfiguration(this, "lifecycle", {
        ...bucketRef,
        rule: [{
          id: "expire",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.expireAfterDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.expireAfterDays }],
        }],
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
      ...(props.extraStatements ?? []).map((s) => ({
        sid: s.sid,
        effect: "Allow",
        actions: s.actions,
        principals: s.principals,
        resources: s.resourcePaths.map((p) => `${this.bucket.arn}${p}`),
      })),
    ];
    const policy = new DataAwsIamPolicyDocument(this, "policy-doc", { statement: statements });
    new S3BucketPolicy(this, "policy", { ...bucketRef, policy: policy.json, dependsOn: [publicAccess] });
  }
}
