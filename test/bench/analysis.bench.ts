/**
 * npm run bench:analysis — a seeded simulation of canary steps, poll by poll, judged by today's
 * threshold judge (./threshold-judge.ts, the judge shipped before) and the sequential judge
 * (lib/release/judge/sequential.ts) side by side, on the same simulated traffic.
 *
 * Per poll interval (30 s) the load balancer serves rps·30 requests; each goes to the canary with
 * its weight (binomial split); each request fails with the slot's error rate and is slow (above the
 * latency limit) with the slot's slow share (binomial). The stable slot errs at the base rate and is
 * slow for 0.2 % of its requests; the canary the same, times the cell's regression. Data is judged as
 * soon as its interval ends (no publishing delay: the delay shifts every decision equally).
 *
 * Prints one row per cell: the false-rollback rate (cells without a regression) or detection rate,
 * the pass / inconclusive rates, the median time to a decision, and what the plan says the step can
 * detect; then checks the issue's targets and says which are met.
 *
 * Options: --runs N (default 2000 per cell), --seed S (default 20261202), --quick (a smaller grid).
 */
import binomialBase from "@stdlib/random-base-binomial";
import mt19937 from "@stdlib/random-base-mt19937";
import { parseSeries, replaySeries } from "../../lib/release/judge/replay.ts";
import { addInterval, type JudgeSettings, startStep, testsFor, verdict } from "../../lib/release/judge/sequential.ts";
import { planSteps } from "../../lib/release/judge/traffic-plan.ts";
import { judge, type Observation } from "./threshold-judge.ts";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(arg("--runs") ?? 2000);
const SEED = Number(arg("--seed") ?? 20261202);
const QUICK = process.argv.includes("--quick");

const INTERVAL = 30;
const SLOW_BASE = 0.002;
const grid = {
  rps: QUICK ? [5, 100] : [1, 5, 20, 100, 200],
  share: [10, 50],
  base: QUICK ? [0.5] : [0.1, 0.5, 1, 2],
  regression: ["none", "x1.5", "x3", "x10", "slow x10"] as const,
  bake: QUICK ? [300] : [180, 300, 600],
};
type Regression = (typeof grid.regression)[number];

/** The shipped defaults of both judges (lib/release/model/policy.ts). */
const oldLimits = {
  minSuccessRatePercent: 95,
  maxLatencyP99Seconds: 1,
  maxErrorRateIncreasePoints: 1,
  minRequests: 100,
};
const settings: JudgeSettings = {
  falseRollbackPercent: 1,
  detect: 2,
  powerPercent: 95,
  minSuccessRatePercent: 95,
  errorRateFloorPercent: 0.1,
  enforce: { errors: true, latency: true, evidence: true },
};
const tests = testsFor(settings);

const prng = mt19937.factory({ seed: SEED });
const uniform = (prng as unknown as { normalized: () => number }).normalized;
const binomial = binomialBase.factory({ prng: uniform });
/**
 * A binomial draw. Below n·p = 10 stdlib sums n Bernoulli draws (10 µs for n = 300), which would
 * dominate the run; there it is drawn by inversion of the CDF from one uniform of the same generator.
 */
function draw(n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n * p >= 10) return binomial(n, p);
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
}

interface Outcome {
  status: "pass" | "fail" | "inconclusive";
  t: number;
  requests: number;
}

function simulate(
  rps: number,
  share: number,
  base: number,
  regression: Regression,
  bake: number,
  plannedRequests: number,
): { old: Outcome; seq: Outcome } {
  const errRatio = regression === "x1.5" ? 1.5 : regression === "x3" ? 3 : regression === "x10" ? 10 : 1;
  const slowRatio = regression === "slow x10" ? 10 : 1;
  const pc = Math.min(1, base * errRatio);
  const sc = Math.min(1, SLOW_BASE * slowRatio);
  const perInterval = Math.round(rps * INTERVAL);

  let state = startStep(tests);
  let old: Outcome | null = null;
  let seq: Outcome | null = null;
  const cum = { c: { n: 0, e: 0 }, s: { n: 0, e: 0 } };
  let worstP99 = 0;
  let period = { n: 0, slow: 0 };
  for (let t = INTERVAL; t <= bake && (!old || !seq); t += INTERVAL) {
    const nc = draw(perInterval, share / 100);
    const ns = perInterval - nc;
    const canary = { requests: nc, errors: draw(nc, pc), slow: draw(nc, sc) };
    const stable = { requests: ns, errors: draw(ns, base), slow: draw(ns, SLOW_BASE) };
    const final = t + INTERVAL > bake;
    if (!seq) {
      state = addInterval(state, tests, { t, canary, stable });
      const v = verdict(state, tests, settings, { percent: share, plannedRequests, looks: bake / INTERVAL }, final);
      if (v.status !== "pending") seq = { status: v.status, t, requests: state.canary.requests };
    }
    if (!old) {
      cum.c.n += nc;
      cum.c.e += canary.errors;
      cum.s.n += ns;
      cum.s.e += stable.errors;
      period = { n: period.n + nc, slow: period.slow + canary.slow };
      if (t % 60 === 0) {
        // One 60-second period ends: its p99 is above the limit when more than 1 % of it was slow.
        if (period.n > 0) worstP99 = Math.max(worstP99, period.slow / period.n > 0.01 ? 1.5 : 0.5);
        period = { n: 0, slow: 0 };
      }
      const o: Observation = {
        canary: "green",
        stable: "blue",
        windowStart: new Date(0),
        windowEnd: new Date(t * 1000),
        completePeriod: t >= 180 || final,
        metrics: {
          elb5xx: 0,
          slots: {
            green: { requests: cum.c.n, target5xx: cum.c.e, p99Seconds: worstP99 || null },
            blue: { requests: cum.s.n, target5xx: cum.s.e, p99Seconds: 0.5 },
          },
        },
        alarms: { alarming: [], missing: [] },
      };
      const v = judge(o, oldLimits, final);
      if (v.status !== "pending") old = { status: v.status, t, requests: cum.c.n };
    }
  }
  return { old: old!, seq: seq! };
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1).padStart(5)} %`;

interface Row {
  cell: string;
  regression: Regression;
  bake: number;
  detectable: number | null;
  required: number;
  reachable: boolean;
  old: Outcome[];
  seq: Outcome[];
}
const rows: Row[] = [];
const t0 = performance.now();
for (const rps of grid.rps)
  for (const share of grid.share)
    for (const base of grid.base)
      for (const bake of grid.bake) {
        const plan = planSteps({
          rps,
          baseErrorRatePercent: base,
          steps: [{ percent: share, bakeSeconds: bake }],
          settings,
          publishDelaySeconds: 0,
          intervalSeconds: INTERVAL,
        })[0]!;
        for (const regression of grid.regression) {
          const row: Row = {
            cell: `${rps} rps, ${share} %, base ${base} %, bake ${bake} s`,
            regression,
            bake,
            detectable: plan.detectableRatio,
            required: plan.requiredRequests,
            reachable: plan.reachable,
            old: [],
            seq: [],
          };
          for (let r = 0; r < RUNS; r++) {
            const { old, seq } = simulate(rps, share, base / 100, regression, bake, plan.requiredRequests);
            row.old.push(old);
            row.seq.push(seq);
          }
          rows.push(row);
        }
      }
const seconds = (performance.now() - t0) / 1000;

console.log(
  `bench:analysis: ${RUNS} steps per cell, seed ${SEED}, ${rows.length} cells, ${(rows.length * RUNS).toLocaleString("en")} steps in ${seconds.toFixed(1)} s`,
);
console.log(
  `judges: old = today's thresholds (success ≥ 95 %, +1 point vs stable, p99 ≤ 1 s, ≥ 100 requests); new = sequential (false rollbacks ≤ 1 % per step, detect 2× with 95 % power)`,
);
console.log(
  `columns: rollback % (false rollbacks where there is no regression, detections otherwise), pass %, inconclusive %, median seconds to a decision; plan: smallest regression detectable, requests a pass needs`,
);
const fmt = (os: Outcome[]) => {
  const n = os.length;
  const f = os.filter((o) => o.status === "fail");
  return `${pct(f.length, n)} ${pct(os.filter((o) => o.status === "pass").length, n)} ${pct(os.filter((o) => o.status === "inconclusive").length, n)} ${String(median(os.map((o) => o.t))).padStart(4)} s`;
};
console.log(
  `${"cell".padEnd(38)} ${"regression".padEnd(9)} | ${"old: rollback  pass  inconcl  t".padEnd(36)} | ${"new: rollback  pass  inconcl  t".padEnd(36)} | plan`,
);
for (const r of rows) {
  console.log(
    `${r.cell.padEnd(38)} ${r.regression.padEnd(9)} | ${fmt(r.old).padEnd(36)} | ${fmt(r.seq).padEnd(36)} | ${r.detectable === null ? "none" : `${r.detectable}×`} / ${Number.isFinite(r.required) ? r.required : "∞"}`,
  );
}

// ------------------------------------------------------------------ targets
const failRate = (os: Outcome[]) => os.filter((o) => o.status === "fail").length / os.length;
const worst = (rs: Row[], f: (r: Row) => number, better: "low" | "high") =>
  rs.reduce((w, r) => (better === "low" ? (f(r) > f(w) ? r : w) : f(r) < f(w) ? r : w), rs[0]!);
const healthy = rows.filter((r) => r.regression === "none");
const wFalse = worst(healthy, (r) => failRate(r.seq), "low");
const oldFalse = worst(healthy, (r) => failRate(r.old), "low");
const detectable3 = rows.filter((r) => r.regression === "x3" && r.detectable !== null && r.detectable <= 3);
const wDetect = detectable3.length ? worst(detectable3, (r) => failRate(r.seq), "high") : null;
const x10 = rows.filter((r) => r.regression === "x10" && r.detectable !== null && r.detectable <= 10);
const lateX10 = x10.filter(
  (r) => median(r.seq.filter((o) => o.status === "fail").map((o) => o.t)) > r.bake / 2 || failRate(r.seq) < 0.5,
);
const underEvidence = rows.flatMap((r) => r.seq.filter((o) => o.status === "pass" && o.requests < r.required));
const check = (met: boolean, what: string) => console.log(`${met ? "MET    " : "NOT MET"} ${what}`);
console.log("");
check(
  failRate(wFalse.seq) <= 0.01,
  `false rollbacks ≤ 1 % in every cell without a regression: worst ${pct(failRate(wFalse.seq) * RUNS, RUNS).trim()} (${wFalse.cell}); old judge's worst ${pct(failRate(oldFalse.old) * RUNS, RUNS).trim()} (${oldFalse.cell})`,
);
check(
  wDetect !== null && failRate(wDetect.seq) >= 0.95,
  `≥ 95 % of ×3 regressions detected where the plan says ×3 is detectable: ${detectable3.length} cells, worst ${wDetect ? `${pct(failRate(wDetect.seq) * RUNS, RUNS).trim()} (${wDetect.cell})` : "none"}`,
);
check(
  lateX10.length === 0,
  `×10 regressions failed within the first half of the bake (median) in every cell where the plan detects them: ${x10.length - lateX10.length}/${x10.length} cells${
    lateX10.length
      ? `; late: ${lateX10
          .slice(0, 3)
          .map((r) => r.cell)
          .join("; ")}`
      : ""
  }`,
);
check(
  underEvidence.length === 0,
  `never a pass with fewer canary requests than the plan requires: ${underEvidence.length} such passes`,
);

// ------------------------------------------------------------------ replay speed
{
  const lines: string[] = [];
  for (let run = 0; run < 2500; run++) {
    for (let k = 1; k <= 10; k++) {
      const nc = draw(600, 0.1);
      lines.push(
        JSON.stringify({
          run: `r${run}`,
          step: 0,
          t: 30 * k,
          canary: { requests: nc, errors: draw(nc, 0.01), slow: draw(nc, SLOW_BASE) },
          stable: { requests: 600 - nc, errors: draw(600 - nc, 0.01), slow: draw(600 - nc, SLOW_BASE) },
        }),
      );
    }
  }
  const r0 = performance.now();
  const { lines: parsed, problems } = parseSeries(lines.join("\n"), "bench.jsonl", () => ({
    percent: 10,
    bakeSeconds: 300,
  }));
  const results = replaySeries(
    parsed,
    () => ({ percent: 10, bakeSeconds: 300, intervalSeconds: INTERVAL, publishDelaySeconds: 0 }),
    settings,
  );
  const ms = performance.now() - r0;
  console.log(
    `replay: ${parsed.length.toLocaleString("en")} polls in ${results.length} runs parsed and judged in ${(ms / 1000).toFixed(2)} s (${problems.length} problems)`,
  );
}
