import { isTrue, type PolicyRule } from "../types.ts";

export const rdsStorageEncrypted: PolicyRule = {
  id: "rds-storage-encrypted",
  description: "RDS storage is encrypted at rest",
  appliesTo: ["aws_db_instance", "aws_rds_cluster"],
  check: (r) => (isTrue(r.config.storage_encrypted) ? undefined : "storage_encrypted must be true"),
};
