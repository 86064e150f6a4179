import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { EncryptionKey } from "./encryption-key.ts";
import { assumeRolePolicy } from "./iam.ts";
import { databaseIdentifier } from "./naming.ts";

export const POSTGRES_PORT = 5432;

export { databaseIdentifier };

/** Intervals RDS enhanced monitoring accepts, seconds (0 = off). */
export const ENHANCED_MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60] as const;

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
  /**
   * RDS enhanced monitoring (OS metrics) every this many seconds, with its own IAM role; 0 is off.
   * @default 0
   */
  readonly enhancedMonitoringInterval?: (typeof ENHANCED_MONITORING_INTERVALS)[number];
  /**
   * Query logging through the instance's parameter group: statements slower than
   * `slowQueryMs` and the statement classes in `statements` go to the postgresql log (exported to
   * CloudWatch Logs). @default { slowQueryMs: 1000, statements: "ddl" }
   */
  readonly queryLogging?: { readonly slowQueryMs: number; readonly statements: "none" | "ddl" | "mod" | "all" };
}

/**
 * RDS PostgreSQL in isolated subnets, storage encrypted with its own KMS key, master password
 * generated and rotated by AWS in Secrets Manager (never in code or state), reachable only from
 * the application's security group, TLS only; slow queries and schema changes logged (both
 * through its own parameter group); optional enhanced monitoring.
 */
export class Database extends Construct {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  readonly key: EncryptionKey;
  readonly parameterGroup: DbParameterGroup;
  /** Role RDS publishes enhanced monitoring with (only when it is on). */
  readonly monitoringRole?: IamRole;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const p = props.namePrefix;
    const protect = props.deletionProtection ?? true;
    this.key = new EncryptionKey(this, "key", {
      alias: `${p}-database`,
      description: `RDS storage and secret of ${p}`,
    });

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
    const engineVersion = props.engineVersion ?? "16";
    const logging = props.queryLogging ?? { slowQueryMs: 1000, statements: "ddl" };
    this.parameterGroup = new DbParameterGroup(this, "parameters", {
      name: `${p}-postgres${engineVersion.split(".")[0]}`,
      family: `postgres${engineVersion.split(".")[0]}`,
      description: `PostgreSQL ${engineVersion.split(".")[0]} of ${p}: query logging`,
      parameter: [
        { name: "log_min_duration_statement", value: String(logging.slowQueryMs) },
        { name: "log_statement", value: logging.statements },
        // TLS only, whatever the engine version's default.
        { name: "rds.force_ssl", value: "1" },
      ],
    });
    const interval = props.enhancedMonitoringInterval ?? 0;
    if (interval > 0) {
      this.monitoringRole = new IamRole(this, "monitoring-role", {
        name: `${p}-rds-monitoring`,
        assumeRolePolicy: assumeRolePolicy("monitoring.rds.amazonaws.com"),
      });
      new IamRolePolicyAttachment(this, "monitoring-policy", {
        role: this.monitoringRole.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
      });
    }

    this.instance = new DbInstance(this, "postgres", {
      identifier: databaseIdentifier(p),
      engine: "postgres",
      engineVersion,
      parameterGroupName: this.parameterGroup.name,
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
      monitoringInterval: interval,
      monitoringRoleArn: this.monitoringRole?.arn,
      applyImmediately: false,
    });
  }
}
