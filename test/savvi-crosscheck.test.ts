/**
 * The judge's tests against an independent implementation: savvi 0.3.1 (PyPI; Lindon & Malek's
 * anytime-valid multinomial test, a Dirichlet mixture, `savvi.multinomial.Multinomial(alpha,
 * theta_0, k)`), installed by test/support/setup-savvi.sh (`npm run setup`). Both see the same
 * seeded streams, period by period, at the same α: the canary's and the stable slot's 5xx at a
 * 50 % split (the multinomial of the slot of each error), and both slots' response-time buckets
 * (the judge: every bucket edge; savvi: the slot of each request above the stable slot's median).
 * The judge's one-sided tests must detect no later, in the median, than savvi's test, and neither
 * may reject more often than α without a regression.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classify } from "../lib/release/judge/inputs.ts";
import { addLatency, latencyLogEvidence, noLatencyEvidence } from "../lib/release/judge/latency.ts";
import { addRatio, noRatioEvidence, ratioLogEvidence, ratioPrior } from "../lib/release/judge/mixtures.ts";
import { EDGES, generator } from "./support/rollout-sim.ts";

const PYTHON = join(process.env.ENVSTACK_CACHE ?? join(homedir(), ".cache/envstack"), "savvi-0.3.1/bin/python");
const ALPHA = 0.01;
const STREAMS = 100;
const PERIODS = 40;
const N = 3000; // requests per slot and period: the split is exactly 50 %
const LATENCY_N = 100; // requests timed per slot and period

/** savvi's Multinomial over each stream of each job: the first period (1-based) its odds reach 1/α, or 0. */
const SAVVI = `
import json, sys
import numpy as np
from savvi.multinomial import Multinomial
results = []
for job in json.load(open(sys.argv[1])):
    theta = np.array(job["theta0"], dtype=float)
    theta[-1] = 1.0 - theta[:-1].sum()
    out = []
    for stream in job["streams"]:
        m = Multinomial(job["alpha"], theta, 100)
        first = 0
        for i, x in enumerate(stream):
            m.update(np.array(x, dtype=np.int64))
            if first == 0 and m.odds >= 1 / job["alpha"]:
                first = i + 1
        out.append(first)
    results.append(out)
print(json.dumps(results))
`;

/** One run of savvi over every job (Python and its imports start once). */
function savvi(jobs: readonly { theta0: readonly number[]; streams: readonly (readonly number[])[][] }[]): number[][] {
  if (!existsSync(PYTHON))
    throw new Error(`savvi is not installed at ${PYTHON}: run npm run setup (test/support/setup-savvi.sh)`);
  const dir = mkdtempSync(join(tmpdir(), "savvi-"));
  writeFileSync(join(dir, "jobs.json"), JSON.stringify(jobs.map((j) => ({ alpha: ALPHA, ...j }))));
  writeFileSync(join(dir, "run.py"), SAVVI);
  return JSON.parse(
    execFileSync(PYTHON, [join(dir, "run.py"), join(dir, "jobs.json")], { encoding: "utf8", timeout: 240_000 }),
  );
}

/** Median of detection periods, a stream that never detects counting as later than any. */
const median = (xs: readonly number[]) =>
  [...xs].map((x) => (x === 0 ? Infinity : x)).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bound = Math.log(1 / ALPHA);
const prior = ratioPrior(2);

/** Errors of both slots per period, the canary's rate `ratio` times the stable's 0.5 %. */
function errorStreams(seed: number, ratio: number): [number, number][][] {
  const g = generator(seed);
  return Array.from({ length: STREAMS }, () =>
    Array.from({ length: PERIODS }, () => [g.draw(N, 0.005 * ratio), g.draw(N, 0.005)] as [number, number]),
  );
}

function judgeErrors(stream: readonly [number, number][]): number {
  let e = noRatioEvidence();
  for (const [i, [c, s]] of stream.entries()) {
    e = addRatio(e, 0.5, c, s);
    if (ratioLogEvidence(e, prior) >= bound) return i + 1;
  }
  return 0;
}

/** Both slots' response-time buckets per period, the canary's times `factor` times the stable's. */
function latencyStreams(seed: number, factor: number): { canary: number[]; stable: number[] }[][] {
  const g = generator(seed);
  return Array.from({ length: STREAMS }, () =>
    Array.from({ length: PERIODS }, () => ({ canary: g.buckets(LATENCY_N, factor), stable: g.buckets(LATENCY_N, 1) })),
  );
}

function judgeLatency(stream: readonly { canary: number[]; stable: number[] }[]): number {
  let e = noLatencyEvidence();
  for (const [i, p] of stream.entries()) {
    const c = classify(
      {
        t: 120,
        canary: { requests: N, errors: 0, slow: null, latency: p.canary },
        stable: { requests: N, errors: 0, slow: null, latency: p.stable },
        lbErrors: 0,
        edges: EDGES,
      },
      0.01,
      0.01,
    );
    e = addLatency(e, c.tails);
    if (latencyLogEvidence(e, prior) >= bound) return i + 1;
  }
  return 0;
}

const badErrors = errorStreams(61, 1.5);
const healthyErrors = errorStreams(62, 1);
/** For savvi, the same conditional multinomial: per period, the slot of each request above the stable slot's median. */
const aboveMedian = (s: { canary: number[]; stable: number[] }[]) =>
  s.map((p) => [p.canary.slice(1).reduce((a, b) => a + b, 0), p.stable.slice(1).reduce((a, b) => a + b, 0)]);
const badLatency = latencyStreams(63, 1.02);
const healthyLatency = latencyStreams(64, 1);

describe("cross-check against savvi (Lindon & Malek's multinomial test)", () => {
  let theirs: number[][] = [];
  beforeAll(() => {
    theirs = savvi([
      { theta0: [0.5, 0.5], streams: badErrors },
      { theta0: [0.5, 0.5], streams: healthyErrors },
      { theta0: [0.5, 0.5], streams: badLatency.map(aboveMedian) },
      { theta0: [0.5, 0.5], streams: healthyLatency.map(aboveMedian) },
    ]);
  }, 240_000);

  it("the slot of each 5xx: the one-sided ratio test detects ×1.5 no later (median) than savvi; neither rejects a healthy canary beyond α", () => {
    const ours = badErrors.map(judgeErrors);
    expect(median(ours)).toBeLessThanOrEqual(median(theirs[0]!));
    expect(ours.filter((x) => x > 0).length).toBeGreaterThanOrEqual(theirs[0]!.filter((x) => x > 0).length);
    expect(healthyErrors.map(judgeErrors).filter((x) => x > 0).length / STREAMS).toBeLessThanOrEqual(ALPHA * 3);
    expect(theirs[1]!.filter((x) => x > 0).length / STREAMS).toBeLessThanOrEqual(ALPHA * 3);
  });

  it("response-time buckets: the conditional test detects a 2 % slower canary no later (median) than savvi's test of the slots above the median", () => {
    expect(median(badLatency.map(judgeLatency))).toBeLessThanOrEqual(median(theirs[2]!));
    expect(theirs[2]!.filter((x) => x > 0).length).toBeGreaterThanOrEqual(STREAMS / 2);
    expect(healthyLatency.map(judgeLatency).filter((x) => x > 0).length / STREAMS).toBeLessThanOrEqual(ALPHA * 3);
    expect(theirs[3]!.filter((x) => x > 0).length / STREAMS).toBeLessThanOrEqual(ALPHA * 3);
  });
});
