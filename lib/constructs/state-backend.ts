import { Construct } from "constructs";
import { skipCheck } from "../policy/checkov-skip.ts";
import { EncryptionKey } from "./encryption-key.ts";
import { SecureBucket } from "./secure-bucket.ts";

export interface StateBackendProps {
  /** Name of the state bucket; its access logs go to `<name>-access-logs`. */
  readonly bucketName: string;
  /** Noncurrent state versions are kept this many days. @default 365 */
  readonly stateHistoryDays?: number;
  /** Access logs of the state bucket are kept this many days. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** Allow `destroy` to remove buckets holding state (emulator only). @default false */
  readonly forceDestroy?: boolean;
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
