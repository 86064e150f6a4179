/**
 * The load balancer's past traffic per hour, read with GetMetricData on its `LoadBalancer`
 * dimension: RequestCount and HTTPCode_Target_5XX_Count (Sum, 3600 s periods). The release's
 * TrafficHistory port, for the traffic plan (lib/release/rollout/plan.ts). Hours without requests
 * have no data point (the load balancer publishes none then) and are left out.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import type { HourlyTraffic, TrafficHistory, TrafficHistoryQuery } from "../release/ports/index.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";
import type { CloudWatchMetricsLike } from "./metrics.ts";

const NS = "AWS/ApplicationELB";
const PERIOD = 3600;

export class CloudWatchTrafficHistory implements TrafficHistory {
  constructor(private readonly client: CloudWatchMetricsLike) {}

  async read(q: TrafficHistoryQuery): Promise<readonly HourlyTraffic[]> {
    const metric = (id: string, name: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: NS, MetricName: name, Dimensions: [{ Name: "LoadBalancer", Value: q.loadBalancer }] },
        Period: PERIOD,
        Stat: "Sum",
      },
      ReturnData: true,
    });
    const series = new Map<string, Map<number, number>>([
      ["requests", new Map()],
      ["errors", new Map()],
    ]);
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: [metric("requests", "RequestCount"), metric("errors", "HTTPCode_Target_5XX_Count")],
          StartTime: q.start,
          EndTime: q.end,
          NextToken: token,
          ScanBy: "TimestampAscending",
        }),
      );
      for (const r of out.MetricDataResults ?? []) {
        const m = series.get(r.Id ?? "");
        if (!m) continue;
        (r.Values ?? []).forEach((v, i) => {
          const at = r.Timestamps?.[i];
          if (Number.isFinite(v) && at) m.set(new Date(at).getTime(), v);
        });
      }
      token = out.NextToken;
    } while (token);
    const requests = series.get("requests")!;
    const errors = series.get("errors")!;
    return [...requests.keys()]
      .sort((a, b) => a - b)
      .map((t) => ({ start: new Date(t), requests: requests.get(t)!, errors: errors.get(t) ?? 0 }));
  }
}

export function cloudWatchTrafficHistory(o: AwsClientOptions): TrafficHistory {
  return new CloudWatchTrafficHistory(new CloudWatchClient(awsClientConfig(o)));
}
