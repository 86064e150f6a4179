/**
 * The distribution statistics moto lacks, computed by the emulator proxy from the values pushed to
 * it: CloudWatch's trimmed count `TC(lo:hi)` and percentile rank `PR(lo:hi)` with absolute bounds
 * (the lower bound exclusive, the upper inclusive, either may be left out), over each period of a
 * GetMetricData query. moto answers every other statistic; these two it returns no value for, so
 * the canary judge's slow-request counts (`TC(<latency limit>:)` of `TargetResponseTime`) would
 * read as missing on the emulator. Percentage bounds (`TC(10%:90%)`) are not computed (no value).
 */

/** One PutMetricData datum as the JSON protocol carries it (what the store reads of it). */
interface PushedDatum {
  MetricName?: string;
  Dimensions?: { Name?: string; Value?: string }[];
  Timestamp?: number;
  Value?: number;
  Values?: number[];
  Counts?: number[];
}

interface Stored {
  readonly key: string;
  readonly at: number;
  readonly values: readonly number[];
  readonly counts: readonly number[];
}

const RANGE_STAT = /^(TC|PR)\(\s*([0-9.eE+-]*)\s*:\s*([0-9.eE+-]*)\s*\)$/i;
const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?)$/;

const keyOf = (namespace: string, name: string, dims: readonly { Name?: string; Value?: string }[]) =>
  JSON.stringify([namespace, name, [...dims].map((d) => [d.Name ?? "", d.Value ?? ""]).sort()]);

/** True for a statistic this store answers: absolute-bound TC or PR (moto fails on them with HTTP 500), or a
 * percentile pNN (moto gets no raw values to take one from). */
export function isRangeStat(stat: string): boolean {
  return RANGE_STAT.test(stat) || PERCENTILE.test(stat);
}

export class MetricDistributions {
  private readonly data: Stored[] = [];

  /** Keeps the values of a PutMetricData input (JSON form). */
  record(input: { Namespace?: string; MetricData?: PushedDatum[] }, now = Date.now() / 1000): void {
    for (const d of input.MetricData ?? []) {
      const values = d.Values ?? (d.Value !== undefined ? [d.Value] : []);
      if (values.length === 0) continue;
      const counts = d.Counts && d.Counts.length === values.length ? d.Counts : values.map(() => 1);
      this.data.push({
        key: keyOf(input.Namespace ?? "", d.MetricName ?? "", d.Dimensions ?? []),
        at: d.Timestamp ?? now,
        values,
        counts,
      });
    }
  }

  /**
   * One GetMetricData MetricStat query (JSON form) over [start, end): a result per period that has
   * values, periods aligned on `start` as moto aligns them; null when the statistic is not a range
   * statistic this store computes.
   */
  answer(
    q: {
      Id: string;
      Label?: string;
      MetricStat: {
        Metric: { Namespace?: string; MetricName?: string; Dimensions?: { Name?: string; Value?: string }[] };
        Period: number;
        Stat: string;
      };
    },
    start: number,
    end: number,
  ): { Id: string; Label: string; Timestamps: number[]; Values: number[]; StatusCode: "Complete" } | null {
    const m = RANGE_STAT.exec(q.MetricStat.Stat);
    const pct = PERCENTILE.exec(q.MetricStat.Stat);
    if (!m && !pct) return null;
    const lo = !m || m[2] === "" ? -Infinity : Number(m[2]);
    const hi = !m || m[3] === "" ? Infinity : Number(m[3]);
    const key = keyOf(
      q.MetricStat.Metric.Namespace ?? "",
      q.MetricStat.Metric.MetricName ?? "",
      q.MetricStat.Metric.Dimensions ?? [],
    );
    const period = q.MetricStat.Period;
    const buckets = new Map<number, { inRange: number; total: number; values: [number, number][] }>();
    for (const s of this.data) {
      if (s.key !== key || s.at < start || s.at >= end) continue;
      const bucket = start + Math.floor((s.at - start) / period) * period;
      const b = buckets.get(bucket) ?? { inRange: 0, total: 0, values: [] };
      s.values.forEach((v, i) => {
        const c = s.counts[i]!;
        b.total += c;
        b.values.push([v, c]);
        if (v > lo && v <= hi) b.inRange += c;
      });
      buckets.set(bucket, b);
    }
    const times = [...buckets.keys()].sort((a, b) => a - b);
    const value = (b: { inRange: number; total: number; values: [number, number][] }) => {
      if (pct) return percentile(b.values, Number(pct[1]), b.total);
      return m![1]!.toUpperCase() === "PR" ? (100 * b.inRange) / b.total : b.inRange;
    };
    return {
      Id: q.Id,
      Label: q.Label ?? q.MetricStat.Metric.MetricName ?? q.Id,
      Timestamps: times,
      Values: times.map((t) => value(buckets.get(t)!)),
      StatusCode: "Complete",
    };
  }
}

/** The value at rank ⌈q % of the count⌉ of value-count pairs (the nearest-rank percentile). */
function percentile(pairs: [number, number][], q: number, total: number): number {
  const rank = Math.max(1, Math.ceil((q / 100) * total));
  let seen = 0;
  for (const [v, c] of [...pairs].sort((a, b) => a[0] - b[0])) {
    seen += c;
    if (seen >= rank) return v;
  }
  return pairs.length ? Math.max(...pairs.map((p) => p[0])) : NaN;
}

export type Datum = { Values?: number[]; Counts?: number[]; StatisticValues?: unknown } & Record<string, unknown>;

/** Datums with a list of values, as StatisticValues (SampleCount, Sum, Minimum, Maximum): what CloudWatch keeps of them besides percentiles. */
export function summarised(data: Datum[] | undefined): Datum[] | undefined {
  return data?.map((d) => {
    if (!d.Values?.length) return d;
    const { Values: values, Counts: counts, ...rest } = d;
    const c = (i: number) => counts?.[i] ?? 1;
    return {
      ...rest,
      StatisticValues: {
        SampleCount: values.reduce((a, _v, i) => a + c(i), 0),
        Sum: values.reduce((a, v, i) => a + v * c(i), 0),
        Minimum: Math.min(...values),
        Maximum: Math.max(...values),
      },
    };
  });
}
