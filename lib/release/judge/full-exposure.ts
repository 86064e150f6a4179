/**
 * The limit tests without stable traffic (100 %, the post-switch watch), as pure functions.
 */
import { type LimitMixture, limitLogRatios, pairMinimum } from "./mixtures.ts";

/**
 * A limit test's evidence from periods without stable traffic: per alternative, the sum over pairs
 * of consecutive periods of the smaller log-likelihood ratio of the two (./mixtures.ts pairMinimum),
 * and the first period of a pair still open. A breach must last two periods to count: at 100 % no
 * stable slot is left to tell an outage of both from the canary's.
 */
export interface FullExposure {
  readonly evidence: readonly number[] | null;
  readonly open: readonly number[] | null;
  /** The counts of these periods, and of the worst of them (the highest failure rate). */
  readonly failures: number;
  readonly requests: number;
  readonly worst: { readonly failures: number; readonly requests: number };
}
export const NO_FULL: FullExposure = {
  evidence: null,
  open: null,
  failures: 0,
  requests: 0,
  worst: { failures: 0, requests: 0 },
};

export function addFull(f: FullExposure, m: LimitMixture, failures: number, requests: number): FullExposure {
  if (requests <= 0) return f;
  const ll = limitLogRatios(m, failures, requests);
  const worse = failures * f.worst.requests > f.worst.failures * requests || f.worst.requests === 0;
  const counts = {
    failures: f.failures + failures,
    requests: f.requests + requests,
    worst: worse ? { failures, requests } : f.worst,
  };
  if (f.open === null) return { ...f, ...counts, open: ll };
  const pair = pairMinimum(f.open, ll);
  return { ...counts, evidence: f.evidence ? f.evidence.map((x, i) => x + pair[i]!) : pair, open: null };
}
