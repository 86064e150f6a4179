import { block, blocks } from "../k8s.ts";
import type { PolicyRule } from "../types.ts";

export const eksSecretsEncryption: PolicyRule = {
  id: "eks-secrets-encryption",
  description: "EKS clusters envelope-encrypt Kubernetes secrets with a KMS key (encryption_config)",
  appliesTo: ["aws_eks_cluster"],
  check: (r) => {
    const configs = blocks(r.config.encryption_config);
    const ok = configs.some((c) => {
      const resources = c.resources;
      const key = block(c.provider)?.key_arn;
      return Array.isArray(resources) && resources.includes("secrets") && typeof key === "string" && key !== "";
    });
    return ok ? undefined : 'needs encryption_config with resources = ["secrets"] and a provider.key_arn';
  },
};
