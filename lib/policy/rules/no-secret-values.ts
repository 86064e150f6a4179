import type { PolicyRule } from "../types.ts";

/**
 * Secret values never pass through Terraform: whatever a resource's configuration holds ends up in
 * the plan and the state. Values are written with `envctl secret set` (Secrets Manager) instead.
 */
export const noSecretValues: PolicyRule = {
  id: "no-secret-values",
  description:
    "No secret value in Terraform: no Secrets Manager versions, no Kubernetes secret data, no SecureString parameters",
  appliesTo: ["aws_secretsmanager_secret_version", "kubernetes_secret_v1", "kubernetes_secret", "aws_ssm_parameter"],
  check: (r) => {
    switch (r.type) {
      case "aws_secretsmanager_secret_version":
        return "would put a secret value into the plan and the state: create the secret only, and set its value with 'envctl secret set'";
      case "aws_ssm_parameter":
        return r.config.type === "SecureString"
          ? "is a SecureString whose value would be in the state: secrets belong in Secrets Manager (app.secrets)"
          : undefined;
      default:
        return r.config.data !== undefined || r.config.binary_data !== undefined
          ? "carries secret data, which would be in the state: pods read secrets from Secrets Manager by ARN"
          : undefined;
    }
  },
};
