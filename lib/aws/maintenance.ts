/**
 * Maintenance mode on the listener, directly (the release's MaintenanceSwitch port): the page and
 * its bypasses created as rules of the fast band (one API call each, seconds before the deploy of
 * the traffic stack converges), read back, and removed. The rules carry exactly what the traffic
 * stack's MaintenanceRouting construct configures, in the fast band's priorities.
 */
import {
  type Action,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
  type RuleCondition,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  loadBalancerName,
  MAINTENANCE_CONTENT_TYPE,
  MAINTENANCE_PRIORITIES,
  MAINTENANCE_STATUS_CODE,
  maintenancePriorities,
  slotOfTargetGroupArn,
  WEIGHTED_RULE_PRIORITY,
} from "../constructs/naming.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { Maintenance } from "../release/model/maintenance.ts";
import type { MaintenanceRules, MaintenanceSwitch } from "../release/ports/index.ts";
import { type BypassSecrets, bypassSecrets } from "./bypass-secret.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

/** Minimal surface of the SDK client, so tests can inject one. */
export interface ElbRulesLike {
  send(
    command:
      | DescribeLoadBalancersCommand
      | DescribeListenersCommand
      | DescribeRulesCommand
      | CreateRuleCommand
      | DeleteRuleCommand
      | ModifyRuleCommand,
    // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
  ): Promise<any>;
}

export class AlbMaintenance implements MaintenanceSwitch {
  constructor(
    private readonly client: ElbRulesLike,
    readonly env: string,
    private readonly secrets: BypassSecrets,
  ) {}

  /** The listener holding the weighted rule, and its rules. */
  private async listener(): Promise<{ listenerArn: string; rules: Rule[] }> {
    const name = loadBalancerName(this.env);
    const lbs = await this.client.send(new DescribeLoadBalancersCommand({ Names: [name] }));
    const lbArn = lbs.LoadBalancers?.[0]?.LoadBalancerArn as string | undefined;
    if (!lbArn) throw new Error(`no load balancer named ${name}`);
    const listeners = await this.client.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
    for (const l of listeners.Listeners ?? []) {
      const rules = ((await this.client.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules ??
        []) as Rule[];
      if (rules.some((r) => r.Priority === String(WEIGHTED_RULE_PRIORITY)))
        return { listenerArn: l.ListenerArn as string, rules };
    }
    throw new Error(
      `${name} has no weighted rule (priority ${WEIGHTED_RULE_PRIORITY}): is ${this.env}-traffic deployed?`,
    );
  }

  async read(): Promise<MaintenanceRules> {
    const { rules } = await this.listener();
    const ours = new Set(maintenancePriorities());
    const found = rules
      .filter((r) => ours.has(Number(r.Priority)))
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
    const page = found.find((r) => r.Actions?.some((a) => a.Type === "fixed-response"));
    const fixed = page?.Actions?.find((a) => a.Type === "fixed-response")?.FixedResponseConfig;
    return {
      priorities: found.map((r) => Number(r.Priority)),
      page:
        page && fixed
          ? { statusCode: fixed.StatusCode ?? "", body: fixed.MessageBody ?? "", priority: Number(page.Priority) }
          : null,
      weightedPriority: WEIGHTED_RULE_PRIORITY,
    };
  }

  async bypassVersion(secretId: string): Promise<string> {
    return (await this.secrets.read(secretId)).version;
  }

  /** The weighted rule's forward action: what every bypass forwards with. */
  private forwardOf(rules: readonly Rule[]): Action[] {
    const weighted = rules.find((r) => r.Priority === String(WEIGHTED_RULE_PRIORITY))!;
    const groups = weighted.Actions?.find((a) => a.Type === "forward")?.ForwardConfig?.TargetGroups ?? [];
    return [
      {
        Type: "forward",
        ForwardConfig: {
          TargetGroups: SLOTS.map((s: Slot) => {
            const g = groups.find((x) => slotOfTargetGroupArn(x.TargetGroupArn ?? "") === s);
            if (!g) throw new Error(`the weighted rule of ${this.env} does not forward to a ${s} target group`);
            return { TargetGroupArn: g.TargetGroupArn, Weight: g.Weight ?? 0 };
          }),
          TargetGroupStickinessConfig: { Enabled: false, DurationSeconds: 1 },
        },
      },
    ];
  }

  async on(m: Maintenance): Promise<void> {
    const { listenerArn, rules } = await this.listener();
    const forward = this.forwardOf(rules);
    // The value is read before anything is written: an unreadable secret changes nothing.
    const header = m.allowHeader
      ? await this.secrets.read(m.allowHeader.secret.id, m.allowHeader.secret.version)
      : null;
    // A page switched on again (new message or bypasses) replaces the fast band's rules.
    await this.deleteAt(rules, maintenancePriorities("fast"));
    const p = MAINTENANCE_PRIORITIES.fast;
    const create = (priority: number, conditions: RuleCondition[], actions: Action[], name: string) =>
      this.client.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: priority,
          Conditions: conditions,
          Actions: actions,
          Tags: [{ Key: "Name", Value: `${this.env}-${name}` }],
        }),
      );
    // Bypasses first: a tester never sees the page while it goes up.
    if (m.allowCidrs.length > 0)
      await create(
        p.cidr,
        [{ Field: "source-ip", SourceIpConfig: { Values: [...m.allowCidrs] } }],
        forward,
        "maintenance-fast-bypass-cidr",
      );
    if (m.allowHeader && header)
      await create(
        p.header,
        [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: m.allowHeader.name, Values: [header.value] } }],
        forward,
        "maintenance-fast-bypass-header",
      );
    await create(
      p.page,
      [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }],
      [
        {
          Type: "fixed-response",
          FixedResponseConfig: {
            StatusCode: MAINTENANCE_STATUS_CODE,
            ContentType: MAINTENANCE_CONTENT_TYPE,
            MessageBody: m.message,
          },
        },
      ],
      "maintenance-fast-page",
    );
  }

  async remove(which: "fast" | "all"): Promise<void> {
    const { rules } = await this.listener();
    // The page first: users are served again before the bypasses go. The header bypass lives in
    // the fast band for good (the traffic stack has none: its value must not reach Terraform).
    const band = (b: "fast" | "stack") => [
      MAINTENANCE_PRIORITIES[b].page,
      MAINTENANCE_PRIORITIES[b].header,
      MAINTENANCE_PRIORITIES[b].cidr,
    ];
    const f = MAINTENANCE_PRIORITIES.fast;
    await this.deleteAt(rules, which === "fast" ? [f.page, f.cidr] : [...band("fast"), ...band("stack")]);
  }

  async syncBypass(): Promise<boolean> {
    const { rules } = await this.listener();
    const rule = rules.find((r) => r.Priority === String(MAINTENANCE_PRIORITIES.fast.header));
    if (!rule?.RuleArn) return false;
    await this.client.send(new ModifyRuleCommand({ RuleArn: rule.RuleArn, Actions: this.forwardOf(rules) }));
    return true;
  }

  private async deleteAt(rules: readonly Rule[], priorities: readonly number[]): Promise<void> {
    for (const priority of priorities) {
      const rule = rules.find((r) => r.Priority === String(priority));
      if (rule?.RuleArn) await this.client.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
    }
  }
}

export function albMaintenance(env: string, o: AwsClientOptions): MaintenanceSwitch {
  return new AlbMaintenance(new ElasticLoadBalancingV2Client(awsClientConfig(o)), env, bypassSecrets(o));
}
