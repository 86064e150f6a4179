/**
 * The environment model. These zod schemas are the single source of the types: every
 * `Environment*` type in the project is inferred from them.
 *
 * Strict at every depth: an unknown key is an error, never dropped. Bounds come from AWS's
 * documented limits (cited beside each) or, where AWS has none, from a stated project limit that
 * keeps a typo (1e9 instances) from reaching a plan. Types and engine versions are checked
 * against the catalogue (lib/config/catalogue.ts); no string may carry a Terraform template
 * sequence (lib/config/template.ts).
 */
import { z } from "zod";
import { isCanonicalCidr, parseCidr, formatCidr } from "./cidr.ts";
import { unknownType, unsupportedVersion, type TypeKind } from "./catalogue.ts";
import { NameSchema } from "./names.ts";
import { CPU_QUANTITY, MEMORY_QUANTITY, cpuMillis, memoryMi } from "./quantity.ts";
import { ReleasePolicySchema } from "../release/policy.ts";
import type { SettingValue } from "./primitives.ts";
import { SecretEntrySchema, SettingsInputSchema, appProblems } from "./settings.ts";
import { findTemplateSequences, TEMPLATE_RULE } from "./template.ts";

export const TIERS = ["development", "staging", "production"] as const;
export const SLOTS = ["blue", "green"] as const;

export const TierSchema = z.enum(TIERS);
export const SlotSchema = z.enum(SLOTS);
export type Tier = z.infer<typeof TierSchema>;
export type Slot = z.infer<typeof SlotSchema>;

export { NameSchema } from "./names.ts";

/**
 * Cross-field checks run even when another field of the same object is wrong (zod skips
 * refinements of an object with issues otherwise), so every problem is reported at once. The
 * value may then be malformed: each check guards its own inputs.
 */
const WHEN_OBJECT = { when: (payload: { value: unknown }) => typeof payload.value === "object" && payload.value !== null };
const isInt = (v: unknown): v is number => Number.isInteger(v);

/** An IPv4 network written canonically (`10.0.0.0/16`: no host bits, no leading zeros). */
const NetworkCidrSchema = z.string().superRefine((v, ctx) => {
  const c = parseCidr(v);
  if (!c) ctx.addIssue({ code: "custom", message: "is not a valid IPv4 network CIDR (a.b.c.d/n, no host bits)" });
  else if (!isCanonicalCidr(v)) ctx.addIssue({ code: "custom", message: `must be written canonically: ${formatCidr(c)}` });
});

/** VPC CIDR: AWS allows /16 to /28 (Amazon VPC User Guide, "VPC CIDR blocks"); the subnet layout needs /24 or larger. */
const CidrSchema = NetworkCidrSchema.refine((v) => { const c = parseCidr(v); return !c || (c.prefix >= 16 && c.prefix <= 24); }, {
  message: "must have a prefix between /16 and /24 (AWS allows /16-/28; the subnet layout needs room for 3 AZs × 3 tiers)",
});

/** A target or threshold that must be above zero: 1-100. */
const PositivePercent = z.number().min(1, "must be 1-100").max(100, "must be 1-100");

/** A type from the catalogue (the price table): unknown types are refused with the nearest names. */
const catalogueType = (kind: TypeKind, base: z.ZodString) =>
  base.superRefine((v, ctx) => {
    const rule = unknownType(kind, v);
    if (rule) ctx.addIssue({ code: "custom", message: rule });
  });

const engineVersion = (engine: "eks" | "postgres" | "redis") =>
  z.string().superRefine((v, ctx) => {
    const rule = unsupportedVersion(engine, v);
    if (rule) ctx.addIssue({ code: "custom", message: rule });
  });

/**
 * CloudWatch Logs accepts only these retention periods, days (CloudWatch Logs API Reference,
 * PutRetentionPolicy `retentionInDays`).
 */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const LogRetentionSchema = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `must be a CloudWatch Logs retention period: ${LOG_RETENTION_DAYS.join(", ")} days`,
});

/**
 * AWS tags (Tagging AWS Resources, "Tag naming limits and requirements"): keys 1-128 and values
 * 0-256 Unicode characters of letters, digits, spaces and `_ . : / = + - @`; the `aws:` prefix is
 * reserved for AWS; at most 50 tags per resource.
 */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARS_RULE = "may contain only letters, digits, spaces and _ . : / = + - @ (AWS tag rules)";
export const TagValueSchema = z.string().max(256, "must be at most 256 characters (AWS tag value limit)").regex(TAG_CHARS, TAG_CHARS_RULE);
/** Tag keys the stacks set themselves (lib/stacks/tags.ts, previews, per-resource Name/Slot/Version). */
export const PROJECT_TAG_KEYS = ["Environment", "Project", "ManagedBy", "Owner", "CostCenter", "Tier", "Name", "Slot", "Version"] as const;
/** 50 tags per resource (AWS) minus the ones the project sets (beside previews' Preview and ExpiresAt). */
export const MAX_USER_TAGS = 50 - PROJECT_TAG_KEYS.length - 2;
const TagKeySchema = z
  .string()
  .min(1, "must not be empty")
  .max(128, "must be at most 128 characters (AWS tag key limit)")
  .regex(TAG_CHARS, TAG_CHARS_RULE)
  .refine((k) => !/^aws:/i.test(k), { message: "must not start with aws: (reserved for AWS)" })
  .refine((k) => !(PROJECT_TAG_KEYS as readonly string[]).includes(k), { message: `is set by the project itself (${PROJECT_TAG_KEYS.join(", ")})` });
const TagsSchema = z
  .record(TagKeySchema, TagValueSchema)
  .refine((t) => Object.keys(t).length <= MAX_USER_TAGS, { message: `must have at most ${MAX_USER_TAGS} tags (AWS allows 50 per resource; the project sets the rest)` });

export const NetworkSchema = z.strictObject({
  /** VPC CIDR; must not overlap any other environment. */
  cidr: CidrSchema,
  /** Number of availability zones (2-3). */
  azCount: z.number().int().min(2).max(3),
  /** `single`: one shared NAT gateway; `per-az`: one per AZ (required in production). */
  natGateways: z.enum(["single", "per-az"]),
  /** Retention of the VPC flow logs (and of the EKS control-plane logs), in days. */
  flowLogRetentionDays: LogRetentionSchema.default(30),
});

/**
 * Instances (EC2 Auto Scaling) or nodes (EKS managed node group): 0 ≤ min ≤ desired ≤ max,
 * max ≥ 1. `limit` is the largest allowed max.
 */
const capacitySchema = (limit: number, source: string) => z
  .strictObject({
    min: z.number().int().min(0),
    desired: z.number().int().min(0),
    max: z.number().int().min(1).max(limit, `must be at most ${limit} (${source})`),
  })
  .superRefine((c, ctx) => {
    if (isInt(c.min) && isInt(c.desired) && c.min > c.desired) ctx.addIssue({ code: "custom", path: ["min"], message: `must be ≤ desired (${c.min} > ${c.desired})` });
    if (isInt(c.desired) && isInt(c.max) && c.desired > c.max) ctx.addIssue({ code: "custom", path: ["desired"], message: `must be ≤ max (${c.desired} > ${c.max})` });
  }, WHEN_OBJECT);

/** EC2 Auto Scaling documents no per-group maximum (vCPU quotas apply): 100 instances is the project limit. */
export const MAX_EC2_INSTANCES = 100;
/** Amazon EKS service quotas: 450 nodes per managed node group. */
export const MAX_NODES_PER_GROUP = 450;
/** Amazon EKS service quotas: 30 managed node groups per cluster. */
export const MAX_NODE_GROUPS = 30;

export const AutoScalingSchema = z.strictObject({
  enabled: z.boolean(),
  /** Target CPU utilisation of the target-tracking policy, percent (1-100). */
  targetCpuPercent: PositivePercent.default(70),
});

/**
 * OCI distribution reference without tag or digest: an optional registry host (with port), then
 * lower-case path components; at most 255 characters (OCI distribution spec, "name").
 */
const IMAGE_REPOSITORY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

const ImageSchema = z.strictObject({
  /** Container image repository; a slot runs `<repository>:<version>`. */
  repository: z.string().min(1).max(255, "must be at most 255 characters (OCI repository name)").regex(IMAGE_REPOSITORY, "must be an image repository such as ghcr.io/example/webapp (no tag, no digest)"),
});

export const Ec2ComputeSchema = z.strictObject({
  kind: z.literal("ec2"),
  instanceType: catalogueType("ec2", z.string()),
  capacity: capacitySchema(MAX_EC2_INSTANCES, "project limit; EC2 Auto Scaling has no per-group maximum"),
  autoScaling: AutoScalingSchema,
});

export const NodeGroupSchema = z.strictObject({
  name: NameSchema,
  /** At most 10 types (project limit: the first prices the group, the rest are Spot fallbacks). */
  instanceTypes: z.array(catalogueType("ec2", z.string())).min(1).max(10, "must list at most 10 instance types (project limit)")
    .refine((ts) => new Set(ts).size === ts.length, { message: "must not list a type twice" }),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
  capacity: capacitySchema(MAX_NODES_PER_GROUP, "Amazon EKS quota: nodes per managed node group"),
});

const CpuQuantitySchema = z.string().regex(CPU_QUANTITY, "must be a CPU quantity such as 250m or 1");
const MemoryQuantitySchema = z.string().regex(MEMORY_QUANTITY, "must be a memory quantity such as 512Mi or 1Gi");
const ResourceListSchema = z.strictObject({ cpu: CpuQuantitySchema, memory: MemoryQuantitySchema });

/** Requests and limits of one application container (one pod). Requests may not exceed limits. */
export const PodResourcesSchema = z
  .strictObject({ requests: ResourceListSchema, limits: ResourceListSchema })
  .superRefine((r, ctx) => {
    // Compared only once both sides are well-formed (their own issues are reported anyway).
    const valid = [r.requests.cpu, r.limits.cpu].every((q) => CPU_QUANTITY.test(q)) && [r.requests.memory, r.limits.memory].every((q) => MEMORY_QUANTITY.test(q));
    if (!valid) return;
    if (cpuMillis(r.requests.cpu) > cpuMillis(r.limits.cpu)) {
      ctx.addIssue({ code: "custom", path: ["requests", "cpu"], message: `must be ≤ limits.cpu (${r.requests.cpu} > ${r.limits.cpu})` });
    }
    if (memoryMi(r.requests.memory) > memoryMi(r.limits.memory)) {
      ctx.addIssue({ code: "custom", path: ["requests", "memory"], message: `must be ≤ limits.memory (${r.requests.memory} > ${r.limits.memory})` });
    }
  });

/** Namespace ResourceQuota: totals over every pod of the environment's namespace. */
export const QuotaSchema = z.strictObject({
  /** At most 5000 (project limit; Kubernetes' own scalability envelope is 150 000 pods per cluster). */
  pods: z.number().int().min(1).max(5000, "must be at most 5000 (project limit)"),
  requests: ResourceListSchema,
  limits: ResourceListSchema,
});

/** Any IPv4 network (an admin office may be a /28): unlike VPC CIDRs, no /16-/24 limit. */
const PublicCidrSchema = NetworkCidrSchema;

/** Pods per slot: at most 500 (project limit, well inside the namespace quota bound above). */
export const MAX_REPLICAS = 500;

export const EksComputeSchema = z.strictObject({
  kind: z.literal("eks"),
  /**
   * Kubernetes version of the control plane: one EKS supports (lib/config/catalogue.ts).
   * @default "1.35" (in EKS standard support until 2027-03-27; see EKS_SUPPORT_CALENDAR in
   *   lib/cost/prices.ts: a version in extended support costs 6× per cluster hour)
   */
  kubernetesVersion: engineVersion("eks").default("1.35"),
  /** CIDRs allowed to reach the public API endpoint; empty means private endpoint only. At most 40 (project limit). */
  publicAccessCidrs: z.array(PublicCidrSchema).max(40, "must list at most 40 networks (project limit)").default([]),
  nodeGroups: z.array(NodeGroupSchema).min(1).max(MAX_NODE_GROUPS, `must have at most ${MAX_NODE_GROUPS} node groups (Amazon EKS quota: managed node groups per cluster)`),
  /** Pod replicas per slot (the HPA minimum when auto-scaling is on). */
  replicas: z.number().int().min(1).max(MAX_REPLICAS, `must be at most ${MAX_REPLICAS} (project limit)`),
  /** Pod auto-scaling per slot (HorizontalPodAutoscaler on CPU). */
  autoScaling: AutoScalingSchema.extend({ maxReplicas: z.number().int().min(1).max(MAX_REPLICAS, `must be at most ${MAX_REPLICAS} (project limit)`).default(10) }),
  /** Requests and limits of each application pod. */
  resources: PodResourcesSchema.default({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } }),
  /**
   * Namespace quota. Default: room for both slots at their peak size (maxReplicas with
   * auto-scaling, else replicas) plus one rolling-update surge pod each.
   */
  quota: QuotaSchema.optional(),
  /** PodDisruptionBudget per slot; none when absent. */
  podDisruptionBudget: z.strictObject({ maxUnavailable: z.number().int().min(1).max(MAX_REPLICAS) }).optional(),
  /**
   * IAM role names (in the environment's account, e.g. the pipeline's OIDC role) that may change
   * the application's workloads: each gets an EKS access entry in the namespace's deployer group,
   * which the workloads stack binds to the CI deployer Role (workload kinds, this namespace
   * only, nothing cluster-wide). Default: none.
   */
  deployerRoles: z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/, "must be an IAM role name (not an ARN)")).max(20, "must list at most 20 roles (project limit)").default([]),
}).superRefine((c, ctx) => {
  const as = c.autoScaling as Partial<typeof c.autoScaling> | undefined;
  if (as?.enabled === true && isInt(as.maxReplicas) && isInt(c.replicas) && as.maxReplicas < c.replicas) {
    ctx.addIssue({ code: "custom", path: ["autoScaling", "maxReplicas"], message: `must be ≥ replicas (${as.maxReplicas} < ${c.replicas})` });
  }
  const names = Array.isArray(c.nodeGroups) ? c.nodeGroups.map((g) => (g as { name?: unknown } | undefined)?.name) : [];
  names.forEach((n, i) => {
    if (typeof n === "string" && names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["nodeGroups", i, "name"], message: `${n} is used by more than one node group` });
  });
}, WHEN_OBJECT);

/** Compute is a discriminated union on `kind`, so new kinds slot in without touching the others. */
export const ComputeSchema = z.discriminatedUnion("kind", [Ec2ComputeSchema, EksComputeSchema]);

/** RDS for PostgreSQL gp3 storage: 20 GiB to 64 TiB (Amazon RDS User Guide, "Amazon RDS DB instance storage"). */
const StorageGb = z.number().int().min(20, "must be at least 20 GB (RDS gp3 minimum)").max(65536, "must be at most 65536 GB (RDS gp3 maximum, 64 TiB)");

export const DatabaseSchema = z.strictObject({
  /** PostgreSQL version: a major (RDS picks the minor) or a listed minor (lib/config/catalogue.ts). */
  engineVersion: engineVersion("postgres").default("16"),
  instanceClass: catalogueType("rds", z.string()),
  allocatedStorageGb: StorageGb,
  /**
   * Storage autoscaling ceiling; defaults to twice the allocated storage. Must be ≥ the allocated
   * storage (AWS provider: `max_allocated_storage` "must be greater than or equal to allocated_storage").
   */
  maxAllocatedStorageGb: StorageGb.optional(),
  /** Automated backups: RDS keeps 0-35 days; at least 1 here (point-in-time recovery). */
  backupRetentionDays: z.number().int().min(1).max(35),
  multiAz: z.boolean(),
  deletionProtection: z.boolean(),
}).superRefine((d, ctx) => {
  if (isInt(d.maxAllocatedStorageGb) && isInt(d.allocatedStorageGb) && d.maxAllocatedStorageGb < d.allocatedStorageGb) {
    ctx.addIssue({ code: "custom", path: ["maxAllocatedStorageGb"], message: `must be ≥ allocatedStorageGb (${d.maxAllocatedStorageGb} < ${d.allocatedStorageGb})` });
  }
}, WHEN_OBJECT);

export const CacheSchema = z.strictObject({
  nodeType: catalogueType("cache", z.string()),
  /** Read replicas in addition to the primary: 0-5 (ElastiCache: up to 5 replicas per shard). */
  replicas: z.number().int().min(0).max(5),
  automaticFailover: z.boolean(),
  /** Redis OSS version (lib/config/catalogue.ts). */
  engineVersion: engineVersion("redis").default("7.1"),
}).superRefine((c, ctx) => {
  if (c.automaticFailover === true && isInt(c.replicas) && c.replicas < 1) {
    ctx.addIssue({ code: "custom", path: ["automaticFailover"], message: "requires at least one replica" });
  }
}, WHEN_OBJECT);

export const ThresholdsSchema = z.strictObject({
  /** 5xx responses as a percentage of requests (above 0: 0 would alarm on any request). */
  errorRatePercent: z.number().gt(0, "must be above 0").max(100, "must be at most 100"),
  /** p99 target response time, seconds: at most 4000 (the ALB's maximum idle timeout). */
  latencyP99Seconds: z.number().positive().max(4000, "must be at most 4000 s (the ALB's maximum idle timeout)"),
  cpuPercent: PositivePercent,
  memoryPercent: PositivePercent,
  /** Free RDS storage below this many GiB alarms (below the allocated storage). */
  freeStorageGb: z.number().positive().max(65536).default(5),
  /** Redis evictions per period above this alarm. */
  cacheEvictions: z.number().int().min(0).default(100),
});

export const MonitoringSchema = z.strictObject({
  level: z.enum(["basic", "enhanced", "full"]),
  /** SNS e-mail subscriptions of the alarm topic; at most 20 (project limit). */
  alarmEmails: z.array(z.email().max(254)).max(20, "must list at most 20 addresses (project limit)").default([]),
  thresholds: ThresholdsSchema,
});

/** AWS region name. */
const RegionSchema = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as eu-west-1");

/**
 * AWS WAF (v2, regional) in front of the ALB: AWS managed rule groups (common rule set, known
 * bad inputs, IP reputation), a per-IP rate limit, and its own log group. Absent: no WAF.
 */
export const WafSchema = z.strictObject({
  /** Requests one IP may send in 5 minutes before it is blocked. */
  rateLimitPerIp: z.number().int().min(10).max(2_000_000_000).default(2000),
  /** Days the WAF logs (log group `aws-waf-logs-<env>`) are kept. */
  logRetentionDays: LogRetentionSchema.default(365),
});

export const BackupRuleSchema = z.strictObject({
  /** Rule name, unique in the plan. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,50}$/, "must be 1-50 chars of letters, digits, '_', '.' and '-'"),
  /** When it runs: an AWS Backup cron expression in UTC, e.g. cron(0 0/6 * * ? *) for every 6 hours. */
  schedule: z.string().regex(/^cron\(\S+( \S+){5}\)$/, "must be an AWS cron expression with 6 fields, e.g. cron(0 0/6 * * ? *)"),
  /** Days each recovery point (and its copy) is kept. */
  retainDays: z.number().int().min(1).max(36500),
});

/**
 * AWS Backup of the environment's database: a vault encrypted with its own KMS key, a plan of
 * `rules`, optionally a copy of every recovery point to a vault in `copyToRegion` (disaster
 * recovery) and a vault lock. Absent: only the RDS automated backups.
 */
export const BackupSchema = z.strictObject({
  rules: z.array(BackupRuleSchema).min(1),
  /** Region of the disaster-recovery vault every recovery point is copied to. @default none */
  copyToRegion: RegionSchema.optional(),
  /**
   * Vault lock: recovery points can be deleted neither before `minRetentionDays` nor kept past
   * `maxRetentionDays`. With `changeableForDays` (≥ 3) the lock becomes immutable (compliance
   * mode) that many days after it is set; without, it stays removable (governance mode).
   */
  vaultLock: z.strictObject({
    minRetentionDays: z.number().int().min(1).max(36500),
    maxRetentionDays: z.number().int().min(1).max(36500),
    changeableForDays: z.number().int().min(3).optional(),
  }).optional(),
}).superRefine((b, ctx) => {
  const names = b.rules.map((r) => r.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["rules", i, "name"], message: `${n} is used by more than one rule` });
  });
  const lock = b.vaultLock;
  if (!lock) return;
  if (lock.minRetentionDays > lock.maxRetentionDays) {
    ctx.addIssue({ code: "custom", path: ["vaultLock", "minRetentionDays"], message: `must be ≤ maxRetentionDays (${lock.minRetentionDays} > ${lock.maxRetentionDays})` });
  }
  b.rules.forEach((r, i) => {
    if (r.retainDays < lock.minRetentionDays || r.retainDays > lock.maxRetentionDays) {
      ctx.addIssue({ code: "custom", path: ["rules", i, "retainDays"], message: `${r.retainDays} is outside the vault lock's ${lock.minRetentionDays}-${lock.maxRetentionDays} days` });
    }
  });
});

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
/** `arn:<partition>:acm:<region>:<12-digit account>:certificate/<id>` (ACM ARN format). */
const CERTIFICATE_ARN = /^arn:aws(?:-[a-z]+)*:acm:([a-z]{2}(?:-gov)?-[a-z]+-\d):\d{12}:certificate\/[A-Za-z0-9-]{1,128}$/;
/** DNS name: labels of 1-63 letters, digits and inner hyphens, at most 253 characters (RFC 1035). */
const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/**
 * ALB health-check path: starts with `/`, at most 1024 characters of the characters the ALB
 * accepts (Elastic Load Balancing API Reference, `HealthCheckPath`), without `$`.
 */
const HEALTH_CHECK_PATH = /^\/[A-Za-z0-9_\-.\/~@:+&?=%]{0,1023}$/;

/**
 * The application's own configuration, checked against the catalogue in lib/config/settings.ts:
 * `settings` are plain values (they travel with each slot, see the release file), `secrets` are
 * names only (values in Secrets Manager, set with `envctl secret set`).
 */
export const AppSchema = z
  .strictObject({
    /** Plain settings by name (UPPER_SNAKE_CASE, typed by the catalogue). @default {} */
    settings: SettingsInputSchema.default({}),
    /** Secret names (or `{ name, rotation }`); never values. @default [] */
    secrets: z.array(SecretEntrySchema).default([]),
  })
  .superRefine((app, ctx) => {
    for (const p of appProblems(app.settings, app.secrets)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
  })
  .transform((app) => ({ ...app, settings: app.settings as Record<string, SettingValue> }));

export const EnvironmentSchema = z.strictObject({
  name: NameSchema,
  tier: TierSchema,
  /** Application/project name; prefixes state keys and resource names. */
  project: NameSchema,
  region: z.string().regex(REGION, "must be an AWS region such as eu-west-1"),
  /** Tagged as `Owner` on every resource: an AWS tag value, not empty. */
  owner: TagValueSchema.min(1, "must not be empty"),
  /** Tagged as `CostCenter` on every resource: an AWS tag value, not empty. */
  costCenter: TagValueSchema.min(1, "must not be empty"),
  domain: z.string().regex(DNS_NAME, "must be a DNS name (lower-case labels of at most 63 characters, at most 253 in all)"),
  /**
   * ACM certificate for HTTPS on the ALB, in the environment's region (an ALB uses certificates
   * of its own region); without one the ALB serves plain HTTP (development only).
   */
  certificateArn: z.string().regex(CERTIFICATE_ARN, "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>").optional(),
  appPort: z.number().int().min(1024).max(65535),
  healthCheckPath: z.string().regex(HEALTH_CHECK_PATH, "must be a URL path starting with / (at most 1024 characters of letters, digits and _ - . / ~ @ : + & ? = %)").default("/health"),
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
  /** Extra tags on every resource, beside the required ones (AWS tag rules; no `aws:` keys). */
  tags: TagsSchema.default({}),
  /**
   * Preview environments carry an expiry (ISO date-time), set from environments/previews.json;
   * an environment file may not (the loader refuses it: a permanent environment never expires).
   */
  expiresAt: z.iso.datetime().optional(),
}).superRefine((e, ctx) => {
  // No Terraform template sequence anywhere in the data (values and keys, every depth).
  for (const f of findTemplateSequences(e)) {
    ctx.addIssue({ code: "custom", path: [...f.path], message: f.inKey ? `key ${TEMPLATE_RULE}` : TEMPLATE_RULE });
  }
  const cert = typeof e.certificateArn === "string" ? CERTIFICATE_ARN.exec(e.certificateArn) : null;
  if (cert && typeof e.region === "string" && cert[1] !== e.region) {
    ctx.addIssue({ code: "custom", path: ["certificateArn"], message: `must be a certificate of the environment's region ${e.region} (found ${cert[1]}): an ALB uses certificates of its own region` });
  }
  const storage = (e.database as { allocatedStorageGb?: unknown } | undefined)?.allocatedStorageGb;
  const free = (e.monitoring as { thresholds?: { freeStorageGb?: unknown } } | undefined)?.thresholds?.freeStorageGb;
  if (typeof free === "number" && isInt(storage) && free >= storage) {
    ctx.addIssue({ code: "custom", path: ["monitoring", "thresholds", "freeStorageGb"], message: `must be below database.allocatedStorageGb (${free} ≥ ${storage}): the alarm would never clear` });
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
