/**
 * The response-time test, canary against stable, as pure functions: a conditional multinomial test.
 * Given how many requests of both slots fell in each response-time bucket of a period, under "the
 * canary is no slower" each request above an edge is the canary's with probability at most π (its
 * share of the requests timed), whatever the stable slot's distribution (Lindon & Malek 2022 condition
 * on the totals the same way). Per edge (counted from the highest) the canary's share of the requests
 * above it is tested as the error ratio is (./mixtures.ts), and the edges are mixed with equal
 * weights: a mixture of martingales of the same data is one, so Ville's inequality bounds the whole.
 * A shift from 200 to 800 ms under a 1 s limit moves most canary requests above every edge taken
 * from the stable slot's quantiles, and fails within minutes.
 */
import type { Tail } from "./inputs.ts";
import { addRatio, noRatioEvidence, type RatioEvidence, ratioLogEvidence } from "./mixtures.ts";

/** Edges tested, from the highest: more are ignored. */
export const LATENCY_EDGES = 4;

/** Per edge, from the highest: the ratio evidence of the canary's share above it. */
export type LatencyEvidence = readonly RatioEvidence[];

export const noLatencyEvidence = (): LatencyEvidence => Array.from({ length: LATENCY_EDGES }, noRatioEvidence);

export function addLatency(
  e: LatencyEvidence,
  tails: readonly { canary: number; stable: number; share: number }[],
): LatencyEvidence {
  if (tails.length === 0) return e;
  return e.map((x, k) => {
    const t = tails[k] as Tail | undefined;
    return t ? addRatio(x, t.share, t.canary, t.stable) : x;
  });
}

/** log of the mixture over edges (equal weights) of each edge's ratio test. */
export function latencyLogEvidence(e: LatencyEvidence, prior: readonly number[]): number {
  const logs = e.map((x) => ratioLogEvidence(x, prior));
  const m = Math.max(...logs);
  return m + Math.log(logs.reduce((a, l) => a + Math.exp(l - m), 0) / logs.length);
}
