/**
 * A judged period's counts, checked and attributed before any test sees them, as a pure function:
 *
 * - **The load balancer's own 5xx** (CloudWatch publishes them per load balancer only) are
 *   attributed to the slots by their share of the period's requests. In the ratio test the
 *   attributed part multiplies each alternative's likelihood ratio by exp(−L·KL(π‖π_a)) ≤ 1, and in
 *   the limit test it is the conditional mean of the canary's true part (smaller in convex order):
 *   either way the evidence can only shrink, so the false-rollback bound holds at any rate of them.
 * - **Counts that cannot be true** (5xx or slow requests above the requests, response times counted
 *   for more requests than served) leave the period out; the judge shows it and fails closed only
 *   when it persists.
 * - **A failure common to both slots**: when the stable slot breaches the same absolute limit in the
 *   period (its count 3 standard deviations above the limit's), the period does not count against
 *   the canary's limit; the decision reads the stable slot only, so the canary's test stays valid.
 * - **Response-time tails**: per bucket edge, from the highest, the requests of each slot above it
 *   (from the `latency` buckets, or the slow counts as one edge at the latency limit).
 */

/** One slot's counts in one period. `slow` is null where no slow-request count was read. */
export interface SlotCounts {
  readonly requests: number;
  readonly errors: number;
  readonly slow: number | null;
  /** Requests per response-time bucket (one more than the period's edges), or null. */
  readonly latency?: readonly number[] | null;
}

/** What both slots and the load balancer served in one period, `t` seconds after the step began (at its end). */
export interface Period {
  readonly t: number;
  readonly canary: SlotCounts;
  readonly stable: SlotCounts;
  /** HTTPCode_ELB_5XX_Count: the load balancer's own 5xx, both slots together. */
  readonly lbErrors: number;
  /** Edges of the response-time buckets, seconds, increasing; null without buckets. */
  readonly edges?: readonly number[] | null;
}

/** Something the inputs showed, kept with the evidence and shown. */
export interface PeriodNote {
  readonly kind: "inconsistent" | "common-failure" | "slow-missing" | "late-data";
  readonly step?: number | "watch";
  readonly t?: number;
  readonly text: string;
}

/** Requests above one edge: the canary's, the stable slot's, and the canary's share of the requests timed. */
export interface Tail {
  readonly canary: number;
  readonly stable: number;
  readonly share: number;
}

export interface Classified {
  readonly inconsistent: boolean;
  /** The canary's share of the period's requests; null unless both slots served some. */
  readonly share: number | null;
  /** 5xx with the load balancer's attributed by request share (fractional). */
  readonly canaryErrors: number;
  readonly stableErrors: number;
  readonly errorsCommon: boolean;
  readonly slowCommon: boolean;
  readonly slowMissing: boolean;
  /** Per edge, highest first. */
  readonly tails: readonly Tail[];
  readonly notes: readonly PeriodNote[];
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The stable slot's count is 3 standard deviations above what the limit allows. */
const breaches = (failures: number, requests: number, limit: number) =>
  requests > 0 && failures > limit * requests + 3 * Math.sqrt(limit * (1 - limit) * requests);

function impossible(name: string, c: SlotCounts): string[] {
  const out: string[] = [];
  if (c.errors > c.requests) out.push(`${name} ${c.errors} 5xx of ${c.requests} requests`);
  if (c.slow !== null && c.slow > c.requests) out.push(`${name} ${c.slow} slow of ${c.requests} requests`);
  if (c.latency && sum(c.latency) > c.requests)
    out.push(`${name} ${sum(c.latency)} response times of ${c.requests} requests`);
  return out;
}

function tails(p: Period): Tail[] {
  const c = p.canary.latency;
  const s = p.stable.latency;
  if (p.edges && c && s && c.length === p.edges.length + 1 && s.length === c.length) {
    const timed = sum(c) + sum(s);
    if (timed <= 0 || sum(c) === 0 || sum(s) === 0) return [];
    const share = sum(c) / timed;
    const out: Tail[] = [];
    let above = { canary: 0, stable: 0 };
    for (let j = c.length - 1; j >= 1; j--) {
      above = { canary: above.canary + c[j]!, stable: above.stable + s[j]! };
      out.push({ ...above, share });
    }
    return out;
  }
  if (p.canary.slow === null || p.stable.slow === null || p.canary.requests === 0 || p.stable.requests === 0) return [];
  return [
    {
      canary: p.canary.slow,
      stable: p.stable.slow,
      share: p.canary.requests / (p.canary.requests + p.stable.requests),
    },
  ];
}

/** The slots' slow counts from their buckets where none was read and the latency limit is one of the edges. */
export function withSlowFromBuckets(p: Period, limit: number | undefined): Period {
  const edges = p.edges;
  const k = limit === undefined || !edges ? -1 : edges.findIndex((e) => Math.abs(e - limit) < 1e-9);
  if (k < 0 || !edges) return p;
  const slot = (c: SlotCounts): SlotCounts =>
    c.slow !== null || !c.latency || c.latency.length !== edges.length + 1
      ? c
      : { ...c, slow: sum(c.latency.slice(k + 1)) };
  return { ...p, canary: slot(p.canary), stable: slot(p.stable) };
}

export function classify(p: Period, errorLimit: number, slowLimit: number): Classified {
  const bad = [...impossible("canary", p.canary), ...impossible("stable", p.stable)];
  const nc = p.canary.requests;
  const ns = p.stable.requests;
  if (bad.length > 0) {
    return {
      inconsistent: true,
      share: null,
      canaryErrors: 0,
      stableErrors: 0,
      errorsCommon: false,
      slowCommon: false,
      slowMissing: false,
      tails: [],
      notes: [{ kind: "inconsistent", text: `inconsistent data: ${bad.join(", ")}; the period is left out` }],
    };
  }
  const share = nc > 0 && ns > 0 ? nc / (nc + ns) : null;
  const canaryPart = nc + ns > 0 ? nc / (nc + ns) : 0;
  const canaryErrors = p.canary.errors + p.lbErrors * canaryPart;
  const stableErrors = p.stable.errors + p.lbErrors * (nc + ns > 0 ? 1 - canaryPart : 0);
  const errorsCommon = breaches(stableErrors, ns, errorLimit);
  const slowCommon = p.stable.slow !== null && breaches(p.stable.slow, ns, slowLimit);
  const slowMissing = nc > 0 && p.canary.slow === null;
  const pct = (x: number, n: number) => `${Number(((100 * x) / n).toPrecision(3))} %`;
  const notes: PeriodNote[] = [];
  if (errorsCommon)
    notes.push({
      kind: "common-failure",
      text:
        `a failure common to both slots: the stable slot's 5xx ${pct(stableErrors, ns)} ` +
        `(canary ${nc > 0 ? pct(canaryErrors, nc) : "–"}) breach the ${pct(errorLimit, 1)} limit too; not counted against the canary`,
    });
  if (slowCommon)
    notes.push({
      kind: "common-failure",
      text: `a failure common to both slots: ${pct(p.stable.slow!, ns)} of the stable slot's requests are slow too; not counted against the canary`,
    });
  if (slowMissing) notes.push({ kind: "slow-missing", text: "no slow-request count for the canary in this period" });
  return {
    inconsistent: false,
    share,
    canaryErrors,
    stableErrors,
    errorsCommon,
    slowCommon,
    slowMissing,
    tails: tails(p),
    notes,
  };
}
