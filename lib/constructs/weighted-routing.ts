import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { Construct } from "constructs";
import { SLOTS, type Slot } from "../config/schema.ts";

import { WEIGHTED_RULE_PRIORITY } from "./naming.ts";

export { WEIGHTED_RULE_PRIORITY };

export interface WeightedRoutingProps {
  /** Prefix of the rule's name tag, e.g. `dev`. */
  readonly namePrefix: string;
  /** Listener the rule is attached to. */
  readonly listenerArn: string;
  /** Target group of each slot. */
  readonly targetGroupArns: Record<Slot, string>;
  /** Traffic weight of each slot, integers summing to 100. */
  readonly weights: Record<Slot, number>;
  /** Path patterns routed by weight. @default ["/*"] */
  readonly pathPatterns?: string[];
}

/**
 * The one resource a traffic shift changes: a listener rule forwarding to both slots' target
 * groups with their weights.
 */
export class WeightedRouting extends Construct {
  readonly rule: LbListenerRule;

  constructor(scope: Construct, id: string, props: WeightedRoutingProps) {
    super(scope, id);
    this.rule = new LbListenerRule(this, "rule", {
      listenerArn: props.listenerArn,
      priority: WEIGHTED_RULE_PRIORITY,
      condition: [{ pathPattern: { values: props.pathPatterns ?? ["/*"] } }],
      action: [
        {
          type: "forward",
          forward: {
            targetGroup: SLOTS.map((slot) => ({ arn: props.targetGroupArns[slot], weight: props.weights[slot] })),
            stickiness: { enabled: false, duration: 1 },
          },
        },
      ],
      tags: { Name: `${props.namePrefix}-weighted` },
    });
  }
}
