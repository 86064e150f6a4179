/**
 * Blue/green on EKS: every node group's Auto Scaling group is attached to both slots' target
 * groups (target type `instance`), each slot served on its own NodePort, which only the ALB's
 * security group may reach.
 *
 * Resources are created directly in the given scope (see lib/constructs/eks/iam.ts).
 */

import { AutoscalingAttachment } from "@cdktf/provider-aws/lib/autoscaling-attachment";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Construct } from "constructs";
import { SLOTS, type Slot } from "../../core/primitives.ts";
import { skipCheck } from "../../policy/checkov-skip.ts";

/**
 * NodePort of each slot's Service: the ALB target group of the slot forwards to this port on
 * every node (target type `instance`), kube-proxy forwards to the slot's pods.
 */
export const NODE_PORTS: Readonly<Record<Slot, number>> = { blue: 30080, green: 30081 };

export interface EksSlotRoutingProps {
  /** The node groups: short name (for the ids) and Auto Scaling group name of each, in order. */
  readonly nodeGroups: readonly { readonly name: string; readonly autoScalingGroupName: string }[];
  /** Target group of each slot. */
  readonly targetGroupArns: Record<Slot, string>;
  /** The cluster security group: the nodes' security group. */
  readonly clusterSecurityGroupId: string;
  /** Security group of the ALB: the only source allowed to the NodePorts. */
  readonly loadBalancerSecurityGroupId: string;
  /** NodePort of each slot. @default {@link NODE_PORTS} */
  readonly nodePorts?: Record<Slot, number>;
}

/** Per slot: one attachment per node group (ids `tg-<slot>-<group>`), then the NodePort rule (`nodeport-<slot>`). */
export class EksSlotRouting {
  constructor(scope: Construct, props: EksSlotRoutingProps) {
    const nodePorts = props.nodePorts ?? NODE_PORTS;
    for (const slot of SLOTS) {
      props.nodeGroups.forEach((g) => {
        skipCheck(
          new AutoscalingAttachment(scope, `tg-${slot}-${g.name}`, {
            autoscalingGroupName: g.autoScalingGroupName,
            lbTargetGroupArn: props.targetGroupArns[slot],
          }),
          "CKV2_AWS_15",
          "the Auto Scaling group belongs to the EKS managed node group: EKS replaces unhealthy " +
            "nodes, the target group's health check judges the pods behind each NodePort",
        );
      });
      new VpcSecurityGroupIngressRule(scope, `nodeport-${slot}`, {
        securityGroupId: props.clusterSecurityGroupId,
        description: `NodePort of the ${slot} slot from the ALB`,
        referencedSecurityGroupId: props.loadBalancerSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: nodePorts[slot],
        toPort: nodePorts[slot],
      });
    }
  }
}
