import { cidrsOverlap, parseCidr } from "../../config/cidr.ts";
import { block, blocks } from "../k8s.ts";
import type { PolicyRule } from "../types.ts";

/**
 * Address ranges reserved for documentation (RFC 5737, RFC 3849): examples copied into a
 * configuration, never a real network. An allowlist holding one lets nobody in, or someone else.
 */
export const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] as const;
const DOCUMENTATION_V6 = /^2001:0?db8:/i;

function placeholders(cidrs: unknown[]): string[] {
  return cidrs
    .filter((c): c is string => typeof c === "string")
    .filter((c) => {
      if (DOCUMENTATION_V6.test(c)) return true;
      const parsed = parseCidr(c);
      // Inside a documentation range (0.0.0.0/0 contains them all and is a real, if wide, choice).
      return (
        parsed !== undefined &&
        DOCUMENTATION_RANGES.some((d) => {
          const doc = parseCidr(d)!;
          return parsed.prefix >= doc.prefix && cidrsOverlap(parsed, doc);
        })
      );
    });
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

export const noPlaceholderCidrs: PolicyRule = {
  id: "no-placeholder-cidrs",
  description:
    "No allowlist names a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32): a placeholder is not a network",
  appliesTo: [
    "aws_eks_cluster",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_security_group_rule",
    "aws_security_group",
    "aws_wafv2_ip_set",
  ],
  check: (r) => {
    const c = r.config;
    const cidrs =
      r.type === "aws_eks_cluster"
        ? list(block(c.vpc_config)?.public_access_cidrs)
        : r.type === "aws_security_group"
          ? [...blocks(c.ingress), ...blocks(c.egress)].flatMap((rule) => [
              ...list(rule.cidr_blocks),
              ...list(rule.ipv6_cidr_blocks),
            ])
          : r.type === "aws_wafv2_ip_set"
            ? list(c.addresses)
            : [...list(c.cidr_ipv4), ...list(c.cidr_ipv6), ...list(c.cidr_blocks), ...list(c.ipv6_cidr_blocks)];
    const found = placeholders(cidrs);
    return found.length
      ? `${found.join(", ")} is a documentation range, not a real network: list the real CIDRs or none`
      : undefined;
  },
};
