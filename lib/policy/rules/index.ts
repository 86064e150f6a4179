import type { PolicyRule } from "../types.ts";
import { asgRequiredTags } from "./asg-required-tags.ts";
import { ebsEncrypted } from "./ebs-encrypted.ts";
import { eksPrivateEndpointProduction } from "./eks-private-endpoint-production.ts";
import { eksSecretsEncryption } from "./eks-secrets-encryption.ts";
import { elasticacheEncrypted } from "./elasticache-encrypted.ts";
import { k8sNoPrivileged } from "./k8s-no-privileged.ts";
import { k8sPodSecurity } from "./k8s-pod-security.ts";
import { k8sResourceLimits } from "./k8s-resource-limits.ts";
import { noPlaceholderCidrs } from "./no-placeholder-cidrs.ts";
import { noPublicIngress } from "./no-public-ingress.ts";
import { noSecretValues } from "./no-secret-values.ts";
import { productionAlbWaf } from "./production-alb-waf.ts";
import { productionDeletionProtection } from "./production-deletion-protection.ts";
import { rdsStorageEncrypted } from "./rds-storage-encrypted.ts";
import { requiredTags } from "./required-tags.ts";
import { s3Encrypted } from "./s3-encrypted.ts";
import { secretsProtected } from "./secrets-protected.ts";

/** Every rule run at synth. */
export const RULES: readonly PolicyRule[] = [
  rdsStorageEncrypted,
  elasticacheEncrypted,
  ebsEncrypted,
  s3Encrypted,
  noPublicIngress,
  productionDeletionProtection,
  requiredTags,
  eksSecretsEncryption,
  eksPrivateEndpointProduction,
  k8sPodSecurity,
  k8sNoPrivileged,
  k8sResourceLimits,
  noPlaceholderCidrs,
  productionAlbWaf,
  asgRequiredTags,
  noSecretValues,
  secretsProtected,
];
