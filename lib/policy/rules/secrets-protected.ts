import type { PolicyRule } from "../types.ts";

/** Every Secrets Manager secret is encrypted with a customer-managed key and has a resource policy. */
export const secretsProtected: PolicyRule = {
  id: "secrets-protected",
  description: "Secrets Manager secrets use a customer-managed KMS key and carry a resource policy",
  appliesTo: ["aws_secretsmanager_secret"],
  check: (r) => {
    const problems = [
      ...(typeof r.config.kms_key_id === "string" && r.config.kms_key_id !== ""
        ? []
        : ["kms_key_id must name the environment's KMS key (not the AWS-managed key)"]),
      ...(r.referencedBy.includes("aws_secretsmanager_secret_policy")
        ? []
        : ["needs an aws_secretsmanager_secret_policy limiting who reads the value"]),
    ];
    return problems.length > 0 ? problems.join("; ") : undefined;
  },
};
