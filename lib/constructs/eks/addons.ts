/**
 * EKS add-ons: the VPC CNI with NetworkPolicy enforcement (before any node), then, once nodes
 * exist, the Pod Identity agent, metrics-server (resource metrics for HPAs) and CloudWatch
 * observability (Container Insights) with its own Pod Identity role rather than extra rights on
 * the node role.
 *
 * Resources are created directly in the given scope (see lib/constructs/eks/iam.ts).
 */

import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import type { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { Construct } from "constructs";
import { MANAGED, PodIdentityRole } from "./iam.ts";

export interface EksVpcCniAddonProps {
  readonly clusterName: string;
}

/**
 * The VPC CNI as an add-on (id `vpc-cni`) with network policy enforcement switched on: without
 * it the NetworkPolicies of the workloads stack are accepted but not enforced. Create it before
 * any node, so every node starts enforcing; it replaces the self-managed copy EKS bootstraps
 * (OVERWRITE), and a DaemonSet needs no node to become active.
 */
export class EksVpcCniAddon {
  readonly addon: EksAddon;

  constructor(scope: Construct, props: EksVpcCniAddonProps) {
    this.addon = new EksAddon(scope, "vpc-cni", {
      clusterName: props.clusterName,
      addonName: "vpc-cni",
      configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
    });
  }
}

export interface EksNodeAddonsProps {
  readonly clusterName: string;
  /** Prefix of the CloudWatch agent's role name: `<namePrefix>-eks-cloudwatch-agent`. */
  readonly namePrefix: string;
  /** The node groups: add-ons run pods, so they are installed after the nodes. */
  readonly nodeGroups: EksNodeGroup[];
  /** Install metrics-server (resource metrics for HorizontalPodAutoscalers). @default true */
  readonly metricsServer?: boolean;
  /**
   * Install the CloudWatch observability add-on (Container Insights: node memory/CPU metrics),
   * with its own Pod Identity role (CloudWatchAgentServerPolicy only). @default true
   */
  readonly containerInsights?: boolean;
}

/**
 * Add-ons that run pods (ids `pod-identity-agent`, `metrics-server`, `cloudwatch-agent-role`,
 * `cloudwatch-agent-policy`, `cloudwatch-observability`). The Pod Identity agent is always
 * installed: the application's and the CloudWatch agent's roles depend on it.
 */
export class EksNodeAddons {
  readonly podIdentityAgent: EksAddon;

  constructor(scope: Construct, props: EksNodeAddonsProps) {
    this.podIdentityAgent = new EksAddon(scope, "pod-identity-agent", {
      clusterName: props.clusterName,
      addonName: "eks-pod-identity-agent",
      dependsOn: props.nodeGroups,
    });

    if (props.metricsServer ?? true) {
      new EksAddon(scope, "metrics-server", {
        clusterName: props.clusterName,
        addonName: "metrics-server",
        dependsOn: props.nodeGroups,
      });
    }

    if (props.containerInsights ?? true) {
      const agentRole = new PodIdentityRole(scope, {
        id: "cloudwatch-agent-role",
        name: `${props.namePrefix}-eks-cloudwatch-agent`,
      }).role;
      const agentPolicy = new IamRolePolicyAttachment(scope, "cloudwatch-agent-policy", {
        role: agentRole.name,
        policyArn: `${MANAGED}/CloudWatchAgentServerPolicy`,
      });
      new EksAddon(scope, "cloudwatch-observability", {
        clusterName: props.clusterName,
        addonName: "amazon-cloudwatch-observability",
        podIdentityAssociation: [{ roleArn: agentRole.arn, serviceAccount: "cloudwatch-agent" }],
        dependsOn: [this.podIdentityAgent, agentPolicy],
      });
    }
  }
}
