/**
 * The ALB metrics of both slots over a window, read with one GetMetricData call on the target-group
 * dimensions, per metric period: request count, target 5xx, requests slower than the latency limit
 * (the trimmed count `TC(<limit>:)` of TargetResponseTime: values above the limit), the requests per
 * response-time bucket of the query's edges (`TC(a:b)`), p50, p90 and p99 response time per slot, and
 * the load balancer's own 5xx (CloudWatch publishes those per load balancer only).
 * Raw statistics, no metric math. The release's MetricsReader port.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { MetricsQuery, MetricsReader, PeriodMetrics, SlotMetrics, WindowMetrics } from "../release/ports/index.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

/** Minimal surface of the SDK client, so tests can inject one. */
export interface CloudWatchMetricsLike {
  send(
    command: GetMetricDataCommand,
  ): Promise<{ MetricDataResults?: { Id?: string; Timestamps?: Date[]; Values?: number[] }[]; NextToken?: string }>;
}

const NS = "AWS/ApplicationELB";

export class CloudWatchMetrics implements MetricsReader {
  constructor(private readonly client: CloudWatchMetricsLike) {}

  async read(q: MetricsQuery): Promise<WindowMetrics> {
    const metric = (id: string, name: string, stat: string, dims: Record<string, string>): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        // Sorted by name: CloudWatch ignores the order, moto does not (docs/engine-and-emulator.md).
        Metric: {
          Namespace: NS,
          MetricName: name,
          Dimensions: Object.entries(dims)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([Name, Value]) => ({ Name, Value })),
        },
        Period: q.periodSeconds,
        Stat: stat,
      },
      ReturnData: true,
    });
    const lb = { LoadBalancer: q.loadBalancer };
    // The response-time buckets: TC(:e1), TC(e1:e2), …, TC(eK:) (lower bound exclusive, upper inclusive).
    const edges = q.latencyEdges ?? [];
    const buckets = edges.length
      ? [`:${edges[0]}`, ...edges.slice(1).map((e, j) => `${edges[j]}:${e}`), `${edges.at(-1)}:`]
      : [];
    const queries: MetricDataQuery[] = [
      metric("elb5xx", "HTTPCode_ELB_5XX_Count", "Sum", lb),
      ...SLOTS.flatMap((s) => {
        const tg = { TargetGroup: q.targetGroups[s], LoadBalancer: q.loadBalancer };
        return [
          metric(`requests_${s}`, "RequestCount", "Sum", tg),
          metric(`target5xx_${s}`, "HTTPCode_Target_5XX_Count", "Sum", tg),
          metric(`slow_${s}`, "TargetResponseTime", `TC(${q.slowSeconds}:)`, tg),
          metric(`p99_${s}`, "TargetResponseTime", "p99", tg),
          metric(`p50_${s}`, "TargetResponseTime", "p50", tg),
          metric(`p90_${s}`, "TargetResponseTime", "p90", tg),
          ...buckets.map((b, j) => metric(`latency_${s}_${j}`, "TargetResponseTime", `TC(${b})`, tg)),
        ];
      }),
    ];
    // id → period start (ms) → value
    const series = new Map<string, Map<number, number>>();
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: q.start,
          EndTime: q.end,
          NextToken: token,
          ScanBy: "TimestampAscending",
        }),
      );
      for (const r of out.MetricDataResults ?? []) {
        const m = series.get(r.Id ?? "") ?? new Map<number, number>();
        (r.Values ?? []).forEach((v, i) => {
          const at = r.Timestamps?.[i];
          if (Number.isFinite(v) && at) m.set(new Date(at).getTime(), v);
        });
        series.set(r.Id ?? "", m);
      }
      token = out.NextToken;
    } while (token);
    const at = (id: string, t: number) => series.get(id)?.get(t);
    const starts = [...new Set([...series.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const slotAt = (s: Slot, t: number): SlotMetrics => {
      const requests = at(`requests_${s}`, t) ?? 0;
      const slow = at(`slow_${s}`, t);
      return {
        requests,
        target5xx: at(`target5xx_${s}`, t) ?? 0,
        slow: slow ?? (requests > 0 ? null : 0),
        p99Seconds: at(`p99_${s}`, t) ?? null,
        p50Seconds: at(`p50_${s}`, t) ?? null,
        p90Seconds: at(`p90_${s}`, t) ?? null,
        latency: latencyAt(s, t),
      };
    };
    // A slot's buckets in a period: null when none was published (a bucket left out of a published set counts 0).
    const latencyAt = (s: Slot, t: number): number[] | null => {
      const counts = buckets.map((_, j) => at(`latency_${s}_${j}`, t));
      return counts.every((c) => c === undefined) ? null : counts.map((c) => c ?? 0);
    };
    const periods: PeriodMetrics[] = starts.map((t) => ({
      start: new Date(t),
      elb5xx: at("elb5xx", t) ?? 0,
      edges: buckets.length ? [...edges] : null,
      slots: Object.fromEntries(SLOTS.map((s) => [s, slotAt(s, t)])) as Record<Slot, SlotMetrics>,
    }));
    return {
      periods,
      elb5xx: periods.reduce((a, p) => a + p.elb5xx, 0),
      slots: Object.fromEntries(SLOTS.map((s) => [s, sumSlot(periods.map((p) => p.slots[s]))])) as Record<
        Slot,
        SlotMetrics
      >,
    };
  }
}

/** A slot's counts summed over periods; slow is null when any period lacked it, p99 the worst. */
export function sumSlot(ms: readonly SlotMetrics[]): SlotMetrics {
  const p99s = ms.map((m) => m.p99Seconds).filter((x): x is number => x !== null);
  return {
    requests: ms.reduce((a, m) => a + m.requests, 0),
    target5xx: ms.reduce((a, m) => a + m.target5xx, 0),
    slow: ms.some((m) => m.slow === null) ? null : ms.reduce((a, m) => a + (m.slow ?? 0), 0),
    p99Seconds: p99s.length ? Math.max(...p99s) : null,
  };
}

export function cloudWatchMetrics(o: AwsClientOptions): MetricsReader {
  return new CloudWatchMetrics(new CloudWatchClient(awsClientConfig(o)));
}
