import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { ElasticacheUserGroup } from "@cdktf/provider-aws/lib/elasticache-user-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { EncryptionKey } from "./encryption-key.ts";

export const REDIS_PORT = 6379;

export interface CacheProps {
  /** Prefix of every resource name, e.g. `dev`. */
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Isolated subnets for the cache nodes. */
  readonly subnetIds: string[];
  /** The only security group allowed to connect. */
  readonly clientSecurityGroupId: string;
  readonly nodeType: string;
  /** Read replicas besides the primary. @default 1 */
  readonly replicas?: number;
  /** Promote a replica when the primary fails (needs a replica). @default true */
  readonly automaticFailover?: boolean;
  /** Redis engine version. @default "7.1" */
  readonly engineVersion?: string;
  /** Daily snapshots kept, days. @default 7 */
  readonly snapshotRetentionDays?: number;
}

/**
 * ElastiCache Redis replication group: encrypted at rest (own KMS key) and in transit, RBAC
 * with IAM authentication (no password anywhere: the app signs in with its IAM role), the
 * default user switched off, reachable only from the application's security group.
 */
export class Cache extends Construct {
  readonly replicationGroup: ElasticacheReplicationGroup;
  /** Primary endpoint address. */
  readonly endpointAddress: string;
  /** ARN of the replication group. */
  readonly arn: string;
  /** Replication group id. */
  readonly replicationGroupId: string;
  readonly securityGroup: SecurityGroup;
  /** User the application connects as (IAM auth). */
  readonly appUser: ElasticacheUser;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const p = props.namePrefix;
    const replicas = props.replicas ?? 1;
    const failover = (props.automaticFailover ?? true) && replicas > 0;
    const key = new EncryptionKey(this, "key", { alias: `${p}-cache`, description: `ElastiCache of ${p}` });

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${p}-cache`,
      description: `Redis of ${p}: application only`,
      vpcId: props.vpcId,
      tags: { Name: `${p}-cache` },
    });
    new VpcSecurityGroupIngressRule(this, "from-app", {
      securityGroupId: this.securityGroup.id,
      description: "Redis from the application",
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: REDIS_PORT,
      toPort: REDIS_PORT,
    });

    // RBAC: a group needs a user named "default"; ours can do nothing.
    this.replicationGroupId = `${p}-redis`;
    const subnets = new ElasticacheSubnetGroup(this, "subnets", { name: `${p}-cache`, subnetIds: props.subnetIds });
    const defaultUser = new ElasticacheUser(this, "default-user", {
      userId: `${p}-default-off`,
      userName: "default",
      engine: "redis",
      accessString: "off -@all",
      authenticationMode: { type: "no-password-required" },
    });
    this.appUser = new ElasticacheUser(this, "app-user", {
      userId: `${p}-app`,
      userName: `${p}-app`,
      engine: "redis",
      accessString: "on ~* +@all -@dangerous",
      authenticationMode: { type: "iam" },
    });
    const group = new ElasticacheUserGroup(this, "users", {
      userGroupId: `${p}-app-users`,
      engine: "redis",
      userIds: [defaultUser.userId, this.appUser.userId],
    });

    this.replicationGroup = new ElasticacheReplicationGroup(this, "redis", {
      replicationGroupId: `${p}-redis`,
      description: `Redis of ${p}`,
      engine: "redis",
      engineVersion: props.engineVersion ?? "7.1",
      nodeType: props.nodeType,
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: failover,
      multiAzEnabled: failover,
      port: REDIS_PORT,
      subnetGroupName: subnets.name,
      securityGroupIds: [this.securityGroup.id],
      atRestEncryptionEnabled: "true",
      kmsKeyId: key.key.arn,
      transitEncryptionEnabled: true,
      userGroupIds: [group.userGroupId],
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 7,
      autoMinorVersionUpgrade: "true",
      applyImmediately: false,
    });
    this.endpointAddress = this.replicationGroup.primaryEndpointAddress;
    this.arn = this.replicationGroup.arn;
  }
}
