import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { Construct } from "constructs";
import { SLOTS, type Slot } from "../config/schema.ts";
import {
  MAINTENANCE_CONTENT_TYPE,
  MAINTENANCE_PRIORITIES,
  MAINTENANCE_STATUS_CODE,
  WEIGHTED_RULE_PRIORITY,
} from "./naming.ts";

export interface MaintenanceRoutingProps {
  /** Prefix of the rules' name tags, e.g. `dev`. */
  readonly namePrefix: string;
  /** Listener the rules are attached to (the weighted rule's). */
  readonly listenerArn: string;
  /** The page served with status 503 (text or HTML, at most 1024 characters: the ALB's limit). */
  readonly message: string;
  /** Target group of each slot: where the bypasses forward. */
  readonly targetGroupArns: Record<Slot, string>;
  /** The weights the bypasses forward with (the weighted rule's). */
  readonly weights: Record<Slot, number>;
  /** Source CIDRs that bypass the page (at most 5). @default [] (nobody bypasses by address) */
  readonly allowCidrs?: readonly string[];
  /** Paths served the page. @default ["/*"] (everything the weighted rule routes) */
  readonly pathPatterns?: string[];
  /** Priorities of the bypasses and the page. @default MAINTENANCE_PRIORITIES.stack (ahead of the weighted rule) */
  readonly priorities?: { readonly cidr: number; readonly header: number; readonly page: number };
}

/**
 * Maintenance mode of the traffic stack: a fixed-response 503 rule (the page) ahead of the weighted
 * rule, and before it the testers' CIDR bypass forwarding as the weighted rule does. Secure by
 * default: no bypass unless one is given; the page is served for every path. A bypass by header
 * is not here on purpose: its value is a secret, and whatever Terraform configures is in its plan
 * and state, so envctl writes that rule itself (lib/aws/maintenance.ts).
 */
export class MaintenanceRouting extends Construct {
  readonly page: LbListenerRule;
  readonly bypassCidr?: LbListenerRule;

  constructor(scope: Construct, id: string, props: MaintenanceRoutingProps) {
    super(scope, id);
    const p = props.priorities ?? MAINTENANCE_PRIORITIES.stack;
    if (!(p.cidr < p.page && p.header < p.page && p.page < WEIGHTED_RULE_PRIORITY)) {
      throw new Error(
        `maintenance priorities must put the bypasses before the page and the page before the weighted rule (${WEIGHTED_RULE_PRIORITY})`,
      );
    }
    if (props.message.length === 0 || props.message.length > 1024)
      throw new Error("the maintenance page must be 1-1024 characters (the ALB's limit for a fixed response)");
    const forward = [
      {
        type: "forward",
        forward: {
          targetGroup: SLOTS.map((slot) => ({ arn: props.targetGroupArns[slot], weight: props.weights[slot] })),
          stickiness: { enabled: false, duration: 1 },
        },
      },
    ];
    const cidrs = props.allowCidrs ?? [];
    if (cidrs.length > 0) {
      this.bypassCidr = new LbListenerRule(this, "bypass-cidr", {
        listenerArn: props.listenerArn,
        priority: p.cidr,
        condition: [{ sourceIp: { values: [...cidrs] } }],
        action: forward,
        tags: { Name: `${props.namePrefix}-maintenance-bypass-cidr` },
      });
    }
    this.page = new LbListenerRule(this, "page", {
      listenerArn: props.listenerArn,
      priority: p.page,
      condition: [{ pathPattern: { values: props.pathPatterns ?? ["/*"] } }],
      action: [
        {
          type: "fixed-response",
          fixedResponse: {
            statusCode: MAINTENANCE_STATUS_CODE,
            contentType: MAINTENANCE_CONTENT_TYPE,
            messageBody: props.message,
          },
        },
      ],
      tags: { Name: `${props.namePrefix}-maintenance-page` },
    });
  }
}
