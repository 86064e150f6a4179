import type { PolicyRule } from "../types.ts";

export const s3Encrypted: PolicyRule = {
  id: "s3-encrypted",
  description: "S3 buckets declare default encryption",
  appliesTo: ["aws_s3_bucket"],
  check: (r) =>
    r.referencedBy.includes("aws_s3_bucket_server_side_encryption_configuration")
      ? undefined
      : "needs an aws_s3_bucket_server_side_encryption_configuration in the same stack",
};
