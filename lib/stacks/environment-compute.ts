/**
 * The compute of an environment stack, EC2 or EKS, built in the stack's scope (the resource ids
 * are the stack's own, as when this was part of lib/stacks/environment-stack.ts).
 */

import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Construct } from "constructs";
import type { Ec2Compute as Ec2ComputeConfig, EksCompute as EksComputeConfig, Environment } from "../config/schema.ts";
import { settingsText } from "../config/settings.ts";
import { environmentTags } from "../config/tags.ts";
import { accountOf } from "../constructs/account.ts";
import type { AppSecrets } from "../constructs/app-secrets.ts";
import { REDIS_PORT } from "../constructs/cache.ts";
import { Ec2Compute, type Ec2SlotProps } from "../constructs/compute-ec2.ts";
import { EksCompute, NODE_PORTS } from "../constructs/compute-eks.ts";
import { POSTGRES_PORT } from "../constructs/database.ts";
import type { LoadBalancer } from "../constructs/load-balancer.ts";
import type { Network } from "../constructs/network.ts";
import { APP_SERVICE_ACCOUNT, deployerGroup, namespaceOf } from "../constructs/workloads/names.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { Release } from "../release/model/release.ts";
import { secretArnsPath, slotSettingsPath } from "../settings/names.ts";

/** What the compute is wired to, built before it by the environment stack. */
export interface ComputeParts {
  readonly network: Network;
  readonly loadBalancer: LoadBalancer;
  /** The application's secrets, when the environment declares any. */
  readonly appSecrets?: AppSecrets;
}

/** EC2: the application security group and an Auto Scaling group per slot running its version. */
export function ec2Compute(
  stack: Construct,
  parts: ComputeParts,
  env: Environment,
  config: Ec2ComputeConfig,
  release: Release,
): { securityGroup: SecurityGroup; compute: Ec2Compute } {
  const p = env.name;
  const vpcId = parts.network.vpc.id;
  const securityGroup = new SecurityGroup(stack, "app-sg", {
    name: `${p}-app`,
    description: `Application instances of ${p}`,
    vpcId,
    tags: { Name: `${p}-app` },
  });
  new VpcSecurityGroupIngressRule(stack, "app-from-alb", {
    securityGroupId: securityGroup.id,
    description: "Application port from the ALB",
    referencedSecurityGroupId: parts.loadBalancer.securityGroup.id,
    ipProtocol: "tcp",
    fromPort: env.appPort,
    toPort: env.appPort,
  });
  const egress = [
    { id: "https", cidr: "0.0.0.0/0", port: 443, description: "HTTPS: image registry and AWS APIs" },
    { id: "postgres", cidr: env.network.cidr, port: POSTGRES_PORT, description: "PostgreSQL in the VPC" },
    { id: "redis", cidr: env.network.cidr, port: REDIS_PORT, description: "Redis in the VPC" },
  ];
  for (const e of egress) {
    new VpcSecurityGroupEgressRule(stack, `app-to-${e.id}`, {
      securityGroupId: securityGroup.id,
      description: e.description,
      cidrIpv4: e.cidr,
      ipProtocol: "tcp",
      fromPort: e.port,
      toPort: e.port,
    });
  }
  const compute = new Ec2Compute(stack, "compute", {
    namePrefix: p,
    subnetIds: parts.network.privateSubnetIds,
    securityGroupId: securityGroup.id,
    instanceType: config.instanceType,
    capacity: config.capacity,
    autoScaling: config.autoScaling,
    imageRepository: env.image.repository,
    appPort: env.appPort,
    containerEnvironment: { LOG_LEVEL: env.logLevel, PORT: String(env.appPort), ENVIRONMENT: env.name },
    tags: environmentTags(env),
    region: env.region,
    parametersPrefix: `/${env.project}/${p}/`,
    ...(parts.appSecrets ? { secrets: { path: secretArnsPath(env.project, p), arns: parts.appSecrets.arns } } : {}),
    // A slot runs the settings it was promoted with (the release file), not the environment file's.
    slots: Object.fromEntries(
      SLOTS.map((s): [Slot, Ec2SlotProps] => {
        const settings = release.slots[s].settings;
        return [
          s,
          {
            version: release.slots[s].version,
            digest: release.slots[s].digest,
            targetGroupArn: parts.loadBalancer.targetGroups[s].arn,
            ...(settings
              ? {
                  settings: {
                    path: slotSettingsPath(env.project, p, s),
                    checksum: settings.checksum,
                    values: settingsText(settings.values),
                  },
                }
              : {}),
          },
        ];
      }),
    ) as Record<Slot, Ec2SlotProps>,
  });
  return { securityGroup, compute };
}

/** EKS: the cluster, node groups attached to both slots' target groups, the app's Pod Identity role. */
export function eksCompute(
  stack: Construct,
  parts: ComputeParts,
  env: Environment,
  config: EksComputeConfig,
): EksCompute {
  return new EksCompute(stack, "compute", {
    namePrefix: env.name,
    subnetIds: parts.network.privateSubnetIds,
    kubernetesVersion: config.kubernetesVersion,
    publicAccessCidrs: config.publicAccessCidrs,
    privateAccessCidrs: config.privateAccessCidrs,
    nodeGroups: config.nodeGroups,
    targetGroupArns: {
      blue: parts.loadBalancer.targetGroups.blue.arn,
      green: parts.loadBalancer.targetGroups.green.arn,
    },
    loadBalancerSecurityGroupId: parts.loadBalancer.securityGroup.id,
    nodePorts: { ...NODE_PORTS },
    logRetentionDays: env.network.flowLogRetentionDays,
    appServiceAccount: { namespace: namespaceOf(env.name), name: APP_SERVICE_ACCOUNT },
    deployers: {
      roleArns: roleArns(stack, config.deployerRoles),
      kubernetesGroup: deployerGroup(namespaceOf(env.name)),
    },
    nodeTags: environmentTags(env),
  });
}

/** ARNs of IAM roles of this account, by name; no data sources when there are none. */
function roleArns(scope: Construct, names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const { partition, accountId } = accountOf(scope);
  return names.map((n) => `arn:${partition}:iam::${accountId}:role/${n}`);
}
