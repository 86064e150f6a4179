import { isTrue, type PolicyRule } from "../types.ts";

export const productionDeletionProtection: PolicyRule = {
  id: "production-deletion-protection",
  description: "Production databases are protected from deletion and keep a final snapshot",
  appliesTo: ["aws_db_instance", "aws_rds_cluster"],
  check: (r) => {
    if (r.tags.Tier !== "production") return undefined;
    if (!isTrue(r.config.deletion_protection)) return "deletion_protection must be true in production";
    if (isTrue(r.config.skip_final_snapshot)) return "skip_final_snapshot must be false in production";
    return undefined;
  },
};
