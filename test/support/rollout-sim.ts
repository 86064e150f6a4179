/**
 * Seeded whole rollouts as series lines (lib/release/judge/replay.ts), for the judge's simulation
 * tests and `npm run bench:analysis`. Per line (one metric period, `dt` seconds) the load balancer
 * serves rps·dt requests, each to the canary with its step's weight (binomial split); each fails with
 * its slot's error rate; the load balancer adds its own 5xx at `elb` times the base rate over all
 * requests. Response times are log-normal (median 200 ms on the stable slot, σ 0.05), counted in
 * buckets with edges at the stable slot's p50, p90, p99 and the 1 s latency limit.
 */

import binomialBase from "@stdlib/random-base-binomial";
import mt19937 from "@stdlib/random-base-mt19937";
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import type { SeriesLine } from "../../lib/release/judge/replay.ts";
import type { JudgeSettings, StepContext } from "../../lib/release/judge/sequential.ts";

/** Production's canary (environments/production.ts) and its post-switch watch, as the judge sees them. */
export const PRODUCTION_STEPS: readonly StepContext[] = [
  { index: 0, percent: 10, bakeSeconds: 300, maxRatio: 5 },
  { index: 1, percent: 50, bakeSeconds: 600, maxRatio: 2 },
  { index: 2, percent: 100, bakeSeconds: 600, maxRatio: null },
  { index: "watch", percent: 100, bakeSeconds: 900, maxRatio: null },
];
export const productionStep = (i: number): StepContext => PRODUCTION_STEPS[i]!;

/** Production's analysis policy as the judge takes it (minSuccessRatePercent 99, the defaults otherwise). */
export const PRODUCTION_SETTINGS: JudgeSettings = {
  falseRollbackPercent: 1,
  detect: 2,
  powerPercent: 95,
  minSuccessRatePercent: 99,
  errorRateFloorPercent: 0.1,
  warmupSeconds: 60,
  enforce: { errors: true, latency: true, evidence: true },
};

export interface Cell {
  readonly name: string;
  readonly rps: number;
  /** The stable slot's error rate (a fraction). */
  readonly base: number;
  /** The canary's error rate over the stable's. @default 1 */
  readonly ratio?: number;
  /** The load balancer's own 5xx, as a multiple of the base rate over all requests. @default 0 */
  readonly elb?: number;
  /** The canary's response times over the stable's (a shift of the whole distribution). @default 1 */
  readonly latency?: number;
  /** The first 60 s of each step: the canary's errors ×3 and response times ×2 (cold caches). */
  readonly cold?: boolean;
  /** One period (at a random line) with both slots' error rates ×20 (a shared dependency's outage). */
  readonly burst?: boolean;
  /** The stable slot's 5xx of each period arrive on the next line (a series published late). */
  readonly late?: boolean;
}

const SIGMA = 0.05;
const MEDIAN = 0.2;
/** Bucket edges: the stable slot's p50, p90, p99, and the latency limit. */
export const EDGES = [MEDIAN, MEDIAN * Math.exp(SIGMA * 1.2816), MEDIAN * Math.exp(SIGMA * 2.3263), 1].map((e) =>
  Number(e.toFixed(4)),
);

export function generator(seed: number) {
  const prng = mt19937.factory({ seed });
  const uniform = (prng as unknown as { normalized: () => number }).normalized;
  const binomial = binomialBase.factory({ prng: uniform });
  /** A binomial draw (by inversion below n·p = 10: stdlib sums Bernoulli draws there, too slow). */
  const draw = (n: number, p: number): number => {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n * p >= 10 && n * (1 - p) >= 10) return binomial(n, p);
    if (p > 0.5) return n - draw(n, 1 - p);
    const q = 1 - p;
    let f = q ** n;
    let u = uniform();
    let k = 0;
    while (u > f && k < n) {
      u -= f;
      k++;
      f *= ((n - k + 1) / k) * (p / q);
    }
    return k;
  };
  /** Requests per bucket (EDGES) of n requests whose response times are the stable's times `factor`. */
  const buckets = (n: number, factor: number): number[] => {
    const cdf = EDGES.map((e) => normalCdf(Math.log(e / (MEDIAN * factor)) / SIGMA, 0, 1));
    const out: number[] = [];
    let left = n;
    let below = 0;
    for (const c of cdf) {
      const k = draw(left, below >= 1 ? 0 : Math.max(0, (c - below) / (1 - below)));
      out.push(k);
      left -= k;
      below = c;
    }
    out.push(left);
    return out;
  };
  const slot = (n: number, rate: number, factor: number) => {
    const latency = buckets(n, factor);
    return { requests: n, errors: draw(n, Math.min(1, rate)), slow: latency.at(-1)!, latency };
  };

  /** One rollout of `steps` (the watch included), one line per `dt` seconds. */
  function rollout(run: string, cell: Cell, steps: readonly StepContext[] = PRODUCTION_STEPS, dt = 60): SeriesLine[] {
    const lines: SeriesLine[] = [];
    const total = steps.reduce((a, s) => a + Math.floor(s.bakeSeconds / dt), 0);
    const burstAt = cell.burst ? Math.floor(uniform() * total) : -1;
    let carry = 0;
    steps.forEach((s, k) => {
      for (let t = dt; t <= s.bakeSeconds; t += dt) {
        const cold = cell.cold && t <= 60;
        const burst = lines.length === burstAt ? 20 : 1;
        const n = Math.round(cell.rps * dt);
        const nc = s.percent >= 100 ? n : draw(n, s.percent / 100);
        const canary = slot(
          nc,
          cell.base * (cell.ratio ?? 1) * (cold ? 3 : 1) * burst,
          (cell.latency ?? 1) * (cold ? 2 : 1),
        );
        const stable = slot(n - nc, cell.base * burst, 1);
        if (cell.late) {
          const late = stable.errors;
          stable.errors = Math.min(stable.requests, carry);
          carry = late;
        }
        lines.push({
          run,
          step: k,
          t,
          canary,
          stable,
          lb: { errors: draw(n, cell.base * (cell.elb ?? 0)) },
          buckets: [...EDGES],
        });
      }
    });
    return lines;
  }
  return { rollout, draw, uniform, buckets };
}
