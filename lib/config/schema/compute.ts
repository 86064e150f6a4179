/** Compute: EC2 Auto Scaling or EKS (managed node groups, pods), a union on `kind`. */
import { z } from "zod";
import { NameSchema } from "../names.ts";
import { CPU_QUANTITY, cpuMillis, MEMORY_QUANTITY, memoryMi } from "../quantity.ts";
import { catalogueType, engineVersion, isInt, NetworkCidrSchema, PositivePercent, WHEN_OBJECT } from "./common.ts";

/**
 * Instances (EC2 Auto Scaling) or nodes (EKS managed node group): 0 ≤ min ≤ desired ≤ max,
 * max ≥ 1. `limit` is the largest allowed max.
 */
const capacitySchema = (limit: number, source: string) =>
  z
    .strictObject({
      min: z.number().int().min(0),
      desired: z.number().int().min(0),
      max: z.number().int().min(1).max(limit, `must be at most ${limit} (${source})`),
    })
    .superRefine((c, ctx) => {
      if (isInt(c.min) && isInt(c.desired) && c.min > c.desired)
        ctx.addIssue({ code: "custom", path: ["min"], message: `must be ≤ desired (${c.min} > ${c.desired})` });
      if (isInt(c.desired) && isInt(c.max) && c.desired > c.max)
        ctx.addIssue({ code: "custom", path: ["desired"], message: `must be ≤ max (${c.desired} > ${c.max})` });
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

export const Ec2ComputeSchema = z.strictObject({
  kind: z.literal("ec2"),
  instanceType: catalogueType("ec2", z.string()),
  capacity: capacitySchema(MAX_EC2_INSTANCES, "project limit; EC2 Auto Scaling has no per-group maximum"),
  autoScaling: AutoScalingSchema,
});

export const NodeGroupSchema = z.strictObject({
  name: NameSchema,
  /** At most 10 types (project limit: the first prices the group, the rest are Spot fallbacks). */
  instanceTypes: z
    .array(catalogueType("ec2", z.string()))
    .min(1)
    .max(10, "must list at most 10 instance types (project limit)")
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
    const valid =
      [r.requests.cpu, r.limits.cpu].every((q) => CPU_QUANTITY.test(q)) &&
      [r.requests.memory, r.limits.memory].every((q) => MEMORY_QUANTITY.test(q));
    if (!valid) return;
    if (cpuMillis(r.requests.cpu) > cpuMillis(r.limits.cpu)) {
      ctx.addIssue({
        code: "custom",
        path: ["requests", "cpu"],
        message: `must be ≤ limits.cpu (${r.requests.cpu} > ${r.limits.cpu})`,
      });
    }
    if (memoryMi(r.requests.memory) > memoryMi(r.limits.memory)) {
      ctx.addIssue({
        code: "custom",
        path: ["requests", "memory"],
        message: `must be ≤ limits.memory (${r.requests.memory} > ${r.limits.memory})`,
      });
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

export const EksComputeSchema = z
  .strictObject({
    kind: z.literal("eks"),
    /**
     * Kubernetes version of the control plane: one EKS supports (lib/config/catalogue.ts).
     * @default "1.35" (in EKS standard support until 2027-03-27; see EKS_SUPPORT_CALENDAR in
     *   lib/cost/prices.ts: a version in extended support costs 6× per cluster hour)
     */
    kubernetesVersion: engineVersion("eks").default("1.35"),
    /** CIDRs allowed to reach the public API endpoint; empty means private endpoint only. At most 40 (project limit). */
    publicAccessCidrs: z.array(PublicCidrSchema).max(40, "must list at most 40 networks (project limit)").default([]),
    /**
     * CIDRs allowed to the private API endpoint (HTTPS), besides the nodes and pods: where envctl and
     * CI run inside the VPC's reach (e.g. a runner subnet), so they read the cluster without a public
     * endpoint. At most 40 (project limit). @default [] (nodes and pods only)
     */
    privateAccessCidrs: z.array(NetworkCidrSchema).max(40, "must list at most 40 networks (project limit)").default([]),
    nodeGroups: z
      .array(NodeGroupSchema)
      .min(1)
      .max(
        MAX_NODE_GROUPS,
        `must have at most ${MAX_NODE_GROUPS} node groups (Amazon EKS quota: managed node groups per cluster)`,
      ),
    /** Pod replicas per slot (the HPA minimum when auto-scaling is on). */
    replicas: z.number().int().min(1).max(MAX_REPLICAS, `must be at most ${MAX_REPLICAS} (project limit)`),
    /** Pod auto-scaling per slot (HorizontalPodAutoscaler on CPU). */
    autoScaling: AutoScalingSchema.extend({
      maxReplicas: z
        .number()
        .int()
        .min(1)
        .max(MAX_REPLICAS, `must be at most ${MAX_REPLICAS} (project limit)`)
        .default(10),
    }),
    /** Requests and limits of each application pod. */
    resources: PodResourcesSchema.default({
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    }),
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
    deployerRoles: z
      .array(z.string().regex(/^[\w+=,.@-]{1,64}$/, "must be an IAM role name (not an ARN)"))
      .max(20, "must list at most 20 roles (project limit)")
      .default([]),
  })
  .superRefine((c, ctx) => {
    const as = c.autoScaling as Partial<typeof c.autoScaling> | undefined;
    if (as?.enabled === true && isInt(as.maxReplicas) && isInt(c.replicas) && as.maxReplicas < c.replicas) {
      ctx.addIssue({
        code: "custom",
        path: ["autoScaling", "maxReplicas"],
        message: `must be ≥ replicas (${as.maxReplicas} < ${c.replicas})`,
      });
    }
    const names = Array.isArray(c.nodeGroups)
      ? c.nodeGroups.map((g) => (g as { name?: unknown } | undefined)?.name)
      : [];
    names.forEach((n, i) => {
      if (typeof n === "string" && names.indexOf(n) !== i)
        ctx.addIssue({
          code: "custom",
          path: ["nodeGroups", i, "name"],
          message: `${n} is used by more than one node group`,
        });
    });
  }, WHEN_OBJECT);

/** Compute is a discriminated union on `kind`, so new kinds slot in without touching the others. */
export const ComputeSchema = z.discriminatedUnion("kind", [Ec2ComputeSchema, EksComputeSchema]);
