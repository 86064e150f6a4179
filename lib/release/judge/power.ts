/**
 * How the judge (./sequential.ts, ./verdict.ts) behaves on expected traffic, as pure functions: the
 * probability that a step passes (its upper bound falls below the step's bound), the smallest
 * regression the ratio test detects, and when. Normal approximations of the log-likelihood ratios
 * of the best single alternative (the mixture is at least its weight times its ratio: conservative),
 * with the first-passage law for the tests (./statistics.ts crossingProbability).
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { FIRST_ABOVE_ONE, LOG_THETA, THETA } from "./mixtures.ts";

/** The step of the ratio grid in log θ (./mixtures.ts). */
const STEP = LOG_THETA[1]! - LOG_THETA[0]!;

import { crossingProbability, errorShare } from "./statistics.ts";

/** Requests of both slots judged at one canary share (0 < share < 1) by a decision. */
export interface Exposure {
  readonly share: number;
  readonly requests: number;
}

/** Per error: the mean and second moment of log(LR of ratio `a` against `b`) when the true ratio is `ratio`. */
function perError(share: number, ratio: number, a: number, b: number): { mean: number; m2: number } {
  const q = errorShare(share, ratio);
  const qa = errorShare(share, a);
  const qb = errorShare(share, b);
  const yes = Math.log(qa / qb);
  const no = Math.log((1 - qa) / (1 - qb));
  return { mean: q * yes + (1 - q) * no, m2: q * yes * yes + (1 - q) * no * no };
}

/** Errors of both slots: the stable share at the base rate, the canary's at `ratio` times it. */
const errorsOf = (e: Exposure, base: number, ratio: number) => e.requests * base * (ratio * e.share + 1 - e.share);

/** Sums of an alternative's log-likelihood ratio over the exposures: mean and variance (errors are Poisson). */
function moments(
  exposures: readonly Exposure[],
  base: number,
  ratio: number,
  a: number,
  b: number,
): { mean: number; variance: number; errors: number } {
  let mean = 0;
  let variance = 0;
  let errors = 0;
  for (const e of exposures) {
    if (e.requests <= 0 || e.share <= 0 || e.share >= 1) continue;
    const n = errorsOf(e, base, ratio);
    const p = perError(e.share, ratio, a, b);
    mean += n * p.mean;
    variance += n * p.m2;
    errors += n;
  }
  return { mean, variance, errors };
}

/**
 * Probability that the error ratio's upper bound (confidence 1 − α) is below `bound` at a decision
 * after `exposures`, for a canary whose ratio is `ratio`: the test of "θ ≥ bound" through the
 * alternative θ = 1 with its weight in the bound's mixture (weights ∝ θ_a below the bound).
 */
export function passProbability(
  exposures: readonly Exposure[],
  base: number,
  ratio: number,
  bound: number,
  alpha: number,
): number {
  const u = THETA.findIndex((t) => t >= bound) - 2;
  if (u <= 0) return 0;
  const one = LOG_THETA.findIndex((v) => v >= -1e-9);
  const weight = Math.log(THETA[one]! / THETA.slice(0, u).reduce((x, y) => x + y, 0));
  const m = moments(exposures, base, ratio, 1, THETA[u]!);
  if (m.variance <= 0) return 0;
  // The mixture spreads over the alternatives near the truth: Laplace's approximation adds the log of
  // their effective number (√(2π)·σ/Δ, σ from the Fisher information, Δ the grid step) and ½ (the
  // likelihood's maximum is above its value at the truth).
  const information = exposures.reduce((sum, e) => sum + errorsOf(e, base, ratio) * e.share * (1 - e.share), 0);
  const spread = information > 0 ? Math.max(0, Math.log(Math.sqrt((2 * Math.PI) / information) / STEP) + 0.5) : 0;
  return normalCdf((m.mean - (Math.log(1 / alpha) - weight - spread)) / Math.sqrt(m.variance), 0, 1);
}

/** Probability that the upper bound of a binomial rate is below `limit` after `requests` at a true `rate` (through the alternative at the rate). */
export function ratePassProbability(requests: number, rate: number, limit: number, alpha: number): number {
  if (requests <= 0 || rate >= limit) return 0;
  const p = Math.max(rate, 1e-5);
  const yes = Math.log(p / limit);
  const no = Math.log((1 - p) / (1 - limit));
  const mean = requests * (p * yes + (1 - p) * no);
  const variance = requests * p * (1 - p) * (yes - no) ** 2;
  // the rate grid is log-spaced by 0.0523 from 1e-5: the alternative's weight is about p·0.0523/limit;
  // Laplace's approximation adds the log of the alternatives near the truth, as for the ratio
  const weight =
    Math.log((p * 0.0523) / limit) +
    Math.max(0, Math.log(Math.sqrt((2 * Math.PI * (1 - p)) / (requests * p)) / 0.0523) + 0.5);
  if (variance <= 0) return mean > Math.log(1 / alpha) - weight ? 1 : 0;
  return normalCdf((mean - (Math.log(1 / alpha) - weight)) / Math.sqrt(variance), 0, 1);
}

/** The prior weight (log) of the grid point nearest `ratio`. */
function priorAt(prior: readonly number[], ratio: number): number {
  const v = Math.log(ratio);
  let best = FIRST_ABOVE_ONE;
  for (let i = FIRST_ABOVE_ONE; i < LOG_THETA.length; i++)
    if (Math.abs(LOG_THETA[i]! - v) < Math.abs(LOG_THETA[best]! - v)) best = i;
  return prior[best]!;
}

/** Probability that the ratio test (false-alarm rate α, prior `prior`) fails a canary at `ratio` within `exposures`, looked at `looks` times. */
export function detectionProbability(
  exposures: readonly Exposure[],
  base: number,
  ratio: number,
  alpha: number,
  prior: readonly number[],
  looks: number,
): number {
  const m = moments(exposures, base, ratio, ratio, 1);
  if (m.errors <= 0 || m.mean <= 0) return 0;
  return crossingProbability(
    m.mean / m.errors,
    m.variance / m.errors,
    Math.log(1 / alpha) - priorAt(prior, ratio),
    m.errors,
    looks,
  );
}

/** The smallest regression (to 1 %) the ratio test fails with probability `power` within `exposures`; null when not even 100×. */
export function smallestDetectable(
  exposures: readonly Exposure[],
  base: number,
  alpha: number,
  power: number,
  prior: readonly number[],
  looks: number,
): number | null {
  const detects = (r: number) => detectionProbability(exposures, base, r, alpha, prior, looks) >= power;
  let hi = 100;
  if (!detects(hi)) return null;
  let lo = 1.01;
  while (hi / lo > 1.01) {
    const mid = Math.sqrt(lo * hi);
    if (detects(mid)) hi = mid;
    else lo = mid;
  }
  return Number(hi.toFixed(2));
}

/** The expected log-likelihood ratio of the alternative `ratio` after `exposures`, for a canary at `ratio` (its mean path). */
export function meanEvidence(
  exposures: readonly Exposure[],
  base: number,
  ratio: number,
  prior: readonly number[],
): number {
  return moments(exposures, base, ratio, ratio, 1).mean + priorAt(prior, ratio);
}
