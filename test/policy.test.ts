import { describe, expect, it } from "vitest";
import { checkStack } from "../lib/policy/check.ts";
import { RULES } from "../lib/policy/rules/index.ts";
import { synthRepo } from "./support/project.ts";

const TAGS = {
  Environment: "dev",
  Project: "webapp",
  ManagedBy: "cdktf",
  Owner: "o",
  CostCenter: "c",
  Tier: "development",
};

/** A one-resource stack in synthesized form. */
function stack(
  type: string,
  config: Record<string, unknown>,
  extra: Record<string, Record<string, unknown>> = {},
  tags: Record<string, string> = TAGS,
) {
  return {
    provider: { aws: [{ region: "eu-west-1", default_tags: [{ tags }] }] },
    resource: {
      [type]: { subject: config },
      ...Object.fromEntries(Object.entries(extra).map(([t, c]) => [t, { other: c }])),
    },
  };
}
const rulesFired = (json: any) => checkStack("s", json).map((f) => f.rule);

describe("policy rules", () => {
  it("passes every shipped stack", async () => {
    const s = await synthRepo();
    for (const name of Object.keys(s.text)) expect(checkStack(name, s.stack(name))).toEqual([]);
  });

  it("has one file per rule, each with a unique id", () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });

  it("rds-storage-encrypted fires on an unencrypted database", () => {
    expect(rulesFired(stack("aws_db_instance", { storage_encrypted: false }))).toContain("rds-storage-encrypted");
    expect(rulesFired(stack("aws_db_instance", { storage_encrypted: true }))).not.toContain("rds-storage-encrypted");
  });

  it("elasticache-encrypted fires without at-rest or in-transit encryption", () => {
    const f = checkStack(
      "s",
      stack("aws_elasticache_replication_group", {
        at_rest_encryption_enabled: "true",
        transit_encryption_enabled: false,
      }),
    );
    expect(f.map((x) => x.message)).toEqual(["transit_encryption_enabled must be true"]);
  });

  it("ebs-encrypted fires on launch templates and volumes", () => {
    expect(
      rulesFired(
        stack("aws_launch_template", {
          block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "false" } }],
        }),
      ),
    ).toContain("ebs-encrypted");
    expect(rulesFired(stack("aws_launch_template", {}))).toContain("ebs-encrypted");
    expect(rulesFired(stack("aws_ebs_volume", { encrypted: false }))).toContain("ebs-encrypted");
  });

  it("s3-encrypted fires on a bucket without an encryption configuration", () => {
    expect(rulesFired(stack("aws_s3_bucket", { bucket: "b" }))).toContain("s3-encrypted");
    const encrypted = stack(
      "aws_s3_bucket",
      { bucket: "b" },
      { aws_s3_bucket_server_side_encryption_configuration: { bucket: "${aws_s3_bucket.subject.id}" } },
    );
    expect(rulesFired(encrypted)).not.toContain("s3-encrypted");
  });

  it("no-public-ingress allows only 80/443 from anywhere", () => {
    const rule = (port: number, cidr = "0.0.0.0/0") =>
      stack("aws_vpc_security_group_ingress_rule", {
        cidr_ipv4: cidr,
        from_port: port,
        to_port: port,
        ip_protocol: "tcp",
      });
    expect(rulesFired(rule(22))).toContain("no-public-ingress");
    expect(rulesFired(rule(443))).not.toContain("no-public-ingress");
    expect(rulesFired(rule(22, "10.0.0.0/16"))).not.toContain("no-public-ingress");
    expect(
      rulesFired(
        stack("aws_security_group", { ingress: [{ cidr_blocks: ["0.0.0.0/0"], from_port: 0, to_port: 65535 }] }),
      ),
    ).toContain("no-public-ingress");
    expect(
      rulesFired(
        stack("aws_security_group_rule", {
          type: "ingress",
          ipv6_cidr_blocks: ["::/0"],
          from_port: 5432,
          to_port: 5432,
        }),
      ),
    ).toContain("no-public-ingress");
  });

  it("production-deletion-protection fires only in production", () => {
    const db = { storage_encrypted: true, deletion_protection: false };
    expect(rulesFired(stack("aws_db_instance", db, {}, { ...TAGS, Tier: "production" }))).toContain(
      "production-deletion-protection",
    );
    expect(rulesFired(stack("aws_db_instance", db))).not.toContain("production-deletion-protection");
  });

  it("required-tags fires when the provider's default tags lack one", () => {
    const { Owner: _owner, ...partial } = TAGS;
    const f = checkStack("s", stack("aws_sns_topic", { name: "t" }, {}, partial));
    expect(f).toEqual([
      expect.objectContaining({ rule: "required-tags", address: "provider.aws[0]", message: "missing tag(s) Owner" }),
    ]);
    expect(rulesFired(stack("aws_sns_topic", { name: "t", tags: { Owner: "" } }))).toContain("required-tags");
  });
  it("no-placeholder-cidrs fires on documentation ranges in allowlists, and only there", () => {
    const eks = (cidrs: string[]) =>
      stack("aws_eks_cluster", { vpc_config: { endpoint_public_access: true, public_access_cidrs: cidrs } });
    const f = checkStack("s", eks(["203.0.113.0/24"])).filter((x) => x.rule === "no-placeholder-cidrs");
    expect(f.map((x) => x.message)).toEqual([
      "203.0.113.0/24 is a documentation range, not a real network: list the real CIDRs or none",
    ]);
    expect(rulesFired(eks(["198.51.100.16/28"]))).toContain("no-placeholder-cidrs");
    expect(rulesFired(eks(["192.0.0.0/8"]))).not.toContain("no-placeholder-cidrs"); // wider than a documentation range
    expect(rulesFired(eks(["81.2.69.0/28"]))).not.toContain("no-placeholder-cidrs");
    expect(
      rulesFired(
        stack("aws_vpc_security_group_ingress_rule", { cidr_ipv4: "192.0.2.0/24", from_port: 443, to_port: 443 }),
      ),
    ).toContain("no-placeholder-cidrs");
    expect(
      rulesFired(
        stack("aws_vpc_security_group_ingress_rule", { cidr_ipv6: "2001:db8::/32", from_port: 443, to_port: 443 }),
      ),
    ).toContain("no-placeholder-cidrs");
    expect(
      rulesFired(
        stack("aws_security_group", {
          ingress: [{ cidr_blocks: ["10.0.0.0/16", "203.0.113.7/32"], from_port: 22, to_port: 22 }],
        }),
      ),
    ).toContain("no-placeholder-cidrs");
    expect(rulesFired(stack("aws_wafv2_ip_set", { addresses: ["198.51.100.0/24"] }))).toContain("no-placeholder-cidrs");
  });

  it("production-alb-waf fires on a public production ALB without a web ACL association", () => {
    const prod = { ...TAGS, Tier: "production" };
    expect(rulesFired(stack("aws_lb", { load_balancer_type: "application", internal: false }, {}, prod))).toContain(
      "production-alb-waf",
    );
    const guarded = stack(
      "aws_lb",
      { load_balancer_type: "application", internal: false },
      { aws_wafv2_web_acl_association: { resource_arn: "${aws_lb.subject.arn}", web_acl_arn: "x" } },
      prod,
    );
    expect(rulesFired(guarded)).not.toContain("production-alb-waf");
    expect(rulesFired(stack("aws_lb", { internal: true }, {}, prod))).not.toContain("production-alb-waf");
    expect(rulesFired(stack("aws_lb", { internal: false }))).not.toContain("production-alb-waf");
  });

  it("asg-required-tags fires when an Auto Scaling group lacks a required tag block or does not propagate it", () => {
    const tag = (key: string, propagate = true) => ({ key, value: "x", propagate_at_launch: propagate });
    const all = ["Environment", "Project", "ManagedBy", "Owner", "CostCenter"].map((k) => tag(k));
    expect(rulesFired(stack("aws_autoscaling_group", { tag: all }))).not.toContain("asg-required-tags");
    const f = checkStack(
      "s",
      stack("aws_autoscaling_group", { tag: [...all.slice(1, 4), tag("CostCenter", false)] }),
    ).filter((x) => x.rule === "asg-required-tags");
    expect(f.map((x) => x.message)).toEqual(["missing tag block(s) Environment; CostCenter not propagated at launch"]);
  });
});
