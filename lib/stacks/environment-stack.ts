import type { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Release } from "../config/release.ts";
import { SLOTS, type Environment } from "../config/schema.ts";
import { Cache, REDIS_PORT } from "../constructs/cache.ts";
import { Ec2Compute } from "../constructs/compute-ec2.ts";
import { Database, POSTGRES_PORT } from "../constructs/database.ts";
import { LoadBalancer } from "../constructs/load-balancer.ts";
import { Monitoring } from "../constructs/monitoring.ts";
import { Network } from "../constructs/network.ts";
import { BaseStack } from "./base-stack.ts";
import { environmentTags } from "./tags.ts";
import type { Target } from "./target.ts";

export interface EnvironmentStackProps {
  readonly env: Environment;
  /** Slot versions come from here; weights do NOT (they belong to the traffic stack). */
  readonly release: Release;
  readonly target: Target;
}

/** AZ names of a region: `<region>a`, `<region>b`, ... (no API call at plan time). */
export function availabilityZones(region: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${region}${"abcdef"[i]}`);
}

/**
 * `<env>`: all of one environment's infrastructure — network, load balancer and target groups,
 * compute per slot, database, cache and monitoring. Traffic weights are not part of it.
 */
export class EnvironmentStack extends BaseStack {
  readonly network: Network;
  readonly loadBalancer: LoadBalancer;
  readonly appSecurityGroup: SecurityGroup;
  readonly autoScalingGroupNames: string[];
  readonly database: Database;
  readonly cache: Cache;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    const { env, release, target } = props;
    super(scope, env.name, { project: env.project, region: env.region, target, tags: environmentTags(env) });
    const p = env.name;
    const production = env.tier === "production";

    this.network = new Network(this, "network", {
      namePrefix: p,
      cidr: env.network.cidr,
      availabilityZones: availabilityZones(env.region, env.network.azCount),
      natGateways: env.network.natGateways,
      flowLogRetentionDays: env.network.flowLogRetentionDays,
    });
    const vpcId = this.network.vpc.id;

    this.loadBalancer = new LoadBalancer(this, "load-balancer", {
      namePrefix: p,
      vpcId,
      vpcCidr: env.network.cidr,
      publicSubnetIds: this.network.publicSubnetIds,
      appPort: env.appPort,
      healthCheckPath: env.healthCheckPath,
      certificateArn: env.certificateArn,
      deletionProtection: production,
      forceDestroyLogs: !production,
    });

    this.appSecurityGroup = new SecurityGroup(this, "app-sg", {
      name: `${p}-app`,
      description: `Application instances of ${p}`,
      vpcId,
      tags: { Name: `${p}-app` },
    });
    new VpcSecurityGroupIngressRule(this, "app-from-alb", {
      securityGroupId: this.appSecurityGroup.id,
      description: "Application port from the ALB",
      referencedSecurityGroupId: this.loadBalancer.securityGroup.id,
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
      new VpcSecurityGroupEgressRule(this, `app-to-${e.id}`, {
        securityGroupId: this.appSecurityGroup.id,
        description: e.description,
        cidrIpv4: e.cidr,
        ipProtocol: "tcp",
        fromPort: e.port,
        toPort: e.port,
      });
    }

    if (env.compute.kind !== "ec2") throw new Error(`compute kind ${env.compute.kind} is not supported yet`);
    const compute = new Ec2Compute(this, "compute", {
      namePrefix: p,
      subnetIds: this.network.privateSubnetIds,
      securityGroupId: this.appSecurityGroup.id,
      instanceType: env.compute.instanceType,
      capacity: env.compute.capacity,
      autoScaling: env.compute.autoScaling,
      imageRepository: env.image.repository,
      appPort: env.appPort,
      containerEnvironment: { LOG_LEVEL: env.logLevel, PORT: String(env.appPort), ENVIRONMENT: env.name },
      slots: Object.fromEntries(SLOTS.map((s) => [s, {
        version: release.slots[s].version,
        targetGroupArn: this.loadBalancer.targetGroups[s].arn,
      }])) as Record<"blue" | "green", { version: string | null; targetGroupArn: string }>,
    });
    this.autoScalingGroupNames = SLOTS.map((s) => compute.autoScalingGroups[s].name);

    this.database = new Database(this, "database", {
      namePrefix: p,
      vpcId,
      subnetIds: this.network.databaseSubnetIds,
      clientSecurityGroupId: this.appSecurityGroup.id,
      instanceClass: env.database.instanceClass,
      engineVersion: env.database.engineVersion,
      allocatedStorageGb: env.database.allocatedStorageGb,
      maxAllocatedStorageGb: env.database.maxAllocatedStorageGb,
      backupRetentionDays: env.database.backupRetentionDays,
      multiAz: env.database.multiAz,
      deletionProtection: env.database.deletionProtection,
      performanceInsights: env.monitoring.level !== "basic",
    });

    this.cache = new Cache(this, "cache", {
      namePrefix: p,
      vpcId,
      subnetIds: this.network.databaseSubnetIds,
      clientSecurityGroupId: this.appSecurityGroup.id,
      nodeType: env.cache.nodeType,
      replicas: env.cache.replicas,
      automaticFailover: env.cache.automaticFailover,
      engineVersion: env.cache.engineVersion,
    });
    new IamRolePolicy(this, "app-cache-connect", {
      role: compute.role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: ["elasticache:Connect"],
          Resource: [this.cache.replicationGroup.arn, this.cache.appUser.arn],
        }],
      }),
    });

    this.monitoring = new Monitoring(this, "monitoring", {
      namePrefix: p,
      region: env.region,
      level: env.monitoring.level,
      alarmEmails: env.monitoring.alarmEmails,
      thresholds: env.monitoring.thresholds,
      loadBalancerArnSuffix: this.loadBalancer.alb.arnSuffix,
      targetGroupArnSuffixes: { blue: this.loadBalancer.targetGroups.blue.arnSuffix, green: this.loadBalancer.targetGroups.green.arnSuffix },
      autoScalingGroupNames: this.autoScalingGroupNames,
      databaseId: this.database.instance.identifier,
      cacheId: this.cache.replicationGroup.replicationGroupId,
    });

    new TerraformOutput(this, "alb_dns_name", { value: this.loadBalancer.alb.dnsName, description: "Public DNS name of the ALB" });
    new TerraformOutput(this, "database_endpoint", { value: this.database.instance.endpoint });
    new TerraformOutput(this, "database_secret_arn", { value: this.database.instance.masterUserSecret.get(0).secretArn, description: "AWS-managed master password secret" });
    new TerraformOutput(this, "cache_endpoint", { value: this.cache.replicationGroup.primaryEndpointAddress });
    new TerraformOutput(this, "alarm_topic_arn", { value: this.monitoring.topic.arn });
  }
}
