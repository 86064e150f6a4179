import type { PolicyRule } from "../types.ts";
import { ebsEncrypted } from "./ebs-encrypted.ts";
import { elasticacheEncrypted } from "./elasticache-encrypted.ts";
import { noPublicIngress } from "./no-public-ingress.ts";
import { productionDeletionProtection } from "./production-deletion-protection.ts";
import { rdsStorageEncrypted } from "./rds-storage-encrypted.ts";
import { requiredTags } from "./required-tags.ts";
import { s3Encrypted } from "./s3-encrypted.ts";

/** Every rule run at synth. */
export const RULES: readonly PolicyRule[] = [
  rdsStorageEncrypted,
  elasticacheEncrypted,
  ebsEncrypted,
  s3Encrypted,
  noPublicIngress,
  productionDeletionProtection,
  requiredTags,
];
