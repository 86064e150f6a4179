/**
 * Synthetic ALB metrics for the emulator: what CloudWatch would receive from the load balancer while
 * users hit the two slots. The demo and the end-to-end tests push them with PutMetricData on the real
 * dimensions of the deployed environment (its load balancer and target groups), so the rollout gate
 * reads them exactly as it reads AWS's.
 */
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsClientConfig } from "../aws/clients.ts";
import { AlbTraffic, arnSuffix } from "../aws/traffic.ts";
import { loadBalancerName, targetGroupName } from "../constructs/naming.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";

/** One slot's traffic in one tick. */
export interface SlotTraffic {
  readonly requests: number;
  /** Target 5xx among them. @default 0 */
  readonly errors?: number;
  /** Response time of every request that is not slow, seconds. @default 0.05 */
  readonly latencySeconds?: number;
  /** Requests among them answered slowly (in `slowSeconds`). @default 0 */
  readonly slow?: number;
  /** Response time of the slow requests, seconds. @default 2 */
  readonly slowSeconds?: number;
}

export type Traffic = Record<Slot, SlotTraffic> & {
  /** The load balancer's own 5xx. @default 0 */ readonly elb5xx?: number;
};

export class SyntheticAlbTraffic {
  private readonly cw: CloudWatchClient;
  private readonly elb: ElasticLoadBalancingV2Client;
  private dims?: { loadBalancer: string; targetGroups: Record<Slot, string> };

  private readonly alb: AlbTraffic;

  /** `account`: the environment's account on the emulator (default: the emulator's default account). */
  constructor(
    endpoint: string,
    private readonly env: string,
    region = "eu-west-1",
    account?: string,
  ) {
    const where = { region, endpoint, ...(account ? { emulatorAccount: account } : {}) };
    this.cw = new CloudWatchClient(awsClientConfig(where, 3));
    this.elb = new ElasticLoadBalancingV2Client(awsClientConfig(where, 3));
    this.alb = new AlbTraffic(this.elb, env);
  }

  private async dimensions() {
    if (this.dims) return this.dims;
    const lb = await this.elb.send(new DescribeLoadBalancersCommand({ Names: [loadBalancerName(this.env)] }));
    const tgs = await this.elb.send(
      new DescribeTargetGroupsCommand({ Names: SLOTS.map((s) => targetGroupName(this.env, s)) }),
    );
    const arn = (slot: Slot) =>
      tgs.TargetGroups!.find((t) => t.TargetGroupName === targetGroupName(this.env, slot))!.TargetGroupArn!;
    this.dims = {
      loadBalancer: arnSuffix(lb.LoadBalancers![0]!.LoadBalancerArn!),
      targetGroups: { blue: arnSuffix(arn("blue")), green: arnSuffix(arn("green")) },
    };
    return this.dims;
  }

  /** Pushes one tick of traffic, time-stamped `at`. A slot without requests publishes nothing (as the ALB). */
  async push(t: Traffic, at = new Date()): Promise<void> {
    const d = await this.dimensions();
    const datum = (
      name: string,
      dims: Record<string, string>,
      value: number | { values: number[]; counts: number[] },
      unit: "Count" | "Seconds",
    ): MetricDatum => ({
      MetricName: name,
      Dimensions: Object.entries(dims)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([Name, Value]) => ({ Name, Value })),
      Timestamp: at,
      Unit: unit,
      ...(typeof value === "number" ? { Value: value } : { Values: value.values, Counts: value.counts }),
    });
    const data: MetricDatum[] = [];
    for (const slot of SLOTS) {
      const s = t[slot];
      if (s.requests <= 0) continue;
      const tg = { LoadBalancer: d.loadBalancer, TargetGroup: d.targetGroups[slot] };
      data.push(datum("RequestCount", tg, s.requests, "Count"));
      if (s.errors) data.push(datum("HTTPCode_Target_5XX_Count", tg, s.errors, "Count"));
      // One response time per request, as the ALB publishes them: a value-count pair per speed.
      const slow = Math.min(s.slow ?? 0, s.requests);
      const latency =
        slow > 0
          ? { values: [s.latencySeconds ?? 0.05, s.slowSeconds ?? 2], counts: [s.requests - slow, slow] }
          : { values: [s.latencySeconds ?? 0.05], counts: [s.requests] };
      data.push(datum("TargetResponseTime", tg, latency, "Seconds"));
    }
    if (t.elb5xx) data.push(datum("HTTPCode_ELB_5XX_Count", { LoadBalancer: d.loadBalancer }, t.elb5xx, "Count"));
    if (data.length > 0)
      await this.cw.send(new PutMetricDataCommand({ Namespace: "AWS/ApplicationELB", MetricData: data }));
  }

  /**
   * Every `intervalMs` until stopped: reads the weights the ALB serves and pushes `traffic(weights)`,
   * as users would reach the slots. `stop()` resolves with the ticks that could not be pushed (an
   * unreachable CloudWatch) or read.
   */
  run(traffic: (weights: Record<Slot, number>) => Traffic, intervalMs = 1000): { stop(): Promise<number> } {
    let stopped = false;
    let failures = 0;
    const loop = (async () => {
      while (!stopped) {
        try {
          await this.push(traffic((await this.alb.read()).weights));
        } catch {
          failures++;
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
        return failures;
      },
    };
  }
}

/** A slot's share of `total` requests per tick under the given weights; `errorRate`/`slowRate` make that share of them 5xx/slow. */
export function split(
  total: number,
  weights: Record<Slot, number>,
  per: Partial<Record<Slot, Omit<SlotTraffic, "requests"> & { errorRate?: number; slowRate?: number }>> = {},
): Traffic {
  const slot = (s: Slot): SlotTraffic => {
    const requests = Math.round((total * weights[s]) / 100);
    const { errorRate, slowRate, ...rest } = per[s] ?? {};
    return {
      requests,
      ...(errorRate === undefined ? {} : { errors: Math.round(requests * errorRate) }),
      ...(slowRate === undefined ? {} : { slow: Math.round(requests * slowRate) }),
      ...rest,
    };
  };
  return { blue: slot("blue"), green: slot("green") };
}
