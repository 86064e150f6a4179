/** The emulator proxy's range statistics (TC, PR) that moto lacks, as CloudWatch defines them. */
import { describe, expect, it } from "vitest";
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
