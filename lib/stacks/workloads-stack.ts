import { DataAwsEksClusterAuth } from "@cdktf/provider-aws/lib/data-aws-eks-cluster-auth";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import { cpuMillis, formatCpu, formatMemory, memoryMi } from "../config/quantity.ts";
import { type EksCompute as EksComputeConfig, type Environment, SLOTS } from "../config/schema.ts";
import { secretArnVariable, settingsText } from "../config/settings.ts";
import { environmentTags } from "../config/tags.ts";
import { REDIS_PORT } from "../constructs/cache.ts";
import { NODE_PORTS } from "../constructs/compute-eks.ts";
import { POSTGRES_PORT } from "../constructs/database.ts";
import { AppConfig } from "../constructs/workloads/app-config.ts";
import { SlotAutoscaling } from "../constructs/workloads/autoscaling.ts";
import {
  APP_CONFIG_MAP,
  APP_NAME,
  APP_SERVICE_ACCOUNT,
  DATABASE_SECRET_ANNOTATION,
  DATABASE_SECRET_ARN_KEY,
  deployerGroup,
  namespaceOf,
  slotSelector,
  slotSettingsConfigMap,
} from "../constructs/workloads/names.ts";
import { AppNamespace } from "../constructs/workloads/namespace.ts";
import { databaseSubnetCidrs, NetworkPolicies } from "../constructs/workloads/network-policies.ts";
import { Quota } from "../constructs/workloads/quota.ts";
import { Rbac } from "../constructs/workloads/rbac.ts";
import { SlotDeployment } from "../constructs/workloads/slot-deployment.ts";
import type { Release } from "../release/model/release.ts";
import { BaseStack } from "./base-stack.ts";
import type { EnvironmentStack } from "./environment-stack.ts";
import type { Target } from "./target.ts";

export interface WorkloadsStackProps {
  /** An environment with `compute.kind: "eks"`. */
  readonly env: Environment;
  /** Slot versions and settings come from here; weights do NOT (they belong to the traffic stack). */
  readonly release: Release;
  /** The environment's infrastructure stack: cluster, database and cache are read through cross-stack references. */
  readonly infrastructure: EnvironmentStack;
  readonly target: Target;
}

/** Name of an EKS environment's workloads stack. */
export function workloadsStackName(env: string): string {
  return `${env}-workloads`;
}

export { DATABASE_SECRET_ANNOTATION } from "../constructs/workloads/names.ts";

/**
 * The namespace quota when the environment sets none: both slots at their peak size (maxReplicas
 * with auto-scaling, else replicas) plus one rolling-update surge pod each, at the pod limits.
 */
export function defaultQuota(c: EksComputeConfig): NonNullable<EksComputeConfig["quota"]> {
  const peak = c.autoScaling.enabled ? Math.max(c.autoScaling.maxReplicas, c.replicas) : c.replicas;
  const pods = SLOTS.length * (peak + 1);
  const times = (r: { cpu: string; memory: string }) => ({
    cpu: formatCpu(pods * cpuMillis(r.cpu)),
    memory: formatMemory(pods * memoryMi(r.memory)),
  });
  return { pods, requests: times(c.resources.requests), limits: times(c.resources.limits) };
}

/**
 * `<env>-workloads` (EKS environments only): the Kubernetes objects of the application, applied
 * with the Kubernetes provider to the cluster of the `<env>` stack. That cluster's endpoint and CA
 * come through cross-stack references, the token from `aws_eks_cluster_auth`: the provider is
 * never configured in the stack creating the cluster.
 *
 * Slot versions and settings live here (not in `<env>`): a promotion deploys this stack alone, a traffic
 * shift the traffic stack alone.
 */
export class WorkloadsStack extends BaseStack {
  readonly kubernetes: KubernetesProvider;
  readonly namespace: AppNamespace;
  readonly slots: Record<(typeof SLOTS)[number], SlotDeployment>;

  constructor(scope: Construct, props: WorkloadsStackProps) {
    const { env, release, infrastructure, target } = props;
    const compute = env.compute;
    const eks = infrastructure.eks;
    if (compute.kind !== "eks" || !eks)
      throw new Error(`${env.name}: the workloads stack needs EKS compute (found ${compute.kind})`);
    super(scope, workloadsStackName(env.name), {
      project: env.project,
      region: env.region,
      target,
      account: env.account,
      tags: environmentTags(env),
    });

    const cluster = eks.cluster;
    const auth = new DataAwsEksClusterAuth(this, "cluster-auth", { name: cluster.name });
    this.kubernetes = new KubernetesProvider(this, "kubernetes", {
      host: cluster.endpoint,
      clusterCaCertificate: Fn.base64decode(cluster.certificateAuthority.get(0).data),
      token: auth.token,
    });

    // Kubernetes objects have no provider default tags: they carry these labels instead.
    const labels = {
      "app.kubernetes.io/managed-by": "cdktf",
      "app.kubernetes.io/part-of": env.project,
      "envstack.io/environment": env.name,
      "envstack.io/tier": env.tier,
    };
    this.namespace = new AppNamespace(this, "namespace", {
      name: namespaceOf(env.name),
      environment: env.name,
      labels,
    });
    const namespace = this.namespace.name;

    new NetworkPolicies(this, "network-policies", {
      namespace,
      appSelector: { "app.kubernetes.io/name": APP_NAME },
      appPort: env.appPort,
      vpcCidr: env.network.cidr,
      databaseCidrs: databaseSubnetCidrs(env.network.cidr, env.network.azCount),
      dataPorts: [POSTGRES_PORT, REDIS_PORT],
      labels,
    });

    const db = infrastructure.database.instance;
    const databaseSecretArn = db.masterUserSecret.get(0).secretArn;
    const rbac = new Rbac(this, "rbac", {
      namespace,
      serviceAccountName: APP_SERVICE_ACCOUNT,
      deployerGroup: deployerGroup(namespaceOf(env.name)),
      labels,
    });

    new Quota(this, "quota", {
      namespace,
      quota: compute.quota ?? defaultQuota(compute),
      container: compute.resources,
      nodePorts: SLOTS.length,
      labels,
    });

    const config = new AppConfig(this, "config", {
      namespace,
      name: APP_CONFIG_MAP,
      labels,
      data: {
        ENVIRONMENT: env.name,
        LOG_LEVEL: env.logLevel,
        PORT: String(env.appPort),
        AWS_REGION: env.region,
        DATABASE_HOST: db.address,
        DATABASE_PORT: String(POSTGRES_PORT),
        DATABASE_NAME: db.dbName,
        // The password never enters this stack: the pods read it from Secrets Manager (Pod Identity).
        [DATABASE_SECRET_ARN_KEY]: databaseSecretArn,
        REDIS_HOST: infrastructure.cache.endpointAddress,
        REDIS_PORT: String(REDIS_PORT),
        REDIS_TLS: "true",
        REDIS_USER: infrastructure.cache.appUser.userName,
        // Secrets by ARN only: the pods read the values themselves (Pod Identity), never through Kubernetes.
        ...Object.fromEntries(
          Object.entries(infrastructure.appSecrets?.arns ?? {}).map(([name, arn]) => [secretArnVariable(name), arn]),
        ),
      },
    });

    this.slots = Object.fromEntries(
      SLOTS.map((slot) => {
        // The settings the slot was promoted with (release file), in a map named by their checksum.
        const settings = release.slots[slot].version === null ? undefined : release.slots[slot].settings;
        const settingsMap =
          settings &&
          new AppConfig(this, `settings-${slot}`, {
            namespace,
            name: slotSettingsConfigMap(slot, settings.checksum),
            labels: { ...labels, ...slotSelector(slot), "envstack.io/settings-checksum": settings.checksum },
            data: settingsText(settings.values),
            contentAddressed: true,
          });
        const deployment = new SlotDeployment(this, `slot-${slot}`, {
          namespace,
          slot,
          imageRepository: env.image.repository,
          version: release.slots[slot].version,
          digest: release.slots[slot].digest,
          replicas: compute.replicas,
          appPort: env.appPort,
          healthCheckPath: env.healthCheckPath,
          nodePort: NODE_PORTS[slot],
          resources: compute.resources,
          serviceAccountName: rbac.serviceAccount.metadata.name,
          configMapName: config.configMap.metadata.name,
          ...(settingsMap
            ? { settings: { configMapName: settingsMap.configMap.metadata.name, checksum: settings!.checksum } }
            : {}),
          replicasManagedByAutoscaler: compute.autoScaling.enabled,
          podAnnotations: { [DATABASE_SECRET_ANNOTATION]: databaseSecretArn },
          labels,
        });
        new SlotAutoscaling(this, `autoscaling-${slot}`, {
          namespace,
          slot,
          autoScaling: compute.autoScaling.enabled
            ? {
                minReplicas: compute.replicas,
                maxReplicas: compute.autoScaling.maxReplicas,
                targetCpuPercent: compute.autoScaling.targetCpuPercent,
              }
            : undefined,
          maxUnavailable: compute.podDisruptionBudget?.maxUnavailable,
          labels,
        });
        return [slot, deployment];
      }),
    ) as WorkloadsStack["slots"];
  }
}
