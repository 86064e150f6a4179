/**
 * Dense mixtures and anytime-valid confidence bounds for the canary judge, as pure functions.
 *
 * - **Ratio of error rates** θ (the canary's rate over the stable slot's). In one judged period the
 *   canary served a share π of the requests; of the failures E of both slots, the canary's share is
 *   binomial with probability π(θ) = θπ / (θπ + 1 − π). Each alternative θ_a of a dense grid keeps
 *   its cumulative log-likelihood ratio against θ = 1 (the {@link RatioEvidence}); π may change from
 *   one period to the next (the weights of the steps), the evidence goes on.
 * - **The test** "the canary is no worse" (θ ≤ 1) is the mixture of the alternatives above 1 with
 *   the prior {@link ratioPrior} (half around `detect`, half spread over every θ > 1): a nonnegative
 *   supermartingale under the null, so by Ville's inequality it reaches 1/α with probability at most
 *   α over the whole rollout. The grid is dense from 1.01 up, so any regression is caught eventually.
 * - **The upper confidence bound** on θ: the largest θ_u that the test of "θ ≥ θ_u" against the
 *   alternatives below it (weights ∝ θ_a/θ_u) has not rejected at level α_u, one grid point up. It
 *   holds at every look at once with probability 1 − α_u (a confidence sequence; Howard et al. 2021).
 * - **Rates against a limit** (the canary's error or slow share against an absolute limit): the
 *   binomial likelihood ratio depends on the cumulative counts only, so both the test and the upper
 *   bound of the rate are functions of (failures, requests).
 */

/** log θ from log(1/20) to log(200) in steps of 0.05: the alternatives of the ratio tests and bounds. */
const STEP = 0.05;
export const LOG_THETA: readonly number[] = Array.from(
  { length: Math.round((Math.log(200) - Math.log(1 / 20)) / STEP) + 1 },
  (_, i) => Math.log(1 / 20) + i * STEP,
);
export const THETA: readonly number[] = LOG_THETA.map(Math.exp);
/** Index of the first alternative above 1 (θ ≥ 1.01). */
export const FIRST_ABOVE_ONE = LOG_THETA.findIndex((v) => v > 0.009);

/** log of Σ exp(v_i), computed without overflow. */
export function logSumExp(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
}

/**
 * The prior of the ratio test over the alternatives above 1 (log weights, summing to 1): half a
 * normal in log θ around `detect` (sd 0.5), half an exponential in log θ (mean 1), so small
 * regressions have weight too.
 */
export function ratioPrior(detect: number): number[] {
  const mu = Math.log(detect);
  const raw = LOG_THETA.map((v, i) =>
    i < FIRST_ABOVE_ONE
      ? 0
      : (0.5 * Math.exp(-((v - mu) ** 2) / (2 * 0.25))) / Math.sqrt(2 * Math.PI * 0.25) + 0.5 * Math.exp(-v),
  );
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => (w > 0 ? Math.log(w / total) : -Infinity));
}

/** Per alternative θ_a of {@link THETA}: the cumulative log-likelihood ratio against θ = 1. */
export type RatioEvidence = readonly number[];
export const noRatioEvidence = (): RatioEvidence => THETA.map(() => 0);

/**
 * Adds one period: the canary's share `share` of the requests, and failures of each slot (may be
 * fractional: the load balancer's own 5xx attributed by request share; that only lowers the evidence).
 */
export function addRatio(e: RatioEvidence, share: number, canary: number, stable: number): RatioEvidence {
  if (canary + stable <= 0 || share <= 0 || share >= 1) return e;
  const out = new Array<number>(e.length);
  // log(π_a/π) = log θ_a − log(θ_aπ + 1 − π); log((1 − π_a)/(1 − π)) = −log(θ_aπ + 1 − π)
  for (let i = 0; i < e.length; i++) {
    const denom = Math.log(THETA[i]! * share + 1 - share);
    out[i] = e[i]! + canary * (LOG_THETA[i]! - denom) - stable * denom;
  }
  return out;
}

/** log of the test's mixture likelihood ratio against θ ≤ 1. */
export function ratioLogEvidence(e: RatioEvidence, prior: readonly number[]): number {
  let m = -Infinity;
  for (let i = FIRST_ABOVE_ONE; i < e.length; i++) m = Math.max(m, e[i]! + prior[i]!);
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = FIRST_ABOVE_ONE; i < e.length; i++) s += Math.exp(e[i]! + prior[i]! - m);
  return m + Math.log(s);
}

/**
 * The anytime-valid upper confidence bound of a parameter on a grid (increasing `values`, their
 * logs `logValues`), from the cumulative log-likelihoods `ll` (any common offset): one grid point
 * above the largest value u whose test "≥ u" against the values below (weights ∝ a/u) stays under
 * log(1/α). Infinity when even the largest is not rejected.
 */
export function upperBound(
  values: readonly number[],
  logValues: readonly number[],
  ll: readonly number[],
  alpha: number,
): number {
  const bound = Math.log(1 / alpha);
  const n = values.length;
  // prefix[i] = log Σ_{j<i} a_j·exp(ll_j); norm[i] = log Σ_{j<i} a_j
  const prefix = new Array<number>(n + 1);
  const norm = new Array<number>(n + 1);
  prefix[0] = -Infinity;
  norm[0] = -Infinity;
  for (let i = 0; i < n; i++) {
    prefix[i + 1] = logAdd(prefix[i]!, logValues[i]! + ll[i]!);
    norm[i + 1] = logAdd(norm[i]!, logValues[i]!);
  }
  for (let i = n - 1; i >= 1; i--) {
    const logM = prefix[i]! - norm[i]! - ll[i]!;
    if (logM < bound) return i + 1 < n ? values[i + 1]! : Infinity;
  }
  return values[1] ?? Infinity;
}

const logAdd = (a: number, b: number) =>
  a === -Infinity ? b : b === -Infinity ? a : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));

/** The upper confidence bound of θ from the ratio evidence, at level 1 − α. */
export const ratioUpperBound = (e: RatioEvidence, alpha: number): number => upperBound(THETA, LOG_THETA, e, alpha);

// ------------------------------------------------------------ rates against a limit

/** Rates of the binomial bounds: 1e-5 to 0.99, log-spaced. */
const RATE_LOG = Array.from({ length: 221 }, (_, i) => Math.log(1e-5) + (i * (Math.log(0.99) - Math.log(1e-5))) / 220);
const RATE = RATE_LOG.map(Math.exp);

/** The upper confidence bound of a binomial rate from cumulative failures and requests (failures may be fractional). */
export function rateUpperBound(failures: number, requests: number, alpha: number): number {
  if (requests <= 0) return 1;
  const ll = RATE.map((p) => failures * Math.log(p) + (requests - failures) * Math.log1p(-p));
  return Math.min(1, upperBound(RATE, RATE_LOG, ll, alpha));
}

/** Alternatives of a limit test: the limit times e^v, v > 0 in steps of 0.05, below 0.99, weights ∝ e^{−v}. */
export interface LimitMixture {
  readonly limit: number;
  readonly rates: readonly number[];
  readonly logWeights: readonly number[];
}

export function limitMixture(limit: number): LimitMixture {
  const vs: number[] = [];
  for (let v = 0.05; limit * Math.exp(v) < 0.99; v += 0.05) vs.push(v);
  const raw = vs.map((v) => Math.exp(-v));
  const total = raw.reduce((a, b) => a + b, 0);
  return { limit, rates: vs.map((v) => limit * Math.exp(v)), logWeights: raw.map((w) => Math.log(w / total)) };
}

/** Per alternative of a limit test: the log-likelihood ratio of `failures` in `requests` against the limit. */
export function limitLogRatios(m: LimitMixture, failures: number, requests: number): number[] {
  const p0 = m.limit;
  return m.rates.map((p) =>
    requests <= 0 ? 0 : failures * Math.log(p / p0) + (requests - failures) * Math.log((1 - p) / (1 - p0)),
  );
}

/**
 * log of the limit test's mixture likelihood ratio (the null: rate ≤ limit) from cumulative failures
 * and requests, times per alternative the factors in `extra` (log; another supermartingale of other periods).
 */
export function limitLogEvidence(
  m: LimitMixture,
  failures: number,
  requests: number,
  extra?: readonly number[],
): number {
  const ll = limitLogRatios(m, failures, requests);
  return logSumExp(ll.map((l, i) => m.logWeights[i]! + l + (extra?.[i] ?? 0)));
}

/**
 * Two periods' likelihood ratios taken as one factor, per alternative the smaller: its mean under
 * the null is at most either's (≤ 1), so a product of such pairs is a supermartingale too, and one
 * bad period alone (an incident of both slots when no stable traffic is left to compare) adds nothing.
 */
export function pairMinimum(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => Math.min(x, b[i]!));
}
