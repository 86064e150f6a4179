import type { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import type { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import type { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Construct } from "constructs";
import type { Slot } from "../core/primitives.ts";
import { EksAppPodIdentity, EksDeployerAccess, EksPrivateApiAccess } from "./eks/access.ts";
import { EksNodeAddons, EksVpcCniAddon } from "./eks/addons.ts";
import { EksControlPlane } from "./eks/cluster.ts";
import { EksNodeRole } from "./eks/iam.ts";
import { EksManagedNodeGroup, type EksNodeGroupProps, EksNodeLaunchTemplate } from "./eks/node-group.ts";
import { EksSlotRouting } from "./eks/slot-routing.ts";
import type { EncryptionKey } from "./encryption-key.ts";

export { CONTROL_PLANE_LOG_TYPES } from "./eks/cluster.ts";
export { CLUSTER_ROLE_POLICIES, NODE_ROLE_POLICIES } from "./eks/iam.ts";
export type { EksNodeGroupProps } from "./eks/node-group.ts";
export { NODE_PORTS } from "./eks/slot-routing.ts";

export interface EksComputeProps {
  /** Prefix of every resource name, e.g. `staging`; the cluster is `<namePrefix>-eks`. */
  readonly namePrefix: string;
  /** Private subnets: control-plane ENIs and every node group. */
  readonly subnetIds: string[];
  /** Kubernetes version of the control plane. */
  readonly kubernetesVersion: string;
  /**
   * CIDRs allowed to reach the public API endpoint. The private endpoint is always on; the
   * public one only exists when this is non-empty, and is restricted to exactly these CIDRs.
   * @default [] (private endpoint only)
   */
  readonly publicAccessCidrs?: readonly string[];
  /**
   * CIDRs allowed to reach the private API endpoint (HTTPS on the cluster security group),
   * e.g. a CI runner subnet. Nodes and pods reach it through the cluster security group anyway.
   * @default [] (nothing besides the cluster itself)
   */
  readonly privateAccessCidrs?: readonly string[];
  /** Managed node groups (at least one). */
  readonly nodeGroups: readonly EksNodeGroupProps[];
  /** Target group of each slot: every node group's Auto Scaling group is attached to both. */
  readonly targetGroupArns: Record<Slot, string>;
  /** Security group of the ALB: the only source allowed to the NodePorts. */
  readonly loadBalancerSecurityGroupId: string;
  /** NodePort of each slot. @default NODE_PORTS (lib/constructs/eks/slot-routing.ts) */
  readonly nodePorts?: Record<Slot, number>;
  /** Control-plane log types. @default CONTROL_PLANE_LOG_TYPES (lib/constructs/eks/cluster.ts) (api, audit, authenticator) */
  readonly logTypes?: readonly string[];
  /** Retention of the control-plane log group, days. @default 90 */
  readonly logRetentionDays?: number;
  /** Root volume of each node, GiB (encrypted gp3). @default 20 */
  readonly nodeVolumeGb?: number;
  /**
   * Install the CloudWatch observability add-on (Container Insights: node memory/CPU metrics),
   * with its own Pod Identity role rather than extra rights on the node role. @default true
   */
  readonly containerInsights?: boolean;
  /**
   * Manage the VPC CNI as an add-on with network policy enforcement switched on (without it the
   * NetworkPolicies of the workloads stack are accepted but not enforced). @default true
   */
  readonly networkPolicy?: boolean;
  /** Install the metrics-server community add-on (resource metrics for HorizontalPodAutoscalers). @default true */
  readonly metricsServer?: boolean;
  /**
   * Service account of the application: gets {@link EksCompute.appRole} through EKS Pod Identity.
   * Permissions are added to the role by the caller. @default none (no app role)
   */
  readonly appServiceAccount?: { readonly namespace: string; readonly name: string };
  /**
   * Tags of the nodes and their volumes (launch template tag specifications): provider default
   * tags reach neither the EKS-made Auto Scaling groups nor their instances. @default none
   */
  readonly nodeTags?: Record<string, string>;
  /** Waiting period of the secrets KMS key before deletion, days. @default 30 */
  readonly keyDeletionWindowDays?: number;
  /**
   * IAM roles mapped to a Kubernetes group through EKS access entries (type STANDARD, no access
   * policy association: their only rights are what RBAC binds to the group, e.g. a namespaced
   * deployer Role). @default none
   */
  readonly deployers?: { readonly roleArns: readonly string[]; readonly kubernetesGroup: string };
}

/**
 * EKS cluster with managed node groups in the private subnets.
 *
 * - Control plane: private endpoint always, public endpoint only for the given CIDRs; Kubernetes
 *   secrets envelope-encrypted with a customer-managed KMS key; api/audit/authenticator logs to
 *   a log group with a retention; access through EKS access entries (API mode).
 * - IAM, least privilege: the cluster role has AmazonEKSClusterPolicy (+ use of the secrets key
 *   only); the node role has AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly and
 *   AmazonEKS_CNI_Policy and nothing else. Pods get AWS rights through Pod Identity roles.
 * - Add-ons: VPC CNI with NetworkPolicy enforcement (before the nodes), Pod Identity agent,
 *   metrics-server (for HPAs), CloudWatch observability (Container Insights).
 * - Nodes: one launch template (IMDSv2 only, encrypted gp3 root volume, no SSH), no custom
 *   security group, so nodes and pods use the cluster security group: {@link clusterSecurityGroupId}
 *   is the compute security group the database and cache trust.
 * - Blue/green: every node group's Auto Scaling group is attached to both slots' target groups;
 *   the ALB security group may reach the slots' NodePorts on the cluster security group.
 *
 * Nothing here depends on slot versions: those are in the workloads stack.
 *
 * Composed of the parts in lib/constructs/eks/ (control plane, IAM roles, launch template and
 * node groups, add-ons, access, slot routing), which create their resources in this construct
 * under the ids they always had: the Terraform addresses do not depend on the split.
 */
export class EksCompute extends Construct {
  readonly cluster: EksCluster;
  /** Security group of the control-plane ENIs, the nodes and the pods (created by EKS). */
  readonly clusterSecurityGroupId: string;
  readonly clusterRole: IamRole;
  readonly nodeRole: IamRole;
  readonly nodeGroups: EksNodeGroup[];
  /** Auto Scaling group of each node group, in node group order. */
  readonly autoScalingGroupNames: string[];
  /** One access entry per deployer role ARN. */
  readonly deployerAccessEntries: EksAccessEntry[];
  /** KMS key encrypting the Kubernetes secrets. */
  readonly secretsKey: EncryptionKey;
  /** Role of the application pods (Pod Identity); only with `appServiceAccount`. */
  readonly appRole?: IamRole;

  constructor(scope: Construct, id: string, props: EksComputeProps) {
    super(scope, id);
    const p = props.namePrefix;

    const controlPlane = new EksControlPlane(this, {
      namePrefix: p,
      subnetIds: props.subnetIds,
      kubernetesVersion: props.kubernetesVersion,
      publicAccessCidrs: props.publicAccessCidrs,
      logTypes: props.logTypes,
      logRetentionDays: props.logRetentionDays,
      keyDeletionWindowDays: props.keyDeletionWindowDays,
    });
    this.cluster = controlPlane.cluster;
    this.clusterRole = controlPlane.clusterRole;
    this.secretsKey = controlPlane.secretsKey;
    this.clusterSecurityGroupId = controlPlane.clusterSecurityGroupId;
    const clusterName = this.cluster.name;

    const nodeRole = new EksNodeRole(this, { namePrefix: p });
    this.nodeRole = nodeRole.role;
    const template = new EksNodeLaunchTemplate(this, {
      namePrefix: p,
      clusterName: controlPlane.clusterName,
      volumeGb: props.nodeVolumeGb,
      tags: props.nodeTags,
    });
    const vpcCni = (props.networkPolicy ?? true) ? [new EksVpcCniAddon(this, { clusterName }).addon] : [];

    const groups = props.nodeGroups.map(
      (group) =>
        new EksManagedNodeGroup(this, {
          group,
          namePrefix: p,
          clusterName,
          nodeRoleArn: this.nodeRole.arn,
          subnetIds: props.subnetIds,
          launchTemplate: template.template,
          dependsOn: [...nodeRole.policyAttachments, ...vpcCni],
        }),
    );
    this.nodeGroups = groups.map((g) => g.nodeGroup);
    this.autoScalingGroupNames = groups.map((g) => g.autoScalingGroupName);

    this.deployerAccessEntries = props.deployers
      ? new EksDeployerAccess(this, {
          clusterName,
          roleArns: props.deployers.roleArns,
          kubernetesGroup: props.deployers.kubernetesGroup,
        }).entries
      : [];

    new EksSlotRouting(this, {
      nodeGroups: props.nodeGroups.map((g, i) => ({
        name: g.name,
        autoScalingGroupName: this.autoScalingGroupNames[i]!,
      })),
      targetGroupArns: props.targetGroupArns,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      loadBalancerSecurityGroupId: props.loadBalancerSecurityGroupId,
      nodePorts: props.nodePorts,
    });
    new EksPrivateApiAccess(this, {
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      cidrs: props.privateAccessCidrs,
    });

    new EksNodeAddons(this, {
      clusterName,
      namePrefix: p,
      nodeGroups: this.nodeGroups,
      metricsServer: props.metricsServer,
      containerInsights: props.containerInsights,
    });

    if (props.appServiceAccount) {
      this.appRole = new EksAppPodIdentity(this, {
        clusterName,
        namePrefix: p,
        serviceAccount: props.appServiceAccount,
      }).role;
    }
  }
}
