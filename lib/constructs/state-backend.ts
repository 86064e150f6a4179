import { Construct } from "constructs";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { EncryptionKey } from "./encryption-key.ts";
import { SecureBucket } from "./secure-bucket.ts";

export interface StateBackendProps {
  /** Name of the state bucket. */
  readonly bucketName: string;
  /** Name of the lock table. @default "terraform-state-lock" */
  readonly lockTableName?: string;
  /** Allow `destroy` to remove a bucket holding state (emulator only). @default false */
  readonly forceDestroy?: boolean;
}

/**
 * Remote state for every stack: a versioned, KMS-encrypted, private, TLS-only bucket and a
 * DynamoDB lock table (encrypted, point-in-time recovery, deletion protection).
 */
export class StateBackend extends Construct {
  readonly bucketName: string;
  readonly lockTable: DynamodbTable;

  constructor(scope: Construct, id: string, props: StateBackendProps) {
    super(scope, id);
    const key = new EncryptionKey(this, "key", { alias: `${props.bucketName}-key`, description: "Terraform state" });
    const bucket = new SecureBucket(this, "bucket", {
      bucketName: props.bucketName,
      kmsKeyArn: key.key.arn,
      versioned: true,
      forceDestroy: props.forceDestroy ?? false,
    });
    this.bucketName = bucket.bucket.bucket;
    this.lockTable = new DynamodbTable(this, "lock", {
      name: props.lockTableName ?? "terraform-state-lock",
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      serverSideEncryption: { enabled: true, kmsKeyArn: key.key.arn },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: !(props.forceDestroy ?? false),
    });
  }
}
