/**
 * Drift by severity: the class of each drifted attribute (the built-in table, the
 * environment's overrides first, unknown drift critical), and which stacks `--heal <max>` re-applies.
 */
import { describe, expect, it } from "vitest";
import { DriftSchema } from "../lib/config/schema/drift.ts";
import { driftFromPlan } from "../lib/review/drift.ts";
import {
  type ClassifiedStackDrift,
  classifyAttribute,
  classifyDrift,
  formatClassifiedDrift,
  healPlan,
  resourceTypeOf,
  worst,
} from "../lib/review/drift-severity.ts";

describe("drift classes", () => {
  it.each([
    // critical: security groups, IAM, KMS and encryption, public access, deletion protection, listener rules and weights, WAF
    ["aws_security_group", "ingress", "critical"],
    ["aws_security_group", "egress", "critical"],
    ["aws_security_group", "description", "critical"],
    ["aws_vpc_security_group_ingress_rule", "cidr_ipv4", "critical"],
    ["aws_iam_role", "assume_role_policy", "critical"],
    ["aws_iam_role_policy_attachment", "policy_arn", "critical"],
    ["aws_kms_key", "enable_key_rotation", "critical"],
    ["aws_db_instance", "storage_encrypted", "critical"],
    ["aws_db_instance", "kms_key_id", "critical"],
    ["aws_elasticache_replication_group", "at_rest_encryption_enabled", "critical"],
    ["aws_db_instance", "publicly_accessible", "critical"],
    ["aws_s3_bucket_public_access_block", "block_public_acls", "critical"],
    ["aws_db_instance", "deletion_protection", "critical"],
    ["aws_lb", "enable_deletion_protection", "critical"],
    ["aws_lb_listener_rule", "action", "critical"],
    ["aws_lb_listener", "default_action", "critical"],
    ["aws_wafv2_web_acl", "rule", "critical"],
    ["aws_instance", "vpc_security_group_ids", "critical"],
    ["aws_db_instance", "(deleted)", "critical"],
    // high: sizing and capacity
    ["aws_db_instance", "instance_class", "high"],
    ["aws_db_instance", "allocated_storage", "high"],
    ["aws_launch_template", "instance_type", "high"],
    ["aws_autoscaling_group", "desired_capacity", "high"],
    ["aws_eks_node_group", "scaling_config", "high"],
    ["aws_elasticache_replication_group", "node_type", "high"],
    ["aws_db_instance", "multi_az", "high"],
    ["aws_lb_target_group", "health_check", "high"],
    // medium: monitoring
    ["aws_cloudwatch_metric_alarm", "threshold", "medium"],
    ["aws_cloudwatch_log_group", "retention_in_days", "medium"],
    ["aws_sns_topic_subscription", "endpoint", "medium"],
    ["aws_flow_log", "traffic_type", "medium"],
    ["aws_db_instance", "monitoring_interval", "medium"],
    ["aws_db_instance", "performance_insights_enabled", "medium"],
    // low: tags and descriptions (tags on any resource, a security group's too)
    ["aws_security_group", "tags", "low"],
    ["aws_lb_listener_rule", "tags", "low"],
    ["aws_db_instance", "tags_all", "low"],
    ["aws_db_subnet_group", "description", "low"],
    // unknown: fail closed
    ["aws_db_instance", "backup_window", "critical"],
  ])("%s.%s is %s", (type, attribute, severity) => {
    expect(classifyAttribute(type, attribute).severity).toBe(severity);
  });

  it("an environment's classes come first, in order, with * as a wildcard", () => {
    const classes = DriftSchema.parse({
      classes: [
        { match: "aws_db_instance.backup_window", severity: "low" },
        { match: "aws_cloudwatch_*.*", severity: "high" },
        { match: "*.tags", severity: "medium" },
      ],
    }).classes;
    expect(classifyAttribute("aws_db_instance", "backup_window", classes)).toEqual({
      attribute: "backup_window",
      severity: "low",
      rule: "environment: aws_db_instance.backup_window",
    });
    expect(classifyAttribute("aws_cloudwatch_metric_alarm", "threshold", classes).severity).toBe("high");
    expect(classifyAttribute("aws_security_group", "tags", classes).severity).toBe("medium");
    expect(classifyAttribute("aws_security_group", "ingress", classes)).toEqual({
      attribute: "ingress",
      severity: "critical",
      rule: "aws_security_group*.*",
    });
  });

  it("refuses a class that is not <type>.<attribute> or an unknown severity", () => {
    const r = DriftSchema.safeParse({
      classes: [
        { match: "aws_db_instance", severity: "low" },
        { match: "*.tags", severity: "minor" },
      ],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      "classes.0.match: must be <resource type>.<attribute> with * as a wildcard, e.g. aws_db_instance.backup_window or *.tags",
      "classes.1.severity: must be one of critical, high, medium, low",
    ]);
  });

  it("reads the resource type of an address", () => {
    expect(resourceTypeOf("aws_security_group.database_sg_4A1B2C3D")).toBe("aws_security_group");
    expect(resourceTypeOf("module.net.aws_security_group.sg[0]")).toBe("aws_security_group");
    expect(resourceTypeOf('aws_lb_listener_rule.weighted_rule_1["x"]')).toBe("aws_lb_listener_rule");
  });
});

const plan = (changes: [address: string, before: object, after: object][]) => ({
  resource_drift: changes.map(([address, before, after]) => ({
    address,
    mode: "managed",
    change: { actions: ["update"], before, after },
  })),
});

describe("heal selection", () => {
  const results: ClassifiedStackDrift[] = [
    classifyDrift(
      driftFromPlan(
        "dev",
        plan([
          [
            "aws_security_group.database_sg",
            { ingress: [{ from_port: 5432 }], tags: { a: "1" } },
            { ingress: [{ from_port: 5432 }, { from_port: 22 }], tags: { a: "2" } },
          ],
        ]),
      ),
    ),
    classifyDrift(
      driftFromPlan(
        "dev-traffic",
        plan([
          [
            "aws_lb_listener_rule.weighted_rule",
            { tags: { Name: "dev-weighted" } },
            { tags: { Name: "dev-weighted", Owner: "someone" } },
          ],
        ]),
      ),
    ),
    classifyDrift(
      driftFromPlan(
        "staging",
        plan([["aws_cloudwatch_metric_alarm.cpu", { threshold: 80, tags: {} }, { threshold: 95, tags: { x: "y" } }]]),
      ),
    ),
    classifyDrift(driftFromPlan("staging-traffic", {})),
  ];

  it("classes every attribute and gives each stack its worst", () => {
    expect(results.map((r) => [r.stack, r.status, r.severity])).toEqual([
      ["dev", "drifted", "critical"],
      ["dev-traffic", "drifted", "low"],
      ["staging", "drifted", "medium"],
      ["staging-traffic", "in sync", null],
    ]);
    expect(results[0]!.resources[0]!.classes).toEqual([
      { attribute: "ingress", severity: "critical", rule: "aws_security_group*.*" },
      { attribute: "tags", severity: "low", rule: "*.tags" },
    ]);
    expect(worst(["low", "medium", "low"])).toBe("medium");
    expect(worst([])).toBeNull();
  });

  it("--heal low re-applies only the stacks whose drift is all low; a stack with critical drift beside low waits", () => {
    expect(healPlan(results, "low")).toEqual({
      heal: ["dev-traffic"],
      keep: [
        { stack: "dev", severity: "critical", above: ["aws_security_group.database_sg.ingress (critical)"] },
        { stack: "staging", severity: "medium", above: ["aws_cloudwatch_metric_alarm.cpu.threshold (medium)"] },
      ],
    });
  });

  it("--heal medium takes the monitoring drift too, --heal critical everything drifted, never a stack in sync", () => {
    expect(healPlan(results, "medium").heal).toEqual(["dev-traffic", "staging"]);
    expect(healPlan(results, "critical")).toEqual({ heal: ["dev", "dev-traffic", "staging"], keep: [] });
  });

  it("prints each drifted attribute with its class", () => {
    expect(formatClassifiedDrift(results.slice(0, 2))).toBe(
      [
        "dev: drifted (worst: critical)",
        "  ~ aws_security_group.database_sg.ingress: critical",
        "  ~ aws_security_group.database_sg.tags: low",
        "dev-traffic: drifted (worst: low)",
        "  ~ aws_lb_listener_rule.weighted_rule.tags: low",
      ].join("\n"),
    );
  });
});
