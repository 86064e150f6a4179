import { isTrue, type PolicyRule } from "../types.ts";

/** checkov covers WAF on public ALBs too, but production may not carry an exception for it. */
export const productionAlbWaf: PolicyRule = {
  id: "production-alb-waf",
  description: "Internet-facing production load balancers sit behind a WAFv2 web ACL (aws_wafv2_web_acl_association)",
  appliesTo: ["aws_lb", "aws_alb"],
  check: (r) => {
    if (r.tags.Tier !== "production" || isTrue(r.config.internal)) return undefined;
    if (r.config.load_balancer_type !== undefined && r.config.load_balancer_type !== "application") return undefined;
    return r.referencedBy.includes("aws_wafv2_web_acl_association")
      ? undefined
      : "needs a WAFv2 web ACL associated in the same stack (environment file: waf)";
  },
};
