/**
 * The ALB metrics of both slots over a window, read with one GetMetricData call on the target-group
 * dimensions: request count, target 5xx and p99 target response time per slot, and the load
 * balancer's own 5xx (CloudWatch publishes those per load balancer only). Raw sums, no metric math,
 * so it works in every region and on the emulator.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { SLOTS, type Slot } from "../config/schema.ts";
import { awsClientConfig, type AwsClientOptions } from "./clients.ts";

export interface SlotMetrics {
  /** Sum of RequestCount over the window. */
  readonly requests: number;
  /** Sum of HTTPCode_Target_5XX_Count. */
  readonly target5xx: number;
  /** The worst p99 of TargetResponseTime among the window's periods, seconds; null without data. */
  readonly p99Seconds: number | null;
}

export interface WindowMetrics {
  readonly slots: Record<Slot, SlotMetrics>;
  /** Sum of HTTPCode_ELB_5XX_Count of the whole load balancer. */
  readonly elb5xx: number;
}

export interface MetricsQuery {
  /** `app/<name>/<id>`. */
  readonly loadBalancer: string;
  /** `targetgroup/<name>/<id>` per slot. */
  readonly targetGroups: Record<Slot, string>;
  readonly start: Date;
  readonly end: Date;
  /** Period of the data points, seconds. */
  readonly periodSeconds: number;
}

export interface MetricsReader {
  read(q: MetricsQuery): Promise<WindowMetrics>;
}

/** Minimal surface of the SDK client, so tests can inject one. */
export interface CloudWatchMetricsLike {
  send(command: GetMetricDataCommand): Promise<{ MetricDataResults?: { Id?: string; Values?: number[] }[]; NextToken?: string }>;
}

const NS = "AWS/ApplicationELB";

export class CloudWatchMetrics implements MetricsReader {
  constructor(private readonly client: CloudWatchMetricsLike) {}

  async read(q: MetricsQuery): Promise<WindowMetrics> {
    const metric = (id: string, name: string, stat: string, dims: Record<string, string>): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        // Sorted by name: CloudWatch ignores the order, moto does not (see README, emulator gaps).
        Metric: { Namespace: NS, MetricName: name, Dimensions: Object.entries(dims).sort(([a], [b]) => a.localeCompare(b)).map(([Name, Value]) => ({ Name, Value })) },
        Period: q.periodSeconds,
        Stat: stat,
      },
      ReturnData: true,
    });
    const lb = { LoadBalancer: q.loadBalancer };
    const queries: MetricDataQuery[] = [
      metric("elb5xx", "HTTPCode_ELB_5XX_Count", "Sum", lb),
      ...SLOTS.flatMap((s) => {
        const tg = { TargetGroup: q.targetGroups[s], LoadBalancer: q.loadBalancer };
        return [metric(`requests_${s}`, "RequestCount", "Sum", tg), metric(`target5xx_${s}`, "HTTPCode_Target_5XX_Count", "Sum", tg), metric(`p99_${s}`, "TargetResponseTime", "p99", tg)];
      }),
    ];
    const values = new Map<string, number[]>();
    let token: string | undefined;
    do {
      const out = await this.client.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: q.start, EndTime: q.end, NextToken: token, ScanBy: "TimestampAscending" }));
      for (const r of out.MetricDataResults ?? []) values.set(r.Id ?? "", [...(values.get(r.Id ?? "") ?? []), ...(r.Values ?? []).filter((v) => Number.isFinite(v))]);
      token = out.NextToken;
    } while (token);
    const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
    const max = (id: string) => ((values.get(id) ?? []).length ? Math.max(...values.get(id)!) : null);
    return {
      elb5xx: sum("elb5xx"),
      slots: Object.fromEntries(SLOTS.map((s) => [s, { requests: sum(`requests_${s}`), target5xx: sum(`target5xx_${s}`), p99Seconds: max(`p99_${s}`) }])) as Record<Slot, SlotMetrics>,
    };
  }
}

export function cloudWatchMetrics(o: AwsClientOptions): MetricsReader {
  return new CloudWatchMetrics(new CloudWatchClient(awsClientConfig(o)));
}
