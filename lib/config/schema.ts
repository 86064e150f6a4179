/**
 * The environment model. These zod schemas are the single source of the types: every
 * `Environment*` type in the project is inferred from them.
 *
 * Strict at every depth: an unknown key is an error, never dropped. Bounds come from AWS's
 * documented limits (cited beside each) or, where AWS has none, from a stated project limit that
 * keeps a typo (1e9 instances) from reaching a plan. Types and engine versions are checked
 * against the catalogue (lib/config/catalogue.ts); no string may carry a Terraform template
 * sequence (lib/config/template.ts).
 *
 * This file holds the environment itself and re-exports its sections, one concept each, from
 * lib/config/schema/: network, compute (EC2 or EKS), data (database, cache), monitoring, waf,
 * backup, app, tags; common.ts has the pieces they share. The vocabulary shared with the other
 * layers (tiers, slots, regions, setting values) is lib/core/primitives.ts.
 */
import { z } from "zod";
import { REGION_PATTERN, RegionSchema, TierSchema } from "../core/primitives.ts";
import { ReleasePolicySchema } from "../release/model/policy.ts";
import { NameSchema } from "./names.ts";
import { AccountSchema } from "./schema/account.ts";
import { AppSchema } from "./schema/app.ts";
import { ApprovalsSchema } from "./schema/approvals.ts";
import { BackupSchema } from "./schema/backup.ts";
import { isInt, WHEN_OBJECT } from "./schema/common.ts";
import { ComputeSchema, type Ec2ComputeSchema, type EksComputeSchema } from "./schema/compute.ts";
import { CacheSchema, DatabaseSchema } from "./schema/data.ts";
import { DriftSchema } from "./schema/drift.ts";
import { MonitoringSchema } from "./schema/monitoring.ts";
import { NetworkSchema } from "./schema/network.ts";
import { NotifySchema } from "./schema/notify.ts";
import { TagsSchema, TagValueSchema } from "./schema/tags.ts";
import { WafSchema } from "./schema/waf.ts";
import { findTemplateSequences, TEMPLATE_RULE } from "./template.ts";

export { SLOTS, type Slot, SlotSchema, TIERS, type Tier, TierSchema } from "../core/primitives.ts";
export { NameSchema } from "./names.ts";
export { ACCOUNT_ID, type AccountConfig, AccountSchema, accountStateBucket, ROLE_ARN } from "./schema/account.ts";
export { AppSchema } from "./schema/app.ts";
export { ApprovalsSchema } from "./schema/approvals.ts";
export { BackupRuleSchema, BackupSchema } from "./schema/backup.ts";
export { LOG_RETENTION_DAYS } from "./schema/common.ts";
export {
  AutoScalingSchema,
  ComputeSchema,
  Ec2ComputeSchema,
  EksComputeSchema,
  MAX_EC2_INSTANCES,
  MAX_NODE_GROUPS,
  MAX_NODES_PER_GROUP,
  MAX_REPLICAS,
  NodeGroupSchema,
  PodResourcesSchema,
  QuotaSchema,
} from "./schema/compute.ts";
export { CacheSchema, DatabaseSchema } from "./schema/data.ts";
export { DRIFT_SEVERITIES, DriftSchema, type DriftSeverity } from "./schema/drift.ts";
export { MonitoringSchema, ThresholdsSchema } from "./schema/monitoring.ts";
export { NetworkSchema } from "./schema/network.ts";
export {
  NotifySchema,
  type NotifyTarget,
  NotifyTargetSchema,
  type SecretRef,
  SecretRefSchema,
} from "./schema/notify.ts";
export { MAX_USER_TAGS, PROJECT_TAG_KEYS, TagValueSchema } from "./schema/tags.ts";
export { WafSchema } from "./schema/waf.ts";

/**
 * OCI distribution reference without tag or digest: an optional registry host (with port), then
 * lower-case path components; at most 255 characters (OCI distribution spec, "name").
 */
const HOST_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`;
const IMAGE_REPOSITORY = new RegExp(
  String.raw`^(?:${HOST_LABEL}(?:\.${HOST_LABEL})*(?::\d{1,5})?\/)?${PATH_COMPONENT}(?:\/${PATH_COMPONENT})*$`,
);

const ImageSchema = z.strictObject({
  /** Container image repository; a slot runs `<repository>:<version>`. */
  repository: z
    .string()
    .min(1)
    .max(255, "must be at most 255 characters (OCI repository name)")
    .regex(IMAGE_REPOSITORY, "must be an image repository such as ghcr.io/example/webapp (no tag, no digest)"),
});

/** `arn:<partition>:acm:<region>:<12-digit account>:certificate/<id>` (ACM ARN format); group 1 is the region. */
const CERTIFICATE_ARN = new RegExp(
  `^arn:aws(?:-[a-z]+)*:acm:(${REGION_PATTERN.source}):\\d{12}:certificate\\/[A-Za-z0-9-]{1,128}$`,
);
/** DNS name: labels of 1-63 letters, digits and inner hyphens, at most 253 characters (RFC 1035). */
const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/**
 * ALB health-check path: starts with `/`, at most 1024 characters of the characters the ALB
 * accepts (Elastic Load Balancing API Reference, `HealthCheckPath`), without `$`.
 */
const HEALTH_CHECK_PATH = /^\/[A-Za-z0-9_\-./~@:+&?=%]{0,1023}$/;

export const EnvironmentSchema = z
  .strictObject({
    name: NameSchema,
    tier: TierSchema,
    /** Application/project name; prefixes state keys and resource names. */
    project: NameSchema,
    region: RegionSchema,
    /** The AWS account the environment deploys into (lib/config/schema/account.ts): required, every provider is pinned to it. */
    account: AccountSchema,
    /**
     * Who must approve a change before envctl applies it (lib/config/schema/approvals.ts).
     * @default 2 approvers in the production tier, none in the others (lib/release/gates/approvals.ts)
     */
    approvals: ApprovalsSchema.optional(),
    /** Tagged as `Owner` on every resource: an AWS tag value, not empty. */
    owner: TagValueSchema.min(1, "must not be empty"),
    /** Tagged as `CostCenter` on every resource: an AWS tag value, not empty. */
    costCenter: TagValueSchema.min(1, "must not be empty"),
    domain: z
      .string()
      .regex(DNS_NAME, "must be a DNS name (lower-case labels of at most 63 characters, at most 253 in all)"),
    /**
     * ACM certificate for HTTPS on the ALB, in the environment's region (an ALB uses certificates
     * of its own region); without one the ALB serves plain HTTP (development only).
     */
    certificateArn: z
      .string()
      .regex(CERTIFICATE_ARN, "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>")
      .optional(),
    appPort: z.number().int().min(1024).max(65535),
    healthCheckPath: z
      .string()
      .regex(
        HEALTH_CHECK_PATH,
        "must be a URL path starting with / (at most 1024 characters of letters, digits and _ - . / ~ @ : + & ? = %)",
      )
      .default("/health"),
    logLevel: z.enum(["debug", "info", "warn", "error"]),
    image: ImageSchema,
    network: NetworkSchema,
    compute: ComputeSchema,
    database: DatabaseSchema,
    cache: CacheSchema,
    monitoring: MonitoringSchema,
    release: ReleasePolicySchema,
    /** WAF in front of the ALB; none when absent (production must have one: policy rule production-alb-waf). */
    waf: WafSchema.optional(),
    /** AWS Backup of the database; only the RDS automated backups when absent. */
    backup: BackupSchema.optional(),
    /** Application settings and secret names. @default none */
    app: AppSchema.default({ settings: {}, secrets: [] }),
    /** Notifications of release events: Slack, webhooks, SNS. @default none */
    notify: NotifySchema.prefault({}),
    /** How drift is classified (critical, high, medium, low). @default the built-in table */
    drift: DriftSchema.prefault({}),
    /** Extra tags on every resource, beside the required ones (AWS tag rules; no `aws:` keys). */
    tags: TagsSchema.default({}),
    /**
     * Preview environments carry an expiry (ISO date-time), set from environments/previews.json;
     * an environment file may not (the loader refuses it: a permanent environment never expires).
     */
    expiresAt: z.iso.datetime().optional(),
  })
  .superRefine((e, ctx) => {
    // No Terraform template sequence anywhere in the data (values and keys, every depth).
    for (const f of findTemplateSequences(e)) {
      ctx.addIssue({ code: "custom", path: [...f.path], message: f.inKey ? `key ${TEMPLATE_RULE}` : TEMPLATE_RULE });
    }
    const cert = typeof e.certificateArn === "string" ? CERTIFICATE_ARN.exec(e.certificateArn) : null;
    if (cert && typeof e.region === "string" && cert[1] !== e.region) {
      ctx.addIssue({
        code: "custom",
        path: ["certificateArn"],
        message: `must be a certificate of the environment's region ${e.region} (found ${cert[1]}): an ALB uses certificates of its own region`,
      });
    }
    const storage = (e.database as { allocatedStorageGb?: unknown } | undefined)?.allocatedStorageGb;
    const free = (e.monitoring as { thresholds?: { freeStorageGb?: unknown } } | undefined)?.thresholds?.freeStorageGb;
    if (typeof free === "number" && isInt(storage) && free >= storage) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "thresholds", "freeStorageGb"],
        message: `must be below database.allocatedStorageGb (${free} ≥ ${storage}): the alarm would never clear`,
      });
    }
  }, WHEN_OBJECT);

export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type ComputeConfig = Environment["compute"];
export type Ec2Compute = z.infer<typeof Ec2ComputeSchema>;
export type EksCompute = z.infer<typeof EksComputeSchema>;
export type WafConfig = z.infer<typeof WafSchema>;
export type BackupConfig = z.infer<typeof BackupSchema>;
export type AppConfig = Environment["app"];
