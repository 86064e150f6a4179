import { Construct } from "constructs";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { EncryptionKey } from "./encryption-key.ts";

export const POSTGRES_PORT = 5432;

export interface DatabaseProps {
  /** Prefix of every resource name, e.g. `dev`. */
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Isolated database subnets (no route out of the VPC). */
  readonly subnetIds: string[];
  /** The only security group allowed to connect. */
  readonly clientSecurityGroupId: string;
  readonly instanceClass: string;
  /** PostgreSQL version: a major (RDS picks the minor; no drift with automatic minor upgrades) or major.minor. @default "16" */
  readonly engineVersion?: string;
  readonly allocatedStorageGb: number;
  /** Storage autoscaling ceiling. @default 2 × allocatedStorageGb */
  readonly maxAllocatedStorageGb?: number;
  /** Automated backup retention, days. @default 7 */
  readonly backupRetentionDays?: number;
  /** Standby in another AZ. @default true */
  readonly multiAz?: boolean;
  /** Refuse deletion; also keeps a final snapshot on delete. @default true */
  readonly deletionProtection?: boolean;
  /** Performance Insights (enhanced and full monitoring). @default false */
  readonly performanceInsights?: boolean;
}

/**
 * RDS PostgreSQL in isolated subnets, storage encrypted with its own KMS key, master password
 * generated and rotated by AWS in Secrets Manager (never in code or state), reachable only from
 * the application's security group.
 */
export class Database extends Construct {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const p = props.namePrefix;
    const protect = props.deletionProtection ?? true;
    this.key = new EncryptionKey(this, "key", { alias: `${p}-database`, description: `RDS storage and secret of ${p}` });

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${p}-database`,
      description: `PostgreSQL of ${p}: application only`,
      vpcId: props.vpcId,
      tags: { Name: `${p}-database` },
    });
    new VpcSecurityGroupIngressRule(this, "from-app", {
      securityGroupId: this.securityGroup.id,
      description: "PostgreSQL from the application",
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
    });
    const subnets = new DbSubnetGroup(this, "subnets", { name: `${p}-database`, subnetIds: props.subnetIds });

    this.instance = new DbInstance(this, "postgres", {
      identifier: `${p}-postgres`,
      engine: "postgres",
      engineVersion: props.engineVersion ?? "16",
      instanceClass: props.instanceClass,
      allocatedStorage: props.allocatedStorageGb,
      maxAllocatedStorage: props.maxAllocatedStorageGb ?? props.allocatedStorageGb * 2,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: this.key.key.arn,
      dbName: "app",
      username: "app_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.key.key.arn,
      port: POSTGRES_PORT,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      publiclyAccessible: false,
      multiAz: props.multiAz ?? true,
      backupRetentionPeriod: props.backupRetentionDays ?? 7,
      copyTagsToSnapshot: true,
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      finalSnapshotIdentifier: protect ? `${p}-postgres-final` : undefined,
      autoMinorVersionUpgrade: true,
      iamDatabaseAuthenticationEnabled: true,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      performanceInsightsEnabled: props.performanceInsights ?? false,
      performanceInsightsKmsKeyId: props.performanceInsights ? this.key.key.arn : undefined,
      applyImmediately: false,
    });
  }
}
