/**
 * The canary statistics against values computed independently: exact enumeration of the sequential
 * test's false-alarm probability, Bernoulli products, the reflection principle, a seeded Monte Carlo
 * of the first-passage formula, and hand-derived constants.
 */

import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { describe, expect, it } from "vitest";
import {
  addLimitInterval,
  addRatioInterval,
  binomialLogLR,
  crossingProbability,
  detectableRatio,
  errorShare,
  geometricGrid,
  limitMixture,
  logBound,
  logMixtureRatio,
  logSumExp,
  type Mixture,
  noEvidence,
  ratioMixture,
  requiredCanaryRequests,
  requiredRatioErrors,
  requiredTrials,
} from "../lib/release/judge/statistics.ts";
import { seeded as rng } from "./support/seeded.ts";

describe("likelihood ratios", () => {
  it("binomialLogLR equals the log of the product of the Bernoulli likelihoods", () => {
    const outcomes = [1, 0, 0, 1, 1, 0, 0, 0, 0, 1];
    const p1 = 0.3;
    const p0 = 0.1;
    const product = outcomes.reduce((acc, x) => acc * (x ? p1 / p0 : (1 - p1) / (1 - p0)), 1);
    expect(binomialLogLR(4, 10, p1, p0)).toBeCloseTo(Math.log(product), 12);
    expect(binomialLogLR(0, 0, p1, p0)).toBe(0);
  });

  it("the canary's share of the errors follows from the two slots' error rates", () => {
    // 1,000 canary and 9,000 stable requests, stable errs at 1 %, the canary at 3 %: 30 of 120 errors.
    expect(errorShare(0.1, 3)).toBeCloseTo(30 / 120, 12);
    expect(errorShare(0.5, 1)).toBe(0.5);
  });

  it("logSumExp stays finite where exp overflows", () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 9);
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
  });

  it("the mixtures: weights sum to 1, the configured regression is an alternative", () => {
    for (const m of [ratioMixture(2), ratioMixture(1.5), limitMixture(0.05), limitMixture(0.01)]) {
      expect(m.logWeights.reduce((s, w) => s + Math.exp(w), 0)).toBeCloseTo(1, 12);
    }
    expect(ratioMixture(2).alternatives).toEqual([2, 2 ** 1.5, 4, 8, 16]);
    expect(limitMixture(0.05).alternatives.every((p) => p > 0.05 && p < 1)).toBe(true);
    expect(geometricGrid(1, 8, 4)).toEqual([1, 2, 4, 8].map((x) => expect.closeTo(x, 12)));
  });
});

describe("anytime validity (Ville's inequality), by exact enumeration", () => {
  /**
   * One Bernoulli observation per poll at the null's boundary p0 for `polls` polls: the exact
   * probability that the mixture SPRT ever reaches 1/α (dynamic programming over the number of
   * failures so far; the statistic depends only on it and the poll), and the same for a naive test
   * that re-checks a one-sided z-test at level α on the cumulative counts at every poll.
   */
  function exactFalseAlarm(p0: number, polls: number, alpha: number, m: Mixture) {
    const bound = logBound(alpha);
    const z = 2.3263478740408408; // Φ⁻¹(0.99), for α = 0.01
    let alive = new Map<number, number>([[0, 1]]); // failures → probability, paths not yet stopped
    let mixture = 0;
    let naive = 0;
    let naiveAlive = new Map<number, number>([[0, 1]]);
    for (let t = 1; t <= polls; t++) {
      const step = (m0: Map<number, number>, stops: (k: number) => boolean) => {
        const next = new Map<number, number>();
        let stopped = 0;
        for (const [k, pr] of m0) {
          for (const [x, px] of [
            [1, p0],
            [0, 1 - p0],
          ] as const) {
            const k2 = k + x;
            if (stops(k2)) stopped += pr * px;
            else next.set(k2, (next.get(k2) ?? 0) + pr * px);
          }
        }
        return { next, stopped };
      };
      const a = step(
        alive,
        (k) =>
          logMixtureRatio(
            m.alternatives.map((p1) => binomialLogLR(k, t, p1, p0)),
            m,
          ) >= bound,
      );
      alive = a.next;
      mixture += a.stopped;
      const b = step(naiveAlive, (k) => (k - t * p0) / Math.sqrt(t * p0 * (1 - p0)) >= z);
      naiveAlive = b.next;
      naive += b.stopped;
    }
    return { mixture, naive };
  }

  it("the mixture SPRT's false-alarm probability over 400 looks stays below α; re-testing a fixed threshold at every look does not", () => {
    const { mixture, naive } = exactFalseAlarm(0.05, 400, 0.01, limitMixture(0.05));
    expect(mixture).toBeGreaterThan(0);
    expect(mixture).toBeLessThanOrEqual(0.01);
    // The peeking problem the issue measured: the same α re-tested at every poll.
    expect(naive).toBeGreaterThan(0.05);
  });

  it("the ratio test is valid for any split of the requests (Monte Carlo, 20,000 seeded steps at θ = 1)", () => {
    const r = rng(7);
    const m = ratioMixture(2);
    const alpha = 0.05;
    let alarms = 0;
    const steps = 20_000;
    for (let i = 0; i < steps; i++) {
      let e = noEvidence(m);
      for (let poll = 0; poll < 20; poll++) {
        const share = 0.05 + 0.9 * r(); // any split, changing every poll
        const errors = Math.floor(r() * 12);
        let canary = 0;
        for (let k = 0; k < errors; k++) if (r() < share) canary++;
        e = addRatioInterval(
          e,
          m,
          { requests: 1000 * share, errors: canary },
          { requests: 1000 * (1 - share), errors: errors - canary },
        );
        if (logMixtureRatio(e, m) >= logBound(alpha)) {
          alarms++;
          break;
        }
      }
    }
    // Bound 5 %; three standard errors of a 5 % rate over 20,000 steps is 0.46 points.
    expect(alarms / steps).toBeLessThan(alpha + 0.0046);
  });

  it("a limit test ignores intervals without requests, a ratio test intervals without errors or without one slot", () => {
    const m = limitMixture(0.05);
    const e = noEvidence(m);
    expect(addLimitInterval(e, m, 0.05, { requests: 0, failures: 0 })).toBe(e);
    const r = ratioMixture(2);
    const z = noEvidence(r);
    expect(addRatioInterval(z, r, { requests: 10, errors: 0 }, { requests: 90, errors: 0 })).toBe(z);
    expect(addRatioInterval(z, r, { requests: 0, errors: 0 }, { requests: 90, errors: 3 })).toBe(z);
  });
});

describe("power", () => {
  it("the first-passage formula reduces to the reflection principle without drift", () => {
    // P(max_{t≤T} W_t ≥ b) = 2·(1 − Φ(b/(σ√T))) for a driftless walk.
    const b = 3;
    const variance = 2;
    const T = 5;
    const reflection = 2 * (1 - normalCdf(b / Math.sqrt(variance * T), 0, 1));
    expect(crossingProbability(1e-9, variance, b, T)).toBeCloseTo(reflection, 6);
  });

  it("the first-passage formula matches a seeded Monte Carlo of a Gaussian random walk", () => {
    const r = rng(11);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const mean = 0.05;
    const variance = 0.1;
    const b = 6;
    const T = 150;
    let crossed = 0;
    const paths = 20_000;
    for (let i = 0; i < paths; i++) {
      // Fine steps: the formula is for continuous paths.
      let s = 0;
      for (let k = 0; k < T * 4; k++) {
        s += mean / 4 + Math.sqrt(variance / 4) * gauss();
        if (s >= b) {
          crossed++;
          break;
        }
      }
    }
    const formula = crossingProbability(mean, variance, b, T);
    // Discrete monitoring crosses slightly less often than the continuous path; within 2 points.
    expect(Math.abs(crossed / paths - formula)).toBeLessThan(0.02);
  });

  it("requiredTrials is the smallest count reaching the power", () => {
    const n = requiredTrials(0.05, 0.1, 6, 0.95);
    expect(crossingProbability(0.05, 0.1, 6, n)).toBeGreaterThanOrEqual(0.95);
    expect(crossingProbability(0.05, 0.1, 6, n * 0.98)).toBeLessThan(0.95);
    expect(requiredTrials(0, 0.1, 6, 0.9)).toBe(Infinity);
  });

  it("the ratio test's drift per error, derived by hand for a 2× regression at a 50 % split", () => {
    // π = 1/2, θ = 2: the canary's share of the errors is 2/3; the alternative θ = 2 gains
    // log(4/3) per canary error and log(2/3) per stable error: mean (2/3)·log(4/3) + (1/3)·log(2/3).
    const mean = (2 / 3) * Math.log(4 / 3) + (1 / 3) * Math.log(2 / 3);
    const second = (2 / 3) * Math.log(4 / 3) ** 2 + (1 / 3) * Math.log(2 / 3) ** 2;
    const m: Mixture = { alternatives: [2], logWeights: [0] };
    const errors = requiredRatioErrors({ ratio: 2, share: 0.5, alpha: 0.01, power: 0.9 }, m);
    expect(errors).toBeCloseTo(requiredTrials(mean, second, Math.log(100), 0.9), 6);
    // Canary requests: 2/3 of the errors come from the canary at 2p: n_c = E / (p·(2 + 1)).
    expect(requiredCanaryRequests({ baseRate: 0.01, ratio: 2, share: 0.5, alpha: 0.01, power: 0.9 }, m)).toBe(
      Math.ceil(errors / (0.01 * 3)),
    );
  });

  it("a seeded simulation detects a 2× regression at least as often as the requirement promises", () => {
    const r = rng(5);
    const m = ratioMixture(2);
    const alpha = 0.004;
    const need = requiredCanaryRequests({ baseRate: 0.02, ratio: 2, share: 0.5, alpha, power: 0.9, looks: 10 }, m);
    let detected = 0;
    const steps = 2000;
    const polls = 10;
    const perPoll = Math.ceil(need / polls);
    const poisson = (lambda: number) => {
      let k = 0;
      let p = Math.exp(-lambda);
      let s = p;
      const u = r();
      while (u > s) {
        k++;
        p *= lambda / k;
        s += p;
      }
      return k;
    };
    for (let i = 0; i < steps; i++) {
      let e = noEvidence(m);
      for (let poll = 0; poll < polls; poll++) {
        e = addRatioInterval(
          e,
          m,
          { requests: perPoll, errors: poisson(perPoll * 0.04) },
          { requests: perPoll, errors: poisson(perPoll * 0.02) },
        );
        if (logMixtureRatio(e, m) >= logBound(alpha)) {
          detected++;
          break;
        }
      }
    }
    expect(detected / steps).toBeGreaterThanOrEqual(0.9 - 0.02);
  });

  it("detectableRatio inverts the requirement", () => {
    const m = ratioMixture(2);
    const base = { baseRate: 0.01, share: 0.1, alpha: 0.004, power: 0.95 };
    const need = requiredCanaryRequests({ ...base, ratio: 3 }, m);
    const ratio = detectableRatio(need, base, m)!;
    expect(ratio).toBeGreaterThan(2.9);
    expect(ratio).toBeLessThanOrEqual(3.04);
    expect(detectableRatio(5, base, m)).toBeNull();
  });
});
