import { block } from "../k8s.ts";
import { isTrue, type PolicyRule } from "../types.ts";

const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);

/**
 * In production the API endpoint is never open to the whole internet. AWS defaults matter here:
 * the public endpoint is on unless `endpoint_public_access = false`, and open to 0.0.0.0/0 unless
 * `public_access_cidrs` says otherwise.
 */
export const eksPrivateEndpointProduction: PolicyRule = {
  id: "eks-private-endpoint-production",
  description: "Production EKS clusters have no public API endpoint open to 0.0.0.0/0",
  appliesTo: ["aws_eks_cluster"],
  check: (r) => {
    if (r.tags.Tier !== "production") return undefined;
    const vpc = block(r.config.vpc_config) ?? {};
    const publicAccess = vpc.endpoint_public_access === undefined || isTrue(vpc.endpoint_public_access);
    if (!publicAccess) return undefined;
    const cidrs = Array.isArray(vpc.public_access_cidrs) ? (vpc.public_access_cidrs as unknown[]) : [];
    if (cidrs.length === 0)
      return "the public endpoint is open to 0.0.0.0/0 (AWS default): set endpoint_public_access = false or restrict public_access_cidrs";
    const open = cidrs.filter((c) => ANYWHERE.has(String(c)));
    return open.length ? `public_access_cidrs must not contain ${open.join(", ")} in production` : undefined;
  },
};
