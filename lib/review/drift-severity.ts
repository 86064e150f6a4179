/**
 * Drift by severity: every drifted attribute gets a class (critical, high, medium, low) from the
 * environment's own `drift.classes` first, then the built-in table below (first match wins), and
 * an attribute nothing matches is critical (fail closed: unknown drift is never healed silently).
 * `--heal <max>` re-applies only the stacks whose drift is all at or below `max`.
 */
import { DRIFT_SEVERITIES, type DriftConfig, type DriftSeverity } from "../config/schema/drift.ts";
import type { DriftedResource, StackDrift } from "./drift.ts";

export { DRIFT_SEVERITIES, type DriftSeverity };

/** One rule of the table: `<resource type>.<attribute>` with `*` wildcards. */
export interface DriftClassRule {
  readonly match: string;
  readonly severity: DriftSeverity;
}

/**
 * The built-in classes, first match wins. Tags first: a tag is harmless on any resource (a
 * security group's tags included). Then whole resource types whose every attribute guards access
 * or traffic, then attributes by name.
 */
export const BUILTIN_DRIFT_CLASSES: readonly DriftClassRule[] = [
  // a resource deleted behind the engine's back
  { match: "*.(deleted)", severity: "critical" },
  // low: tags
  { match: "*.tags", severity: "low" },
  { match: "*.tags_all", severity: "low" },
  // critical: security groups and network ACLs, IAM, KMS, public access, listener rules and weights, WAF
  { match: "aws_security_group*.*", severity: "critical" },
  { match: "aws_vpc_security_group_*.*", severity: "critical" },
  { match: "aws_network_acl*.*", severity: "critical" },
  { match: "aws_iam_*.*", severity: "critical" },
  { match: "aws_kms_*.*", severity: "critical" },
  { match: "aws_s3_bucket_public_access_block.*", severity: "critical" },
  { match: "aws_s3_bucket_policy.*", severity: "critical" },
  { match: "aws_s3_bucket_server_side_encryption_configuration.*", severity: "critical" },
  { match: "aws_lb_listener.*", severity: "critical" },
  { match: "aws_lb_listener_rule.*", severity: "critical" },
  { match: "aws_wafv2_*.*", severity: "critical" },
  { match: "*.*encrypt*", severity: "critical" },
  { match: "*.kms_key_id", severity: "critical" },
  { match: "*.kms_key_arn", severity: "critical" },
  { match: "*.publicly_accessible", severity: "critical" },
  { match: "*.*public_access*", severity: "critical" },
  { match: "*.map_public_ip_on_launch", severity: "critical" },
  { match: "*.associate_public_ip_address", severity: "critical" },
  { match: "*.deletion_protection", severity: "critical" },
  { match: "*.enable_deletion_protection", severity: "critical" },
  { match: "*.vpc_security_group_ids", severity: "critical" },
  { match: "*.security_groups", severity: "critical" },
  { match: "*.security_group_ids", severity: "critical" },
  { match: "*.ingress", severity: "critical" },
  { match: "*.egress", severity: "critical" },
  { match: "*.policy", severity: "critical" },
  { match: "*.*_policy", severity: "critical" },
  { match: "*.iam_instance_profile", severity: "critical" },
  { match: "*.role_arn", severity: "critical" },
  { match: "*.web_acl_arn", severity: "critical" },
  // medium: monitoring
  { match: "aws_cloudwatch_*.*", severity: "medium" },
  { match: "aws_sns_*.*", severity: "medium" },
  { match: "aws_flow_log.*", severity: "medium" },
  { match: "*.monitoring_interval", severity: "medium" },
  { match: "*.performance_insights_*", severity: "medium" },
  { match: "*.enabled_cloudwatch_logs_exports", severity: "medium" },
  { match: "*.alarm_*", severity: "medium" },
  { match: "*.retention_in_days", severity: "medium" },
  // high: sizing and capacity
  { match: "aws_autoscaling_*.*", severity: "high" },
  { match: "aws_appautoscaling_*.*", severity: "high" },
  { match: "*.instance_type", severity: "high" },
  { match: "*.instance_types", severity: "high" },
  { match: "*.instance_class", severity: "high" },
  { match: "*.node_type", severity: "high" },
  { match: "*.allocated_storage", severity: "high" },
  { match: "*.max_allocated_storage", severity: "high" },
  { match: "*.iops", severity: "high" },
  { match: "*.storage_type", severity: "high" },
  { match: "*.multi_az", severity: "high" },
  { match: "*.desired_capacity", severity: "high" },
  { match: "*.min_size", severity: "high" },
  { match: "*.max_size", severity: "high" },
  { match: "*.scaling_config", severity: "high" },
  { match: "*.num_cache_clusters", severity: "high" },
  { match: "*.replicas*", severity: "high" },
  { match: "*.capacity*", severity: "high" },
  { match: "*.health_check", severity: "high" },
  // low: descriptions
  { match: "*.description", severity: "low" },
];

/** Ranks, lowest first: low 0 … critical 3. */
export function severityRank(s: DriftSeverity): number {
  return DRIFT_SEVERITIES.length - 1 - DRIFT_SEVERITIES.indexOf(s);
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    globCache.set(pattern, re);
  }
  return re;
}

/** The resource type of an address (`module.x.aws_lb.main[0]` → `aws_lb`). */
export function resourceTypeOf(address: string): string {
  const parts = address
    .replace(/\[[^\]]*\]/g, "")
    .split(".")
    .filter((p) => p !== "data");
  return parts.length >= 2 ? parts[parts.length - 2]! : (parts[0] ?? "");
}

export interface ClassifiedAttribute {
  readonly attribute: string;
  readonly severity: DriftSeverity;
  /** The rule that matched (`aws_security_group*.*`, `env: *.backup_window`, or `unclassified`). */
  readonly rule: string;
}

/** The class of one drifted attribute of a resource type. */
export function classifyAttribute(
  type: string,
  attribute: string,
  overrides: DriftConfig["classes"] = [],
): ClassifiedAttribute {
  const key = `${type}.${attribute}`;
  for (const o of overrides)
    if (glob(o.match).test(key)) return { attribute, severity: o.severity, rule: `environment: ${o.match}` };
  for (const r of BUILTIN_DRIFT_CLASSES)
    if (glob(r.match).test(key)) return { attribute, severity: r.severity, rule: r.match };
  return { attribute, severity: "critical", rule: "unclassified (fail closed)" };
}

/** A stack's drift with a class per attribute and the stack's worst. */
export interface ClassifiedStackDrift extends Omit<StackDrift, "resources" | "severity"> {
  readonly severity: DriftSeverity | null;
  readonly resources: (Omit<DriftedResource, "classes"> & { readonly classes: readonly ClassifiedAttribute[] })[];
}

export function classifyDrift(d: StackDrift, overrides: DriftConfig["classes"] = []): ClassifiedStackDrift {
  const resources = d.resources.map((r) => ({
    ...r,
    classes: r.attributes.map((a) => classifyAttribute(resourceTypeOf(r.address), a, overrides)),
  }));
  const all = resources.flatMap((r) => r.classes.map((c) => c.severity));
  return { ...d, resources, severity: worst(all) };
}

/** The most severe of `list`; null when empty. */
export function worst(list: readonly DriftSeverity[]): DriftSeverity | null {
  return list.length === 0 ? null : list.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a));
}

export interface HealPlan {
  /** Drifted stacks whose drift is all at or below the maximum: re-applied. */
  readonly heal: readonly string[];
  /** Drifted stacks with drift above it: left for the usual, approved deploy. */
  readonly keep: readonly {
    readonly stack: string;
    readonly severity: DriftSeverity;
    readonly above: readonly string[];
  }[];
}

/** Which stacks `--heal <max>` re-applies: those whose every drifted attribute is at or below `max`. */
export function healPlan(results: readonly ClassifiedStackDrift[], max: DriftSeverity): HealPlan {
  const heal: string[] = [];
  const keep: { stack: string; severity: DriftSeverity; above: string[] }[] = [];
  for (const r of results) {
    if (r.status !== "drifted" || r.severity === null) continue;
    const above = r.resources.flatMap((x) =>
      x.classes
        .filter((c) => severityRank(c.severity) > severityRank(max))
        .map((c) => `${x.address}.${c.attribute} (${c.severity})`),
    );
    if (above.length === 0) heal.push(r.stack);
    else keep.push({ stack: r.stack, severity: r.severity, above });
  }
  return { heal, keep };
}

/** `drift` as people read it: each drifted attribute with its class. */
export function formatClassifiedDrift(results: readonly ClassifiedStackDrift[]): string {
  return results
    .map((r) =>
      [
        `${r.stack}: ${r.status}${r.severity ? ` (worst: ${r.severity})` : ""}`,
        ...r.resources.flatMap((d) =>
          d.classes.map(
            (c) =>
              `  ~ ${d.address}.${c.attribute}: ${c.severity}${c.rule.startsWith("environment") ? ` (${c.rule})` : ""}`,
          ),
        ),
      ].join("\n"),
    )
    .join("\n");
}
