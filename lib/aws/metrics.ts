/**
 * The ALB metrics of both slots over a window, read with one GetMetricData call on the target-group
 * dimensions: request count, target 5xx and p99 target response time per slot, and the load
 * balancer's own 5xx (CloudWatch publishes those per load balancer only). Raw sums, no metric math,
 * so it works in every region and on the emulator. The release's MetricsReader port.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { SLOTS, type Slot } from "../config/primitives.ts";
import type { MetricsQuery, MetricsReader, SlotMetrics, WindowMetrics } from "../release/ports.ts";
import { awsClientConfig, type AwsClientOptions } from "./clients.ts";

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
