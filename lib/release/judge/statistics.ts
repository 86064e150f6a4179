/**
 * Anytime-valid sequential tests on counts, as pure functions: the statistics under the canary judge
 * (lib/release/judge/sequential.ts) and the traffic plan (lib/release/judge/traffic-plan.ts).
 *
 * Two tests, both mixture sequential probability ratio tests (mSPRT; Robbins 1970, Johari et al.
 * "Always valid inference", Lindon et al. KDD 2022 for deployments):
 *
 * - **Ratio test** (canary against stable). In one interval both slots served requests n_c and n_s
 *   and returned errors x_c and x_s. Given the interval's errors E = x_c + x_s, the canary's share of
 *   them is binomial: x_c ~ Bin(E, π(θ)) with π(θ) = θπ / (θπ + 1 − π), π = n_c / (n_c + n_s) and
 *   θ the ratio of the canary's error rate to the stable slot's (Poisson errors: exact; Bernoulli
 *   requests: the binomial dominates the exact hypergeometric in convex order, so the test stays
 *   valid). The null hypothesis is θ ≤ 1: "the canary is no worse".
 * - **Limit test** (canary against an absolute limit p₀): x_c ~ Bin(n_c, p), null p ≤ p₀.
 *
 * For each alternative a of a fixed grid the likelihood ratio against the null's boundary,
 * multiplied over intervals, is a nonnegative martingale under the boundary and a supermartingale
 * inside the null (the ratio is increasing in the true θ or p). A mixture of them with fixed prior
 * weights w_a is one too, so by Ville's inequality
 *
 *     P(Σ_a w_a · Π_i LR_a,i  ever reaches 1/α) ≤ α     under the null,
 *
 * however often it is looked at: a test that fails when the mixture crosses 1/α has a false-alarm
 * rate of at most α per step, at any number of polls, and stops at the poll where the evidence
 * crosses the bound.
 *
 * Everything here works in natural logarithms to stay finite over long bakes.
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";

/** A discrete mixture: alternatives and the log of their prior weights (the weights sum to 1). */
export interface Mixture {
  readonly alternatives: readonly number[];
  readonly logWeights: readonly number[];
}

/** `points` values from `from` to `to`, equally spaced on a log scale. */
export function geometricGrid(from: number, to: number, points: number): number[] {
  if (points === 1 || from === to) return [from];
  const r = Math.log(to / from) / (points - 1);
  return Array.from({ length: points }, (_, i) => from * Math.exp(r * i));
}

const uniform = (alternatives: number[]): Mixture => ({
  alternatives,
  logWeights: alternatives.map(() => -Math.log(alternatives.length)),
});

/**
 * Alternatives of the ratio test: the configured regression `detect` with weight 0.4, and
 * `detect`^1.5, ^2, ^3, ^4 with 0.15 each (for 2×: 2, 2.8, 4, 8, 16), so large regressions cross
 * the bound within a few polls while the plan's power figure holds for `detect` itself.
 */
export function ratioMixture(detect: number): Mixture {
  const exponents = [1, 1.5, 2, 3, 4];
  const weights = [0.4, 0.15, 0.15, 0.15, 0.15];
  return { alternatives: exponents.map((x) => detect ** x), logWeights: weights.map(Math.log) };
}

/**
 * Alternatives of the limit test for the limit p₀: 8 rates from 1.25 p₀ to min(20 p₀, 0.95),
 * equally spaced on a log scale, equal weights.
 */
export function limitMixture(limit: number): Mixture {
  return uniform(geometricGrid(1.25 * limit, Math.min(20 * limit, 0.95), 8).filter((p) => p > limit && p < 1));
}

/** log of Σ exp(v_i), computed without overflow. */
export function logSumExp(values: readonly number[]): number {
  const m = Math.max(...values);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(values.reduce((s, v) => s + Math.exp(v - m), 0));
}

/** x successes and n − x failures at rate p1 against rate p0: the log-likelihood ratio. */
export function binomialLogLR(x: number, n: number, p1: number, p0: number): number {
  const a = x === 0 ? 0 : x * Math.log(p1 / p0);
  const b = n - x === 0 ? 0 : (n - x) * Math.log((1 - p1) / (1 - p0));
  return a + b;
}

/** The canary's share of the errors when its error rate is θ times the stable slot's, its share of the requests π. */
export function errorShare(share: number, ratio: number): number {
  return (ratio * share) / (ratio * share + 1 - share);
}

/** A test's running evidence: one cumulative log-likelihood ratio per alternative of its mixture. */
export type Evidence = readonly number[];

export const noEvidence = (m: Mixture): Evidence => m.alternatives.map(() => 0);

/** Adds one interval to the ratio test: requests and errors of the canary and of the stable slot. */
export function addRatioInterval(
  e: Evidence,
  m: Mixture,
  canary: { requests: number; errors: number },
  stable: { requests: number; errors: number },
): Evidence {
  const errors = canary.errors + stable.errors;
  if (errors === 0 || canary.requests <= 0 || stable.requests <= 0) return e;
  const share = canary.requests / (canary.requests + stable.requests);
  return e.map((l, i) => l + binomialLogLR(canary.errors, errors, errorShare(share, m.alternatives[i]!), share));
}

/** Adds one interval to the limit test: the canary's requests and its failures (errors, or slow requests) against the limit. */
export function addLimitInterval(
  e: Evidence,
  m: Mixture,
  limit: number,
  observed: { requests: number; failures: number },
): Evidence {
  if (observed.requests <= 0) return e;
  return e.map((l, i) => l + binomialLogLR(observed.failures, observed.requests, m.alternatives[i]!, limit));
}

/** log of the mixture's likelihood ratio: the evidence against the null, to compare with log(1/α). */
export function logMixtureRatio(e: Evidence, m: Mixture): number {
  return logSumExp(e.map((l, i) => l + m.logWeights[i]!));
}

/** The bound the mixture must reach for a verdict of "worse" at false-alarm rate α: log(1/α). */
export const logBound = (alpha: number): number => Math.log(1 / alpha);

/**
 * Siegmund's constant: a walk looked at every Δ trials crosses a bound b about as often as a
 * continuous path crosses b + ρ·σ·√Δ, with ρ = −ζ(1/2)/√(2π) ≈ 0.5826 (Siegmund 1979, "Corrected
 * diffusion approximations in certain random walk problems").
 */
export const SIEGMUND_RHO = 0.5826;

/**
 * Probability that a random walk with drift `mean` and variance `variance` per trial reaches `b`
 * within `trials` trials, looked at `looks` times evenly, in the Brownian-motion approximation (the
 * first-passage law of a drifted Brownian motion, with Siegmund's correction for discrete looks):
 *
 *     P(max_{t≤T} S_t ≥ b) = Φ((μT − b')/(σ√T)) + exp(2μb'/σ²)·Φ((−b' − μT)/(σ√T)),  b' = b + ρσ√(T/looks).
 *
 * A sequential test stops at the first crossing, so its power is this, not the chance of being above
 * the bound at the end.
 */
export function crossingProbability(
  mean: number,
  variance: number,
  b: number,
  trials: number,
  looks = Infinity,
): number {
  if (trials <= 0) return 0;
  const bound = b + SIEGMUND_RHO * Math.sqrt((variance * trials) / looks);
  const sd = Math.sqrt(variance * trials);
  const drift = mean * trials;
  const exponent = (2 * mean * bound) / variance;
  const second = normalCdf((-bound - drift) / sd, 0, 1);
  // exp(exponent)·Φ(…) without overflow: the product is taken in logarithms.
  const tail = second === 0 ? 0 : Math.exp(Math.min(700, exponent + Math.log(second)));
  return Math.min(1, normalCdf((drift - bound) / sd, 0, 1) + tail);
}

/**
 * Trials a sequential test needs so that one alternative's log-likelihood ratio (drift `mean`,
 * variance `variance` per trial) reaches the bound `b` with probability `power` over `looks` evenly
 * spaced looks: the smallest T (to 0.5 %) with crossingProbability(T) ≥ power. Conservative for the
 * mixture, which is at least w·LR of that alternative (the weight is in `b`).
 */
export function requiredTrials(mean: number, variance: number, b: number, power: number, looks = Infinity): number {
  if (mean <= 0) return Infinity;
  const reaches = (t: number) => crossingProbability(mean, variance, b, t, looks) >= power;
  let hi = Math.max(1, b / mean);
  while (!reaches(hi)) {
    hi *= 2;
    if (hi > 1e12) return Infinity;
  }
  let lo = 0;
  while (hi - lo > Math.max(0.5, hi * 0.005)) {
    const mid = (lo + hi) / 2;
    if (reaches(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export interface RatioPowerInput {
  /** The stable slot's error rate (a fraction). */
  readonly baseRate: number;
  /** The regression to detect: the canary's error rate as a multiple of the stable slot's. */
  readonly ratio: number;
  /** The canary's share of the requests (0..1, exclusive). */
  readonly share: number;
  /** False-alarm rate of the test. */
  readonly alpha: number;
  /** Probability of detecting the regression by the end of the step. */
  readonly power: number;
  /** Looks at the evidence during the step (polls with new data). @default Infinity (continuous) */
  readonly looks?: number;
}

/**
 * Errors (both slots together) the ratio test needs to detect a regression of `ratio` with `power`
 * when the canary has `share` of the requests, through the best single alternative a of the mixture
 * (the mixture is at least w_a times its ratio). Per error the log-likelihood ratio of a, under the
 * true share q = π(ratio), has mean q·log(π_a/π) + (1−q)·log((1−π_a)/(1−π)); the number of errors
 * is Poisson, so the sum's variance per expected error is the second moment E[Y²].
 */
export function requiredRatioErrors(i: Omit<RatioPowerInput, "baseRate">, m: Mixture): number {
  const q = errorShare(i.share, i.ratio);
  let best = Infinity;
  m.alternatives.forEach((a, k) => {
    const qa = errorShare(i.share, a);
    const yes = Math.log(qa / i.share);
    const no = Math.log((1 - qa) / (1 - i.share));
    const mean = q * yes + (1 - q) * no;
    if (mean <= 0) return;
    const secondMoment = q * yes * yes + (1 - q) * no * no;
    best = Math.min(best, requiredTrials(mean, secondMoment, logBound(i.alpha) - m.logWeights[k]!, i.power, i.looks));
  });
  return best;
}

/** Canary requests that bring the errors the ratio test needs: E = n_c·p·(ratio + (1−π)/π). */
export function canaryRequestsFor(errors: number, i: Pick<RatioPowerInput, "baseRate" | "ratio" | "share">): number {
  return Math.ceil(errors / (i.baseRate * (i.ratio + (1 - i.share) / i.share)));
}

/** Canary requests the ratio test needs to detect `ratio` with `power` (see {@link requiredRatioErrors}). */
export function requiredCanaryRequests(i: RatioPowerInput, m: Mixture): number {
  return canaryRequestsFor(requiredRatioErrors(i, m), i);
}

/**
 * Requests the limit test needs to detect a failure rate `rate` above the limit `limit` with
 * `power`, through the best single alternative of the mixture (fixed number of trials: the
 * variance is that of one Bernoulli trial's log-likelihood ratio).
 */
export function requiredLimitRequests(
  limit: number,
  rate: number,
  alpha: number,
  power: number,
  m: Mixture,
  looks = Infinity,
): number {
  let best = Infinity;
  m.alternatives.forEach((a, k) => {
    const yes = Math.log(a / limit);
    const no = Math.log((1 - a) / (1 - limit));
    const mean = rate * yes + (1 - rate) * no;
    if (mean <= 0) return;
    const variance = rate * (1 - rate) * (yes - no) ** 2;
    best = Math.min(best, requiredTrials(mean, variance, logBound(alpha) - m.logWeights[k]!, power, looks));
  });
  return Math.ceil(best);
}

/**
 * The smallest regression (ratio, to 1 %) the ratio test detects with `power` from `canaryRequests`;
 * null when even 100× is not detectable (too little traffic or too low a base rate).
 */
export function detectableRatio(
  canaryRequests: number,
  base: Omit<RatioPowerInput, "ratio">,
  m: Mixture,
): number | null {
  const needs = (ratio: number) => requiredCanaryRequests({ ...base, ratio }, m);
  let hi = 100;
  if (needs(hi) > canaryRequests) return null;
  let lo = 1;
  while (hi / lo > 1.01) {
    const mid = Math.sqrt(lo * hi);
    if (needs(mid) <= canaryRequests) hi = mid;
    else lo = mid;
  }
  return Number(hi.toFixed(2));
}
