import { isTrue, type PolicyRule } from "../types.ts";

export const elasticacheEncrypted: PolicyRule = {
  id: "elasticache-encrypted",
  description: "ElastiCache replication groups encrypt at rest and in transit",
  appliesTo: ["aws_elasticache_replication_group"],
  check: (r) => {
    const missing = ["at_rest_encryption_enabled", "transit_encryption_enabled"].filter((k) => !isTrue(r.config[k]));
    return missing.length ? `${missing.join(" and ")} must be true` : undefined;
  },
};
