/**
 * The EKS control plane: the cluster, its secrets key and role, and its log group. Private
 * endpoint always; a public endpoint only for the CIDRs given; Kubernetes secrets
 * envelope-encrypted with a customer-managed key; control-plane logs to a KMS-encrypted log group
 * with a retention; access through EKS access entries (API mode).
 *
 * Resources are created directly in the given scope (see lib/constructs/eks/iam.ts).
 */

import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { Construct } from "constructs";
import { skipCheck } from "../../policy/checkov-skip.ts";
import { EncryptionKey } from "../encryption-key.ts";
import { eksClusterName } from "../naming.ts";
import { ONE_YEAR_DAYS } from "../network.ts";
import { EksClusterRole } from "./iam.ts";

/** Control-plane logs shipped to CloudWatch. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator"] as const;

export interface EksControlPlaneLogsProps {
  /** Name of the cluster whose logs these are (the log group is `/aws/eks/<clusterName>/cluster`, as EKS names it). */
  readonly clusterName: string;
  /** Prefix of the key alias: `<namePrefix>-eks-logs`. */
  readonly namePrefix: string;
  /** Retention of the log group, days. @default 90 */
  readonly retentionDays?: number;
  /** Waiting period of the log key before deletion, days. @default 30 */
  readonly keyDeletionWindowDays?: number;
}

/**
 * The control plane's log group (ids `logs-key`, `control-plane-logs`), encrypted with its own
 * key. It exists before the cluster, so its retention and key apply from the first line.
 */
export class EksControlPlaneLogs {
  readonly logGroup: CloudwatchLogGroup;
  readonly key: EncryptionKey;

  constructor(scope: Construct, props: EksControlPlaneLogsProps) {
    const logGroupName = `/aws/eks/${props.clusterName}/cluster`;
    this.key = new EncryptionKey(scope, "logs-key", {
      alias: `${props.namePrefix}-eks-logs`,
      description: `Control-plane logs of ${props.clusterName}`,
      deletionWindowDays: props.keyDeletionWindowDays,
      logGroupNames: [logGroupName],
    });
    const retention = props.retentionDays ?? 90;
    this.logGroup = new CloudwatchLogGroup(scope, "control-plane-logs", {
      name: logGroupName,
      retentionInDays: retention,
      kmsKeyId: this.key.key.arn,
    });
    if (retention < ONE_YEAR_DAYS)
      skipCheck(
        this.logGroup,
        "CKV_AWS_338",
        `control-plane logs are kept ${retention} days (the environment's log retention); production keeps a year`,
      );
  }
}

export interface EksControlPlaneProps {
  /** Prefix of every resource name, e.g. `staging`; the cluster is `<namePrefix>-eks`. */
  readonly namePrefix: string;
  /** Private subnets of the control-plane ENIs. */
  readonly subnetIds: string[];
  /** Kubernetes version of the control plane. */
  readonly kubernetesVersion: string;
  /**
   * CIDRs allowed to reach the public API endpoint. The private endpoint is always on; the
   * public one only exists when this is non-empty, and is restricted to exactly these CIDRs.
   * @default [] (private endpoint only)
   */
  readonly publicAccessCidrs?: readonly string[];
  /** Control-plane log types. @default {@link CONTROL_PLANE_LOG_TYPES} (api, audit, authenticator) */
  readonly logTypes?: readonly string[];
  /** Retention of the control-plane log group, days. @default 90 */
  readonly logRetentionDays?: number;
  /** Waiting period of the secrets and log KMS keys before deletion, days. @default 30 */
  readonly keyDeletionWindowDays?: number;
}

/**
 * The cluster (ids `secrets-key`, the {@link EksClusterRole} ids, the {@link EksControlPlaneLogs}
 * ids, then `cluster`), created after its role's grants and its log group.
 */
export class EksControlPlane {
  readonly cluster: EksCluster;
  readonly clusterName: string;
  readonly clusterRole: IamRole;
  /** KMS key encrypting the Kubernetes secrets. */
  readonly secretsKey: EncryptionKey;
  /** Security group of the control-plane ENIs, the nodes and the pods (created by EKS). */
  readonly clusterSecurityGroupId: string;

  constructor(scope: Construct, props: EksControlPlaneProps) {
    const p = props.namePrefix;
    this.clusterName = eksClusterName(p);
    const publicCidrs = [...(props.publicAccessCidrs ?? [])];

    this.secretsKey = new EncryptionKey(scope, "secrets-key", {
      alias: `${p}-eks-secrets`,
      description: `Kubernetes secrets of ${this.clusterName}`,
      deletionWindowDays: props.keyDeletionWindowDays,
    });
    const role = new EksClusterRole(scope, { namePrefix: p, secretsKeyArn: this.secretsKey.key.arn });
    this.clusterRole = role.role;
    const logs = new EksControlPlaneLogs(scope, {
      clusterName: this.clusterName,
      namePrefix: p,
      retentionDays: props.logRetentionDays,
      keyDeletionWindowDays: props.keyDeletionWindowDays,
    });
    const logTypes = [...(props.logTypes ?? CONTROL_PLANE_LOG_TYPES)];

    this.cluster = new EksCluster(scope, "cluster", {
      name: this.clusterName,
      version: props.kubernetesVersion,
      roleArn: this.clusterRole.arn,
      vpcConfig: {
        subnetIds: props.subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicCidrs.length > 0,
        // Only sent with a public endpoint; AWS would otherwise default it to 0.0.0.0/0.
        ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
      },
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: this.secretsKey.key.arn } },
      enabledClusterLogTypes: logTypes,
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      dependsOn: [...role.grants, logs.logGroup],
    });
    if (!["controllerManager", "scheduler"].every((t) => logTypes.includes(t))) {
      skipCheck(
        this.cluster,
        "CKV_AWS_37",
        "api, audit and authenticator logs are shipped; controllerManager and scheduler logs are " +
          "high-volume operational detail with no access record, left out for cost",
      );
    }
    this.clusterSecurityGroupId = this.cluster.vpcConfig.clusterSecurityGroupId;
  }
}
