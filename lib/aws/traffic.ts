/**
 * The weighted listener rule of an environment as the ALB serves it: found by name (`<env>-alb`,
 * the rule of priority {@link WEIGHTED_RULE_PRIORITY}), read back, written directly (one API call,
 * for fast mitigation), and the target health of each slot.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { loadBalancerName, slotOfTargetGroupArn, WEIGHTED_RULE_PRIORITY } from "../constructs/naming.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { Weights } from "../release/model/slots.ts";
import type { Traffic, WeightedRule } from "../release/ports/index.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

/** Minimal surface of the SDK client, so tests can inject one. */
export interface ElbLike {
  send(
    command:
      | DescribeLoadBalancersCommand
      | DescribeListenersCommand
      | DescribeRulesCommand
      | ModifyRuleCommand
      | DescribeTargetHealthCommand,
    // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
  ): Promise<any>;
}

export interface SlotHealth {
  readonly healthy: number;
  readonly unhealthy: number;
  /** Targets per state (`healthy`, `unhealthy`, `initial`, `draining`, `unused`, ...). */
  readonly states: Record<string, number>;
}

/** What the rollout controller and mitigation need from the ALB (the release's Traffic port), and `status --live` (target health). */
export interface TrafficApi extends Traffic {
  health(): Promise<Record<Slot, SlotHealth>>;
}

/** The CloudWatch dimension of an ARN: the release's own (its metrics queries name them). */
export { arnSuffix } from "../release/ports/index.ts";

export class AlbTraffic implements TrafficApi {
  private rule?: Omit<WeightedRule, "weights">;

  constructor(
    private readonly client: ElbLike,
    readonly env: string,
  ) {}

  async read(): Promise<WeightedRule> {
    if (this.rule) {
      const out = await this.client.send(new DescribeRulesCommand({ RuleArns: [this.rule.ruleArn] }));
      return { ...this.rule, weights: weightsOfRule(out.Rules?.[0], this.env) };
    }
    const name = loadBalancerName(this.env);
    const lbs = await this.client.send(new DescribeLoadBalancersCommand({ Names: [name] }));
    const loadBalancerArn = lbs.LoadBalancers?.[0]?.LoadBalancerArn as string | undefined;
    if (!loadBalancerArn) throw new Error(`no load balancer named ${name}`);
    const listeners = await this.client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
    for (const l of listeners.Listeners ?? []) {
      const rules = await this.client.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }));
      // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
      const rule = (rules.Rules ?? []).find((r: any) => r.Priority === String(WEIGHTED_RULE_PRIORITY));
      if (!rule) continue;
      const groups = forwardGroups(rule, this.env);
      const targetGroupArns = Object.fromEntries(groups.map((g) => [g.slot, g.arn])) as Record<Slot, string>;
      this.rule = { ruleArn: rule.RuleArn, loadBalancerArn, targetGroupArns };
      return { ...this.rule, weights: weightsOfRule(rule, this.env) };
    }
    throw new Error(
      `${name} has no weighted rule (priority ${WEIGHTED_RULE_PRIORITY}): is ${this.env}-traffic deployed?`,
    );
  }

  async write(weights: Weights): Promise<void> {
    const rule = this.rule ?? (await this.read());
    await this.client.send(
      new ModifyRuleCommand({
        RuleArn: rule.ruleArn,
        // Exactly what the traffic stack configures (lib/constructs/weighted-routing.ts), so the
        // engine's next plan of the stack finds nothing to change.
        Actions: [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: SLOTS.map((s) => ({ TargetGroupArn: rule.targetGroupArns[s], Weight: weights[s] })),
              TargetGroupStickinessConfig: { Enabled: false, DurationSeconds: 1 },
            },
          },
        ],
      }),
    );
  }

  async health(): Promise<Record<Slot, SlotHealth>> {
    const rule = this.rule ?? (await this.read());
    const entries = await Promise.all(
      SLOTS.map(async (slot) => {
        const out = await this.client.send(
          new DescribeTargetHealthCommand({ TargetGroupArn: rule.targetGroupArns[slot] }),
        );
        const states: Record<string, number> = {};
        for (const d of out.TargetHealthDescriptions ?? []) {
          const state = d.TargetHealth?.State ?? "unknown";
          states[state] = (states[state] ?? 0) + 1;
        }
        return [slot, { healthy: states.healthy ?? 0, unhealthy: states.unhealthy ?? 0, states }] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<Slot, SlotHealth>;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
function forwardGroups(rule: any, env: string): { slot: Slot; arn: string; weight: number }[] {
  // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
  const groups = (rule?.Actions ?? []).find((a: any) => a.Type === "forward")?.ForwardConfig?.TargetGroups ?? [];
  // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
  const out = groups.map((g: any) => ({
    slot: slotOfTargetGroupArn(g.TargetGroupArn ?? ""),
    arn: g.TargetGroupArn as string,
    weight: g.Weight ?? 0,
  }));
  for (const slot of SLOTS) {
    // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
    if (out.filter((g: any) => g.slot === slot).length !== 1)
      throw new Error(`the weighted rule of ${env} does not forward to exactly one ${slot} target group`);
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
function weightsOfRule(rule: any, env: string): Weights {
  const groups = forwardGroups(rule, env);
  return { blue: groups.find((g) => g.slot === "blue")!.weight, green: groups.find((g) => g.slot === "green")!.weight };
}

export function albTraffic(env: string, o: AwsClientOptions): TrafficApi {
  return new AlbTraffic(new ElasticLoadBalancingV2Client(awsClientConfig(o)), env);
}
