/**
 * The environment model. These zod schemas are the single source of the types: every
 * `Environment*` type in the project is inferred from them.
 */
import { z } from "zod";
import { parseCidr } from "./cidr.ts";
import { NameSchema } from "./names.ts";
import { CPU_QUANTITY, MEMORY_QUANTITY, cpuMillis, memoryMi } from "./quantity.ts";
import { ReleasePolicySchema } from "./release-policy.ts";
import type { SettingValue } from "./release.ts";
import { SecretEntrySchema, SettingsInputSchema, appProblems } from "./settings.ts";

export const TIERS = ["development", "staging", "production"] as const;
export const SLOTS = ["blue", "green"] as const;

export const TierSchema = z.enum(TIERS);
export const SlotSchema = z.enum(SLOTS);
export type Tier = z.infer<typeof TierSchema>;
export type Slot = z.infer<typeof SlotSchema>;

export { NameSchema } from "./names.ts";

const CidrSchema = z
  .string()
  .refine((v) => parseCidr(v) !== undefined, { message: "is not a valid IPv4 network CIDR (a.b.c.d/n, no host bits)" })
  .refine((v) => { const c = parseCidr(v); return !c || (c.prefix >= 16 && c.prefix <= 24); }, {
    message: "must have a prefix between /16 and /24 (AWS VPC limits)",
  });

const Percent = z.number().min(0).max(100);

export const NetworkSchema = z.strictObject({
  /** VPC CIDR; must not overlap any other environment. */
  cidr: CidrSchema,
  /** Number of availability zones (2-3). */
  azCount: z.number().int().min(2).max(3),
  /** `single`: one shared NAT gateway; `per-az`: one per AZ (required in production). */
  natGateways: z.enum(["single", "per-az"]),
  /** Retention of the VPC flow logs, in days. */
  flowLogRetentionDays: z.number().int().positive().default(30),
});

const CapacitySchema = z
  .object({ min: z.number().int().min(0), desired: z.number().int().min(0), max: z.number().int().min(1) })
  .superRefine((c, ctx) => {
    if (c.min > c.desired) ctx.addIssue({ code: "custom", path: ["min"], message: `must be ≤ desired (${c.min} > ${c.desired})` });
    if (c.desired > c.max) ctx.addIssue({ code: "custom", path: ["desired"], message: `must be ≤ max (${c.desired} > ${c.max})` });
  });

export const AutoScalingSchema = z.strictObject({
  enabled: z.boolean(),
  /** Target CPU utilisation of the target-tracking policy, percent. */
  targetCpuPercent: Percent.default(70),
});

const ImageSchema = z.strictObject({
  /** Container image repository; a slot runs `<repository>:<version>`. */
  repository: z.string().min(1),
});

export const Ec2ComputeSchema = z.strictObject({
  kind: z.literal("ec2"),
  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as t3.micro"),
  capacity: CapacitySchema,
  autoScaling: AutoScalingSchema,
});

export const NodeGroupSchema = z.strictObject({
  name: NameSchema,
  instanceTypes: z.array(z.string().min(1)).min(1),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
  capacity: CapacitySchema,
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
  pods: z.number().int().min(1),
  requests: ResourceListSchema,
  limits: ResourceListSchema,
});

/** Any IPv4 network (an admin office may be a /28): unlike VPC CIDRs, no /16-/24 limit. */
const PublicCidrSchema = z.string().refine((v) => parseCidr(v) !== undefined, { message: "is not a valid IPv4 network CIDR (a.b.c.d/n, no host bits)" });

export const EksComputeSchema = z.strictObject({
  kind: z.literal("eks"),
  /** Kubernetes version of the control plane. */
  kubernetesVersion: z.string().regex(/^1\.\d+$/).default("1.31"),
  /** CIDRs allowed to reach the public API endpoint; empty means private endpoint only. */
  publicAccessCidrs: z.array(PublicCidrSchema).default([]),
  nodeGroups: z.array(NodeGroupSchema).min(1),
  /** Pod replicas per slot (the HPA minimum when auto-scaling is on). */
  replicas: z.number().int().min(1),
  /** Pod auto-scaling per slot (HorizontalPodAutoscaler on CPU). */
  autoScaling: AutoScalingSchema.extend({ maxReplicas: z.number().int().min(1).default(10) }),
  /** Requests and limits of each application pod. */
  resources: PodResourcesSchema.default({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } }),
  /**
   * Namespace quota. Default: room for both slots at their peak size (maxReplicas with
   * auto-scaling, else replicas) plus one rolling-update surge pod each.
   */
  quota: QuotaSchema.optional(),
  /** PodDisruptionBudget per slot; none when absent. */
  podDisruptionBudget: z.strictObject({ maxUnavailable: z.number().int().min(1) }).optional(),
  /**
   * IAM role names (in the environment's account, e.g. the pipeline's OIDC role) that may change
   * the application's workloads: each gets an EKS access entry in the namespace's deployer group,
   * which the workloads stack binds to the CI deployer Role (workload kinds, this namespace
   * only, nothing cluster-wide). Default: none.
   */
  deployerRoles: z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/, "must be an IAM role name (not an ARN)")).default([]),
}).superRefine((c, ctx) => {
  if (c.autoScaling.enabled && c.autoScaling.maxReplicas < c.replicas) {
    ctx.addIssue({ code: "custom", path: ["autoScaling", "maxReplicas"], message: `must be ≥ replicas (${c.autoScaling.maxReplicas} < ${c.replicas})` });
  }
  const names = c.nodeGroups.map((g) => g.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["nodeGroups", i, "name"], message: `${n} is used by more than one node group` });
  });
});

/** Compute is a discriminated union on `kind`, so new kinds slot in without touching the others. */
export const ComputeSchema = z.discriminatedUnion("kind", [Ec2ComputeSchema, EksComputeSchema]);

export const DatabaseSchema = z.strictObject({
  engineVersion: z.string().default("16.4"),
  instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS class such as db.t3.micro"),
  allocatedStorageGb: z.number().int().min(20).max(65536),
  /** Storage autoscaling ceiling; defaults to twice the allocated storage. */
  maxAllocatedStorageGb: z.number().int().min(20).max(65536).optional(),
  backupRetentionDays: z.number().int().min(1).max(35),
  multiAz: z.boolean(),
  deletionProtection: z.boolean(),
});

export const CacheSchema = z.strictObject({
  nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "must be an ElastiCache node type such as cache.t3.micro"),
  /** Read replicas in addition to the primary. */
  replicas: z.number().int().min(0).max(5),
  automaticFailover: z.boolean(),
  engineVersion: z.string().default("7.1"),
}).superRefine((c, ctx) => {
  if (c.automaticFailover && c.replicas < 1) {
    ctx.addIssue({ code: "custom", path: ["automaticFailover"], message: "requires at least one replica" });
  }
});

export const ThresholdsSchema = z.strictObject({
  /** 5xx responses as a percentage of requests. */
  errorRatePercent: Percent,
  /** p99 target response time, seconds. */
  latencyP99Seconds: z.number().positive(),
  cpuPercent: Percent,
  memoryPercent: Percent,
  /** Free RDS storage below this many GiB alarms. */
  freeStorageGb: z.number().positive().default(5),
  /** Redis evictions per period above this alarm. */
  cacheEvictions: z.number().int().min(0).default(100),
});

export const MonitoringSchema = z.strictObject({
  level: z.enum(["basic", "enhanced", "full"]),
  alarmEmails: z.array(z.email()).default([]),
  thresholds: ThresholdsSchema,
});

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
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as eu-west-1"),
  owner: z.string().min(1),
  costCenter: z.string().min(1),
  domain: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "must be a DNS name"),
  /** ACM certificate for HTTPS on the ALB; without one the ALB serves plain HTTP (development only). */
  certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:/, "must be an ACM certificate ARN").optional(),
  appPort: z.number().int().min(1024).max(65535),
  healthCheckPath: z.string().startsWith("/").default("/health"),
  logLevel: z.enum(["debug", "info", "warn", "error"]),
  image: ImageSchema,
  network: NetworkSchema,
  compute: ComputeSchema,
  database: DatabaseSchema,
  cache: CacheSchema,
  monitoring: MonitoringSchema,
  release: ReleasePolicySchema,
  /** Application settings and secret names. @default none */
  app: AppSchema.default({ settings: {}, secrets: [] }),
  /** Extra tags on every resource, beside the required ones. */
  tags: z.record(z.string(), z.string()).default({}),
  /** Preview environments carry an expiry (ISO date-time); none for permanent ones. */
  expiresAt: z.iso.datetime().optional(),
});

export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type ComputeConfig = Environment["compute"];
export type Ec2Compute = z.infer<typeof Ec2ComputeSchema>;
export type EksCompute = z.infer<typeof EksComputeSchema>;
export type AppConfig = Environment["app"];
