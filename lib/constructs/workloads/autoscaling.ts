import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { Construct } from "constructs";
import type { Slot } from "../../config/schema.ts";
import { slotSelector, slotWorkloadName } from "./names.ts";

export interface SlotAutoscalingProps {
  readonly namespace: string;
  readonly slot: Slot;
  /** HorizontalPodAutoscaler on average CPU (of the requests). @default none */
  readonly autoScaling?: {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly targetCpuPercent: number;
  };
  /** PodDisruptionBudget: pods of the slot a voluntary disruption may take at once. @default none */
  readonly maxUnavailable?: number;
  /** Labels of every object of the environment. @default none */
  readonly labels?: Record<string, string>;
}

/**
 * The slot's HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation) and PodDisruptionBudget.
 * An empty slot's Deployment has 0 replicas, which the autoscaler leaves alone.
 */
export class SlotAutoscaling extends Construct {
  readonly autoscaler?: HorizontalPodAutoscalerV2;
  readonly disruptionBudget?: PodDisruptionBudgetV1;

  constructor(scope: Construct, id: string, props: SlotAutoscalingProps) {
    super(scope, id);
    const name = slotWorkloadName(props.slot);
    const metadata = { name, namespace: props.namespace, labels: { ...props.labels, ...slotSelector(props.slot) } };
    if (props.autoScaling) {
      this.autoscaler = new HorizontalPodAutoscalerV2(this, "hpa", {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
          minReplicas: props.autoScaling.minReplicas,
          maxReplicas: props.autoScaling.maxReplicas,
          metric: [
            {
              type: "Resource",
              resource: {
                name: "cpu",
                target: { type: "Utilization", averageUtilization: props.autoScaling.targetCpuPercent },
              },
            },
          ],
        },
      });
    }
    if (props.maxUnavailable !== undefined) {
      this.disruptionBudget = new PodDisruptionBudgetV1(this, "pdb", {
        metadata,
        spec: { maxUnavailable: String(props.maxUnavailable), selector: { matchLabels: slotSelector(props.slot) } },
      });
    }
  }
}
