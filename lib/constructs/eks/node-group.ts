/**
 * Nodes: one launch template shared by the managed node groups (IMDSv2 only, encrypted gp3 root
 * volume, no SSH key, no security group of its own: nodes and pods use the cluster security
 * group), and one managed node group per configured group in the private subnets.
 *
 * Resources are created directly in the given scope (see lib/constructs/eks/iam.ts).
 */

import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import { skipCheck } from "../../policy/checkov-skip.ts";

export interface EksNodeGroupProps {
  /** Short name, unique in the cluster; the node group is named `<namePrefix>-<name>`. */
  readonly name: string;
  /** Instance types; several for Spot diversification. */
  readonly instanceTypes: readonly string[];
  /** `ON_DEMAND` or `SPOT`. @default "ON_DEMAND" */
  readonly capacityType?: "ON_DEMAND" | "SPOT";
  readonly capacity: { min: number; desired: number; max: number };
}

export interface EksNodeLaunchTemplateProps {
  /** Prefix of the template name: `<namePrefix>-eks-node`. */
  readonly namePrefix: string;
  /** Cluster name: the nodes and their volumes are named `<clusterName>-node`. */
  readonly clusterName: string;
  /** Root volume of each node, GiB (encrypted gp3, deleted with the node). @default 20 */
  readonly volumeGb?: number;
  /**
   * Tags of the nodes and their volumes (tag specifications): provider default tags reach
   * neither the EKS-made Auto Scaling groups nor their instances. @default none
   */
  readonly tags?: Record<string, string>;
}

/**
 * Launch template of every node group (id `node-template`). No AMI, instance type or security
 * group here: EKS supplies the AMI and its bootstrap, the node group the instance types, and the
 * cluster security group is attached by EKS. Instance metadata through IMDSv2 only.
 */
export class EksNodeLaunchTemplate {
  readonly template: LaunchTemplate;

  constructor(scope: Construct, props: EksNodeLaunchTemplateProps) {
    this.template = new LaunchTemplate(scope, "node-template", {
      name: `${props.namePrefix}-eks-node`,
      updateDefaultVersion: true,
      // Hop limit 2: the Container Insights agent (a non-host-network pod) reads the instance
      // metadata; the application pods are kept away from it by their NetworkPolicy.
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 2,
        instanceMetadataTags: "disabled",
      },
      monitoring: { enabled: true },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { volumeSize: props.volumeGb ?? 20, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      tagSpecifications: [
        { resourceType: "instance", tags: { ...props.tags, Name: `${props.clusterName}-node` } },
        { resourceType: "volume", tags: { ...props.tags, Name: `${props.clusterName}-node` } },
      ],
    });
    skipCheck(
      this.template,
      "CKV_AWS_341",
      "hop limit 2: the Container Insights agent, a pod off the host network, reads the instance " +
        "metadata; application pods are kept from it by their NetworkPolicy",
    );
  }
}

export interface EksManagedNodeGroupProps {
  /** The group: name, instance types, capacity type and size. */
  readonly group: EksNodeGroupProps;
  /** Prefix of the node group name: `<namePrefix>-<group.name>`. */
  readonly namePrefix: string;
  readonly clusterName: string;
  readonly nodeRoleArn: string;
  /** Private subnets of the nodes. */
  readonly subnetIds: string[];
  /** The launch template of the nodes (its latest version is used). */
  readonly launchTemplate: LaunchTemplate;
  /** What must exist before the first node: the node role's policies, the VPC CNI add-on. @default none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * One managed node group (id `node-group-<name>`): Amazon Linux 2023 x86_64 nodes, one node
 * unavailable at a time during updates, labelled with its group name and capacity type.
 */
export class EksManagedNodeGroup {
  readonly nodeGroup: EksNodeGroup;
  /** Name of the Auto Scaling group EKS made for it. */
  readonly autoScalingGroupName: string;

  constructor(scope: Construct, props: EksManagedNodeGroupProps) {
    const g = props.group;
    const p = props.namePrefix;
    this.nodeGroup = new EksNodeGroup(scope, `node-group-${g.name}`, {
      clusterName: props.clusterName,
      nodeGroupName: `${p}-${g.name}`,
      nodeRoleArn: props.nodeRoleArn,
      subnetIds: props.subnetIds,
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: g.capacityType ?? "ON_DEMAND",
      instanceTypes: [...g.instanceTypes],
      scalingConfig: { minSize: g.capacity.min, desiredSize: g.capacity.desired, maxSize: g.capacity.max },
      updateConfig: { maxUnavailable: 1 },
      launchTemplate: { id: props.launchTemplate.id, version: props.launchTemplate.latestVersion.toString() },
      labels: {
        "envstack.io/node-group": g.name,
        "envstack.io/capacity-type": (g.capacityType ?? "ON_DEMAND").toLowerCase(),
      },
      tags: { Name: `${p}-${g.name}` },
      dependsOn: props.dependsOn,
    });
    this.autoScalingGroupName = this.nodeGroup.resources.get(0).autoscalingGroups.get(0).name;
  }
}
