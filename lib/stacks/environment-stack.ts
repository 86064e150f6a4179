import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "../config/schema.ts";
import { environmentTags } from "../config/tags.ts";
import { AppSecrets } from "../constructs/app-secrets.ts";
import { Cache } from "../constructs/cache.ts";
import { type EksCompute, NODE_PORTS } from "../constructs/compute-eks.ts";
import { Database } from "../constructs/database.ts";
import { DatabaseBackup } from "../constructs/database-backup.ts";
import { DatabaseRunner } from "../constructs/database-runner.ts";
import { EksAlarms } from "../constructs/eks-alarms.ts";
import { LoadBalancer } from "../constructs/load-balancer.ts";
import { Monitoring } from "../constructs/monitoring.ts";
import { Network } from "../constructs/network.ts";
import { WebAcl } from "../constructs/web-acl.ts";
import { SLOTS } from "../core/primitives.ts";
import { skipCheck } from "../policy/checkov-skip.ts";
import type { Release } from "../release/model/release.ts";
import { secretPrefix } from "../settings/names.ts";
import { BaseStack } from "./base-stack.ts";
import { ec2Compute, eksCompute } from "./environment-compute.ts";
import { dashboardOutputs } from "./global-stack.ts";
import type { Target } from "./target.ts";
import { tierExceptions } from "./tier-exceptions.ts";

export interface EnvironmentStackProps {
  readonly env: Environment;
  /**
   * EC2: slot versions and settings come from here; weights do NOT (they belong to the traffic stack).
   * EKS: not read at all (versions belong to the workloads stack).
   */
  readonly release: Release;
  readonly target: Target;
}

/** AZ names of a region: `<region>a`, `<region>b`, ... (no API call at plan time). */
export function availabilityZones(region: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${region}${"abcdef"[i]}`);
}

/**
 * `<env>`: all of one environment's infrastructure — network, load balancer and target groups,
 * compute (EC2: per slot; EKS: the cluster and its node groups), database, cache and monitoring.
 * Traffic weights are not part of it; on EKS, slot versions are not either (workloads stack).
 * The compute itself is built by lib/stacks/environment-compute.ts, in this stack's scope.
 */
export class EnvironmentStack extends BaseStack {
  readonly network: Network;
  readonly loadBalancer: LoadBalancer;
  /** Security group of the compute (EC2 instances; EKS nodes and pods): the only client of the database and cache. */
  readonly computeSecurityGroupId: string;
  /** Security group of the EC2 application instances (EC2 only). */
  readonly appSecurityGroup?: SecurityGroup;
  /** Auto Scaling groups of the compute: per slot on EC2, per node group on EKS. */
  readonly autoScalingGroupNames: string[];
  /** The cluster and its node groups (EKS only). */
  readonly eks?: EksCompute;
  readonly database: Database;
  readonly cache: Cache;
  readonly monitoring: Monitoring;
  /** WAF of the ALB (when the environment file asks for one). */
  readonly webAcl?: WebAcl;
  /** AWS Backup of the database (when the environment file asks for it). */
  readonly backup?: DatabaseBackup;
  /** The application's secrets (no values), when the environment declares any. */
  readonly appSecrets?: AppSecrets;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    const { env, release, target } = props;
    super(scope, env.name, {
      project: env.project,
      region: env.region,
      target,
      account: env.account,
      tags: environmentTags(env),
    });
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
      ...(env.compute.kind === "eks" ? { targetPorts: { ...NODE_PORTS } } : {}),
      deletionProtection: production,
      forceDestroyLogs: !production,
    });
    if (env.waf) {
      this.webAcl = new WebAcl(this, "waf", {
        namePrefix: p,
        resourceArn: this.loadBalancer.alb.arn,
        rateLimitPerIp: env.waf.rateLimitPerIp,
        logRetentionDays: env.waf.logRetentionDays,
      });
      skipCheck(
        this.loadBalancer.alb,
        "CKV2_AWS_76",
        "the web ACL runs AWSManagedRulesKnownBadInputsRuleSet (the Log4j rules); checkov also wants " +
          "AWSManagedRulesAnonymousIpList, which would block VPN, proxy and cloud-hosted clients: left out by design",
      );
    } else {
      skipCheck(
        this.loadBalancer.alb,
        "CKV2_AWS_28",
        `no WAF in ${p} (the environment file has no waf block): the AWS WAF's fixed and per-request cost is kept for environments with real users`,
      );
    }

    // Application secrets: created without values (envctl sets them), before the compute that reads their ARNs.
    if (env.app.secrets.length > 0) {
      this.appSecrets = new AppSecrets(this, "app-secrets", {
        namePrefix: secretPrefix(env.project, p),
        keyAlias: `${p}-app-secrets`,
        owner: p,
        secrets: env.app.secrets,
        // Development environments (and their previews) come and go: a name must be reusable at once.
        recoveryWindowDays: env.tier === "development" ? 0 : 30,
      });
    }

    let appRole: IamRole;
    const compute = env.compute;
    const parts = { network: this.network, loadBalancer: this.loadBalancer, appSecrets: this.appSecrets };
    switch (compute.kind) {
      case "ec2": {
        const ec2 = ec2Compute(this, parts, env, compute, release);
        this.appSecurityGroup = ec2.securityGroup;
        this.computeSecurityGroupId = ec2.securityGroup.id;
        this.autoScalingGroupNames = SLOTS.map((s) => ec2.compute.autoScalingGroups[s].name);
        appRole = ec2.compute.role;
        break;
      }
      case "eks": {
        this.eks = eksCompute(this, parts, env, compute);
        this.computeSecurityGroupId = this.eks.clusterSecurityGroupId;
        this.autoScalingGroupNames = this.eks.autoScalingGroupNames;
        appRole = this.eks.appRole!;
        break;
      }
      default: {
        const unknown: never = compute;
        throw new Error(`compute kind ${(unknown as { kind: string }).kind} is not supported`);
      }
    }

    this.database = new Database(this, "database", {
      namePrefix: p,
      vpcId,
      subnetIds: this.network.databaseSubnetIds,
      clientSecurityGroupId: this.computeSecurityGroupId,
      instanceClass: env.database.instanceClass,
      engineVersion: env.database.engineVersion,
      allocatedStorageGb: env.database.allocatedStorageGb,
      maxAllocatedStorageGb: env.database.maxAllocatedStorageGb,
      backupRetentionDays: env.database.backupRetentionDays,
      multiAz: env.database.multiAz,
      deletionProtection: env.database.deletionProtection,
      performanceInsights: env.monitoring.level !== "basic",
      enhancedMonitoringInterval: ({ basic: 0, enhanced: 60, full: 15 } as const)[env.monitoring.level],
    });
    if (env.backup) {
      this.backup = new DatabaseBackup(this, "backup", {
        namePrefix: p,
        resourceArns: [this.database.instance.arn],
        rules: env.backup.rules,
        copyTo:
          env.backup.copyToRegion && !env.backup.copyToVaultArn
            ? this.regionProvider("dr", env.backup.copyToRegion)
            : undefined,
        copyToVaultArn: env.backup.copyToVaultArn,
        vaultLock: env.backup.vaultLock,
        forceDestroy: !production,
      });
    }

    this.cache = new Cache(this, "cache", {
      namePrefix: p,
      vpcId,
      subnetIds: this.network.databaseSubnetIds,
      clientSecurityGroupId: this.computeSecurityGroupId,
      nodeType: env.cache.nodeType,
      replicas: env.cache.replicas,
      automaticFailover: env.cache.automaticFailover,
      engineVersion: env.cache.engineVersion,
    });
    tierExceptions(env, this.database, this.cache);
    // EC2: envctl's migrations, schema reads and data-copy SQL run through SSM Run Command on an instance.
    if (compute.kind === "ec2")
      new DatabaseRunner(this, "database-runner", {
        namePrefix: p,
        instanceRoleName: appRole.name,
        databaseKeyArn: this.database.key.key.arn,
        envctlRoleName: env.account.deployRoleArn?.split("/").pop(),
        instanceTag: { key: "Environment", value: env.name },
      });
    const cacheConnect = {
      Effect: "Allow",
      Action: ["elasticache:Connect"],
      Resource: [this.cache.arn, this.cache.appUser.arn],
    };
    // On EKS the pods also read the AWS-managed database secret themselves (Pod Identity).
    const readDatabaseSecret = [
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        Resource: this.database.instance.masterUserSecret.get(0).secretArn,
      },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: this.database.key.key.arn },
    ];
    new IamRolePolicy(this, compute.kind === "eks" ? "app-access" : "app-cache-connect", {
      role: appRole.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: compute.kind === "eks" ? [cacheConnect, ...readDatabaseSecret] : [cacheConnect],
      }),
    });

    // The application role is the only reader of the secrets' values.
    this.appSecrets?.grantRead(appRole);

    this.monitoring = new Monitoring(this, "monitoring", {
      namePrefix: p,
      region: env.region,
      level: env.monitoring.level,
      slotAlarmPeriodSeconds: env.release.analysis.metricPeriodSeconds,
      alarmEmails: env.monitoring.alarmEmails,
      thresholds: env.monitoring.thresholds,
      loadBalancerArnSuffix: this.loadBalancer.alb.arnSuffix,
      targetGroupArnSuffixes: {
        blue: this.loadBalancer.targetGroups.blue.arnSuffix,
        green: this.loadBalancer.targetGroups.green.arnSuffix,
      },
      autoScalingGroupNames: this.autoScalingGroupNames,
      databaseId: this.database.instance.identifier,
      cacheId: this.cache.replicationGroupId,
      unhealthyHostsWhen: env.compute.kind === "eks" ? "serving" : "always",
    });

    new TerraformOutput(this, "alb_dns_name", {
      value: this.loadBalancer.alb.dnsName,
      description: "Public DNS name of the ALB",
    });
    new TerraformOutput(this, "database_endpoint", { value: this.database.instance.endpoint });
    new TerraformOutput(this, "database_secret_arn", {
      value: this.database.instance.masterUserSecret.get(0).secretArn,
      description: "AWS-managed master password secret",
    });
    new TerraformOutput(this, "cache_endpoint", { value: this.cache.endpointAddress });
    new TerraformOutput(this, "alarm_topic_arn", { value: this.monitoring.topic.arn });
    dashboardOutputs(this, this.loadBalancer.alb.arnSuffix, this.autoScalingGroupNames); // the global dashboard reads them

    if (this.eks) {
      new EksAlarms(this, "eks-alarms", {
        namePrefix: p,
        clusterName: this.eks.cluster.name,
        topicArn: this.monitoring.topic.arn,
        memoryPercent: env.monitoring.thresholds.memoryPercent,
        cpuPercent: env.monitoring.thresholds.cpuPercent,
        level: env.monitoring.level,
      });
      new TerraformOutput(this, "cluster_name", { value: this.eks.cluster.name });
      new TerraformOutput(this, "cluster_endpoint", {
        value: this.eks.cluster.endpoint,
        description: "Kubernetes API endpoint",
      });
      new TerraformOutput(this, "cluster_certificate_authority_data", {
        value: this.eks.cluster.certificateAuthority.get(0).data,
        description: "Base64 CA bundle of the API endpoint",
      });
    }
  }
}
