import { Construct } from "constructs";
import { AutoscalingAttachment } from "@cdktf/provider-aws/lib/autoscaling-attachment";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { SLOTS, type Slot } from "../config/schema.ts";
import { skipCheck } from "../policy/checkov-skip.ts";
import { EncryptionKey } from "./encryption-key.ts";
import { assumeRolePolicy } from "./iam.ts";
import { ONE_YEAR_DAYS } from "./network.ts";

/**
 * NodePort of each slot's Service: the ALB target group of the slot forwards to this port on
 * every node (target type `instance`), kube-proxy forwards to the slot's pods.
 */
export const NODE_PORTS: Readonly<Record<Slot, number>> = { blue: 30080, green: 30081 };

/** Control-plane logs shipped to CloudWatch. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator"] as const;

const MANAGED = "arn:aws:iam::aws:policy";
/** The only managed policies of the cluster role. */
export const CLUSTER_ROLE_POLICIES = [`${MANAGED}/AmazonEKSClusterPolicy`] as const;
/** The only managed policies of the node role. */
export const NODE_ROLE_POLICIES = [
  `${MANAGED}/AmazonEKSWorkerNodePolicy`,
  `${MANAGED}/AmazonEC2ContainerRegistryReadOnly`,
  `${MANAGED}/AmazonEKS_CNI_Policy`,
] as const;

/** Trust policy of a role assumed by pods through EKS Pod Identity. */
function podIdentityTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
  });
}

export interface EksNodeGroupProps {
  /** Short name, unique in the cluster; the node group is named `<namePrefix>-<name>`. */
  readonly name: string;
  /** Instance types; several for Spot diversification. */
  readonly instanceTypes: readonly string[];
  /** `ON_DEMAND` or `SPOT`. @default "ON_DEMAND" */
  readonly capacityType?: "ON_DEMAND" | "SPOT";
  readonly capacity: { min: number; desired: number; max: number };
}

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
  /** NodePort of each slot. @default {@link NODE_PORTS} */
  readonly nodePorts?: Record<Slot, number>;
  /** Control-plane log types. @default {@link CONTROL_PLANE_LOG_TYPES} (api, audit, authenticator) */
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
    const clusterName = `${p}-eks`;
    const publicCidrs = [...(props.publicAccessCidrs ?? [])];
    const nodePorts = props.nodePorts ?? NODE_PORTS;

    this.secretsKey = new EncryptionKey(this, "secrets-key", {
      alias: `${p}-eks-secrets`,
      description: `Kubernetes secrets of ${clusterName}`,
      deletionWindowDays: props.keyDeletionWindowDays,
    });

    // Cluster role: the EKS service policy, plus use of the secrets key.
    this.clusterRole = new IamRole(this, "cluster-role", { name: `${p}-eks-cluster`, assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com") });
    const clusterPolicies = CLUSTER_ROLE_POLICIES.map((arn, i) =>
      new IamRolePolicyAttachment(this, `cluster-policy-${i}`, { role: this.clusterRole.name, policyArn: arn }));
    const clusterKeyPolicy = new IamRolePolicy(this, "cluster-secrets-key", {
      role: this.clusterRole.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], Resource: this.secretsKey.key.arn }],
      }),
    });

    // The log group exists before the cluster, so its retention and key apply from the first line.
    const logGroupName = `/aws/eks/${clusterName}/cluster`;
    const logKey = new EncryptionKey(this, "logs-key", {
      alias: `${p}-eks-logs`,
      description: `Control-plane logs of ${clusterName}`,
      deletionWindowDays: props.keyDeletionWindowDays,
      logGroupNames: [logGroupName],
    });
    const retention = props.logRetentionDays ?? 90;
    const logGroup = new CloudwatchLogGroup(this, "control-plane-logs", { name: logGroupName, retentionInDays: retention, kmsKeyId: logKey.key.arn });
    if (retention < ONE_YEAR_DAYS) skipCheck(logGroup, "CKV_AWS_338", `control-plane logs are kept ${retention} days (the environment's log retention); production keeps a year`);
    const logTypes = [...(props.logTypes ?? CONTROL_PLANE_LOG_TYPES)];

    this.cluster = new EksCluster(this, "cluster", {
      name: clusterName,
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
      dependsOn: [...clusterPolicies, clusterKeyPolicy, logGroup],
    });
    if (!["controllerManager", "scheduler"].every((t) => logTypes.includes(t))) {
      skipCheck(this.cluster, "CKV_AWS_37", "api, audit and authenticator logs are shipped; controllerManager and scheduler logs are high-volume operational detail with no access record, left out for cost");
    }
    this.clusterSecurityGroupId = this.cluster.vpcConfig.clusterSecurityGroupId;

    // Node role: exactly the three worker policies.
    this.nodeRole = new IamRole(this, "node-role", { name: `${p}-eks-node`, assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com") });
    const nodePolicies = NODE_ROLE_POLICIES.map((arn, i) =>
      new IamRolePolicyAttachment(this, `node-policy-${i}`, { role: this.nodeRole.name, policyArn: arn }));

    // No AMI, instance type or security group here: EKS supplies the AMI and its bootstrap,
    // the node group the instance types, and the cluster security group is attached by EKS.
    const template = new LaunchTemplate(this, "node-template", {
      name: `${p}-eks-node`,
      updateDefaultVersion: true,
      // Hop limit 2: the Container Insights agent (a non-host-network pod) reads the instance
      // metadata; the application pods are kept away from it by their NetworkPolicy.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2, instanceMetadataTags: "disabled" },
      monitoring: { enabled: true },
      blockDeviceMappings: [{
        deviceName: "/dev/xvda",
        ebs: { volumeSize: props.nodeVolumeGb ?? 20, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
      }],
      tagSpecifications: [
        { resourceType: "instance", tags: { ...props.nodeTags, Name: `${clusterName}-node` } },
        { resourceType: "volume", tags: { ...props.nodeTags, Name: `${clusterName}-node` } },
      ],
    });
    skipCheck(template, "CKV_AWS_341", "hop limit 2: the Container Insights agent, a pod off the host network, reads the instance metadata; application pods are kept from it by their NetworkPolicy");

    // The VPC CNI before any node, so every node starts enforcing NetworkPolicies. It replaces the
    // self-managed copy EKS bootstraps (OVERWRITE); a DaemonSet needs no node to become active.
    const vpcCni = (props.networkPolicy ?? true)
      ? [new EksAddon(this, "vpc-cni", {
          clusterName: this.cluster.name,
          addonName: "vpc-cni",
          configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
        })]
      : [];

    this.nodeGroups = props.nodeGroups.map((g) => new EksNodeGroup(this, `node-group-${g.name}`, {
      clusterName: this.cluster.name,
      nodeGroupName: `${p}-${g.name}`,
      nodeRoleArn: this.nodeRole.arn,
      subnetIds: props.subnetIds,
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: g.capacityType ?? "ON_DEMAND",
      instanceTypes: [...g.instanceTypes],
      scalingConfig: { minSize: g.capacity.min, desiredSize: g.capacity.desired, maxSize: g.capacity.max },
      updateConfig: { maxUnavailable: 1 },
      launchTemplate: { id: template.id, version: template.latestVersion.toString() },
      labels: { "envstack.io/node-group": g.name, "envstack.io/capacity-type": (g.capacityType ?? "ON_DEMAND").toLowerCase() },
      tags: { Name: `${p}-${g.name}` },
      dependsOn: [...nodePolicies, ...vpcCni],
    }));
    this.autoScalingGroupNames = this.nodeGroups.map((ng) => ng.resources.get(0).autoscalingGroups.get(0).name);

    // Deployers: authenticated into the deployer group only; RBAC in the workloads stack decides
    // what that group may do (no access policy association, so nothing cluster-wide).
    this.deployerAccessEntries = (props.deployers?.roleArns ?? []).map((principalArn, i) => new EksAccessEntry(this, `deployer-${i}`, {
      clusterName: this.cluster.name,
      principalArn,
      type: "STANDARD",
      kubernetesGroups: [props.deployers!.kubernetesGroup],
    }));

    // Blue/green: each slot's target group receives every node, on the slot's NodePort.
    for (const slot of SLOTS) {
      this.nodeGroups.forEach((ng, i) => skipCheck(new AutoscalingAttachment(this, `tg-${slot}-${props.nodeGroups[i]!.name}`, {
        autoscalingGroupName: this.autoScalingGroupNames[i]!,
        lbTargetGroupArn: props.targetGroupArns[slot],
      }), "CKV2_AWS_15", "the Auto Scaling group belongs to the EKS managed node group: EKS replaces unhealthy nodes, the target group's health check judges the pods behind each NodePort"));
      new VpcSecurityGroupIngressRule(this, `nodeport-${slot}`, {
        securityGroupId: this.clusterSecurityGroupId,
        description: `NodePort of the ${slot} slot from the ALB`,
        referencedSecurityGroupId: props.loadBalancerSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: nodePorts[slot],
        toPort: nodePorts[slot],
      });
    }
    (props.privateAccessCidrs ?? []).forEach((cidr, i) => new VpcSecurityGroupIngressRule(this, `api-private-${i}`, {
      securityGroupId: this.clusterSecurityGroupId,
      description: "Kubernetes API (private endpoint)",
      cidrIpv4: cidr,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    }));

    // Add-ons run pods: they need nodes first.
    const podIdentity = new EksAddon(this, "pod-identity-agent", {
      clusterName: this.cluster.name,
      addonName: "eks-pod-identity-agent",
      dependsOn: this.nodeGroups,
    });

    if (props.metricsServer ?? true) {
      new EksAddon(this, "metrics-server", { clusterName: this.cluster.name, addonName: "metrics-server", dependsOn: this.nodeGroups });
    }

    if (props.containerInsights ?? true) {
      const agentRole = new IamRole(this, "cloudwatch-agent-role", { name: `${p}-eks-cloudwatch-agent`, assumeRolePolicy: podIdentityTrustPolicy() });
      const agentPolicy = new IamRolePolicyAttachment(this, "cloudwatch-agent-policy", { role: agentRole.name, policyArn: `${MANAGED}/CloudWatchAgentServerPolicy` });
      new EksAddon(this, "cloudwatch-observability", {
        clusterName: this.cluster.name,
        addonName: "amazon-cloudwatch-observability",
        podIdentityAssociation: [{ roleArn: agentRole.arn, serviceAccount: "cloudwatch-agent" }],
        dependsOn: [podIdentity, agentPolicy],
      });
    }

    if (props.appServiceAccount) {
      this.appRole = new IamRole(this, "app-role", { name: `${p}-eks-app`, assumeRolePolicy: podIdentityTrustPolicy() });
      new EksPodIdentityAssociation(this, "app-pod-identity", {
        clusterName: this.cluster.name,
        namespace: props.appServiceAccount.namespace,
        serviceAccount: props.appServiceAccount.name,
        roleArn: this.appRole.arn,
      });
    }
  }
}
