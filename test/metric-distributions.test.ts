/** The emulator proxy's range statistics (TC, PR) that moto lacks, as CloudWatch defines them. */

import type { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { describe, expect, it } from "vitest";
import { CloudWatchMetrics } from "../lib/aws/metrics.ts";
import { isRangeStat, MetricDistributions, summarised } from "../lib/engine/metric-distributions.ts";

const dims = [
  { Name: "TargetGroup", Value: "targetgroup/dev-app-green/1" },
  { Name: "LoadBalancer", Value: "app/dev/1" },
];
const query = (Stat: string, Dimensions = dims) => ({
  Id: "q",
  MetricStat: {
    Metric: { Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", Dimensions },
    Period: 60,
    Stat,
  },
});

describe("MetricDistributions", () => {
  const store = new MetricDistributions();
  // Period [0, 60): 90 fast (0.05 s), 8 at exactly 1 s, 2 slow (1.5 s); period [60, 120): 1 slow.
  store.record({
    Namespace: "AWS/ApplicationELB",
    MetricData: [
      { MetricName: "TargetResponseTime", Dimensions: dims, Timestamp: 10, Values: [0.05, 1, 1.5], Counts: [90, 8, 2] },
    ],
  });
  store.record({
    Namespace: "AWS/ApplicationELB",
    MetricData: [{ MetricName: "TargetResponseTime", Dimensions: [...dims].reverse(), Timestamp: 70, Value: 2 }],
  });

  it("TC(x:) counts the values above x (lower bound exclusive), per period, whatever the dimension order", () => {
    expect(store.answer(query("TC(1:)"), 0, 180)).toEqual({
      Id: "q",
      Label: "TargetResponseTime",
      Timestamps: [0, 60],
      Values: [2, 1],
      StatusCode: "Complete",
    });
  });

  it("the judge's response-time buckets TC(:a), TC(a:b), TC(b:) split every value once; p50 and p90 are answered", () => {
    const buckets = ["TC(:0.05)", "TC(0.05:1)", "TC(1:)"].map((b) => store.answer(query(b), 0, 60)!.Values[0]);
    expect(buckets).toEqual([90, 8, 2]);
    expect(store.answer(query("p50"), 0, 60)!.Values).toEqual([0.05]);
    expect(store.answer(query("p90"), 0, 60)!.Values).toEqual([0.05]);
  });

  it("TC(:x) and PR(:x) include the upper bound", () => {
    expect(store.answer(query("TC(:1)"), 0, 60)!.Values).toEqual([98]);
    expect(store.answer(query("PR(:1)"), 0, 60)!.Values).toEqual([98]);
    expect(store.answer(query("PR(0.5:1.5)"), 0, 60)!.Values).toEqual([10]);
  });

  it("the nearest-rank percentile of the pushed values (moto keeps only their summary)", () => {
    expect(store.answer(query("p90"), 0, 60)!.Values).toEqual([0.05]);
    expect(store.answer(query("p95"), 0, 60)!.Values).toEqual([1]);
    expect(store.answer(query("p99"), 0, 60)!.Values).toEqual([1.5]);
  });

  it("answers only absolute-bound range statistics and percentiles; other metrics have no data", () => {
    expect(isRangeStat("TC(1:)")).toBe(true);
    expect(isRangeStat("p99")).toBe(true);
    expect(isRangeStat("Sum")).toBe(false);
    expect(isRangeStat("TC(10%:90%)")).toBe(false);
    expect(store.answer(query("Sum"), 0, 60)).toBeNull();
    expect(store.answer(query("TC(1:)", [dims[0]!]), 0, 180)!.Values).toEqual([]);
  });
});

describe("summarised", () => {
  it("gives moto a value list's summary statistics instead of one value per count", () => {
    const [d] = summarised([
      { MetricName: "TargetResponseTime", Values: [0.05, 2], Counts: [98, 2], Unit: "Seconds" },
    ])!;
    expect(d).toEqual({
      MetricName: "TargetResponseTime",
      Unit: "Seconds",
      StatisticValues: { SampleCount: 100, Sum: 98 * 0.05 + 4, Minimum: 0.05, Maximum: 2 },
    });
    const plain = { MetricName: "RequestCount", Value: 7 };
    expect(summarised([plain])![0]).toBe(plain);
  });
});

describe("the CloudWatch reader's response-time buckets", () => {
  it("asks TC(:e1), TC(e1:e2), TC(e2:) per slot for the query's edges and returns them per period with the edges", async () => {
    const asked: string[] = [];
    const client = {
      send: async (c: GetMetricDataCommand) => {
        const queries = c.input.MetricDataQueries ?? [];
        for (const q of queries) asked.push(`${q.Id} ${q.MetricStat?.Stat}`);
        const value = (id: string) =>
          id.startsWith("latency_green_") ? [5, 3, 2][Number(id.at(-1))]! : id.startsWith("requests_") ? 10 : 0;
        return {
          MetricDataResults: queries
            .filter((q) => !q.Id!.startsWith("latency_blue"))
            .map((q) => ({ Id: q.Id, Timestamps: [new Date(0)], Values: [value(q.Id!)] })),
        };
      },
    };
    const w = await new CloudWatchMetrics(client).read({
      loadBalancer: "app/x/1",
      targetGroups: { blue: "targetgroup/b/1", green: "targetgroup/g/1" },
      start: new Date(0),
      end: new Date(60_000),
      periodSeconds: 60,
      slowSeconds: 1,
      latencyEdges: [0.2, 1],
    });
    expect(asked.filter((a) => a.startsWith("latency_green"))).toEqual([
      "latency_green_0 TC(:0.2)",
      "latency_green_1 TC(0.2:1)",
      "latency_green_2 TC(1:)",
    ]);
    expect(asked).toContain("p50_green p50");
    expect(w.periods[0]!.edges).toEqual([0.2, 1]);
    expect(w.periods[0]!.slots.green.latency).toEqual([5, 3, 2]);
    // a slot none of whose buckets was published has none (the judge leaves its response times out)
    expect(w.periods[0]!.slots.blue.latency).toBeNull();
  });
});
