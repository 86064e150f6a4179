/**
 * npm run bench:analysis — seeded whole rollouts of production's steps (10 % 300 s, 50 % 600 s,
 * 100 % 600 s, then the 900 s post-switch watch), one line per 60-second period
 * (test/support/rollout-sim.ts), judged by the judge before (test/bench/judge-before.ts: one judge
 * per step, the load balancer's 5xx charged to the canary, an inconclusive step rolled back) and by
 * today's judge (lib/release/judge: one judge per rollout, through the replay envctl runs), side by
 * side on the same traffic.
 *
 * Cells: healthy services with the load balancer's own 5xx at 0–50 % of the base rate, the stable
 * slot's 5xx a period late, a burst in both slots at once, a cold first minute, quiet and busy
 * services; regressions ×1.5, ×2, ×10 and response-time shifts. Per cell: rolled back, completed,
 * inconclusive (and pending), reached 100 %, and the median time to a rollback. Then a cell through
 * the live reads: CloudWatch publishing the stable slot's 5xx of each period one poll late.
 *
 * Options: --runs N (default 1000 per cell), --seed S (default 20261205), --quick (200 runs).
 */
import { analysePoll, startAnalysis } from "../../lib/release/judge/analysis.ts";
import { judgeRollout, type RolloutResult } from "../../lib/release/judge/replay.ts";
import type { WindowMetrics } from "../../lib/release/ports/index.ts";
import { type Cell, generator, PRODUCTION_SETTINGS, productionStep } from "../support/rollout-sim.ts";
import * as before from "./judge-before.ts";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const QUICK = process.argv.includes("--quick");
const RUNS = Number(arg("--runs") ?? (QUICK ? 200 : 1000));
const SEED = Number(arg("--seed") ?? 20261205);

const base = { rps: 100, base: 0.005 };
const cells: (Cell & { healthy: boolean })[] = [
  { name: "healthy", ...base, healthy: true },
  { name: "healthy, lb 5xx 10 % of base", ...base, elb: 0.1, healthy: true },
  { name: "healthy, lb 5xx 25 % of base", ...base, elb: 0.25, healthy: true },
  { name: "healthy, lb 5xx 50 % of base", ...base, elb: 0.5, healthy: true },
  { name: "healthy, stable 5xx a period late", ...base, late: true, healthy: true },
  { name: "healthy, cold first minute", ...base, cold: true, healthy: true },
  { name: "healthy, one burst ×20 both slots", ...base, burst: true, healthy: true },
  { name: "healthy, 20 rps", rps: 20, base: 0.005, healthy: true },
  { name: "healthy, 500 rps, lb 5xx 50 %", rps: 500, base: 0.005, elb: 0.5, healthy: true },
  { name: "×1.5", ...base, ratio: 1.5, healthy: false },
  { name: "×2", ...base, ratio: 2, healthy: false },
  { name: "×2, lb 5xx 50 % of base", ...base, ratio: 2, elb: 0.5, healthy: false },
  { name: "×2, 500 rps", rps: 500, base: 0.005, ratio: 2, healthy: false },
  { name: "×10", ...base, ratio: 10, healthy: false },
  { name: "latency ×2 (under the limit)", ...base, latency: 2, healthy: false },
  { name: "latency ×4 (under the limit)", ...base, latency: 4, healthy: false },
];

type Outcome = { verdict: RolloutResult["verdict"]; step: number; decidedAt: number | null };
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1).padStart(5)} %`;
/** Seconds into the rollout of a decision (steps 300, 600, 600 s before the watch). */
const STARTS = [0, 300, 900, 1500];
const when = (o: Outcome) => STARTS[o.step]! + (o.decidedAt ?? 0);

function row(os: Outcome[]): string {
  const n = os.length;
  const count = (v: string) => os.filter((o) => o.verdict === v).length;
  const rb = os.filter((o) => o.verdict === "rolled-back");
  const reached = os.filter((o) => o.step >= 2).length;
  const t = rb.length ? `${String(median(rb.map(when))).padStart(5)} s` : "    – ";
  return `${pct(rb.length, n)} ${pct(count("completed"), n)} ${pct(count("inconclusive") + count("pending"), n)} ${pct(reached, n)} ${t}`;
}

const t0 = performance.now();
const g = generator(SEED);
const results: { cell: (typeof cells)[number]; now: Outcome[]; old: Outcome[] }[] = [];
for (const cell of cells) {
  const now: Outcome[] = [];
  const old: Outcome[] = [];
  for (let r = 0; r < RUNS; r++) {
    const lines = g.rollout(`r${r}`, cell);
    now.push(judgeRollout(`r${r}`, lines, productionStep, PRODUCTION_SETTINGS, 2));
    old.push(before.replayBefore(lines, productionStep, PRODUCTION_SETTINGS, 2));
  }
  results.push({ cell, now, old });
}
const seconds = (performance.now() - t0) / 1000;

console.log(
  `bench:analysis: ${RUNS} rollouts per cell, seed ${SEED}, ${cells.length} cells, ${(cells.length * RUNS).toLocaleString("en")} rollouts of production's steps in ${seconds.toFixed(1)} s`,
);
console.log(
  "columns per judge: rolled back, completed, inconclusive or pending, reached 100 %, median time to a rollback (s into the rollout)",
);
console.log(
  `${"cell".padEnd(36)} | ${"before: rolled back  completed  inconcl  ≥100 %  t".padEnd(44)} | now: rolled back  completed  inconcl  ≥100 %  t`,
);
for (const r of results) console.log(`${r.cell.name.padEnd(36)} | ${row(r.old).padEnd(44)} | ${row(r.now)}`);

// ------------------------------------------------------------------ live reads, a series published late
{
  const runs = Math.min(RUNS, 500);
  const s0 = productionStep(0);
  const timing = { periodSeconds: 60, publishDelaySeconds: 120 };
  let oldFalse = 0;
  let nowFalse = 0;
  for (let r = 0; r < runs; r++) {
    const periods = g.rollout(`live${r}`, { name: "live", rps: 100, base: 0.005 }, [s0]);
    const bt = before.testsFor(PRODUCTION_SETTINGS);
    let bs = before.startStep(bt);
    let seen: Parameters<typeof before.newCounts>[0] = new Map();
    let a = startAnalysis(PRODUCTION_SETTINGS, s0, { enforceAlarms: true, timing, started: new Date(0) });
    let oldFailed = false;
    let nowFailed = false;
    for (let t = 30; t <= s0.bakeSeconds; t += 30) {
      // Periods that ended by t; the stable slot's 5xx of a period appear one poll (30 s) after its other series.
      const shown = periods
        .filter((p) => p.t <= t)
        .map((p) => {
          const start = new Date((p.t - 60) * 1000);
          const stableErrors = p.t + 30 <= t ? p.stable.errors : 0;
          const slot = (c: typeof p.canary, errors: number) => ({
            requests: c.requests,
            target5xx: errors,
            slow: c.slow,
            p99Seconds: 0.3,
          });
          return {
            start,
            elb5xx: p.lb?.errors ?? 0,
            slots: { green: slot(p.canary, p.canary.errors), blue: slot(p.stable, stableErrors) },
          };
        });
      const metrics: WindowMetrics = {
        periods: shown,
        elb5xx: 0,
        slots: {
          green: shown[0]?.slots.green ?? { requests: 0, target5xx: 0, slow: 0, p99Seconds: null },
          blue: shown[0]?.slots.blue ?? { requests: 0, target5xx: 0, slow: 0, p99Seconds: null },
        },
      };
      if (!oldFailed) {
        const n = before.newCounts(seen, metrics, "green", "blue");
        seen = n.seen;
        bs = before.addInterval(bs, bt, { t, canary: n.canary, stable: n.stable });
        oldFailed =
          before.verdict(bs, bt, PRODUCTION_SETTINGS, { percent: 10, plannedRequests: 0, looks: 6 }, false).status ===
          "fail";
      }
      const o = {
        canary: "green" as const,
        stable: "blue" as const,
        windowStart: new Date(0),
        windowEnd: new Date(t * 1000),
        metrics,
        alarms: { alarming: [], missing: [], states: [] },
      };
      const polled = analysePoll(a, o, false);
      a = polled.analysis;
      nowFailed ||= polled.verdict.status === "fail";
    }
    if (oldFailed) oldFalse++;
    if (nowFailed) nowFalse++;
  }
  console.log("");
  console.log(
    `live reads, the stable slot's 5xx published one poll late (${runs} healthy first steps, 100 rps, 0.5 %): rolled back before ${pct(oldFalse, runs).trim()}, now ${pct(nowFalse, runs).trim()}`,
  );
}

// ------------------------------------------------------------------ targets
const find = (name: string) => results.find((r) => r.cell.name === name)!;
const share = (os: Outcome[], v: string) => os.filter((o) => o.verdict === v).length / os.length;
const healthy = results.filter((r) => r.cell.healthy && !r.cell.burst);
const worstFalse = healthy.reduce(
  (w, r) => (share(r.now, "rolled-back") > share(w.now, "rolled-back") ? r : w),
  healthy[0]!,
);
const check = (met: boolean, what: string) => console.log(`${met ? "MET    " : "NOT MET"} ${what}`);
const x10 = find("×10").now;
console.log("");
check(
  share(find("healthy").now, "completed") >= 0.95,
  `a healthy 100 rps service at 0.5 % completes ≥ 95 %: ${pct(share(find("healthy").now, "completed") * RUNS, RUNS).trim()} (before ${pct(share(find("healthy").old, "completed") * RUNS, RUNS).trim()})`,
);
check(
  share(worstFalse.now, "rolled-back") <= 0.01,
  `false rollbacks per rollout ≤ 1 % in every healthy cell (lb 5xx up to 50 %; the burst cell is shown above): worst ${pct(share(worstFalse.now, "rolled-back") * RUNS, RUNS).trim()} (${worstFalse.cell.name})`,
);
const x2 = find("×2").now;
check(
  x2.filter((o) => o.step >= 2).length / RUNS <= 0.05,
  `P(×2 reaches 100 %) ≤ 5 %: ${pct(x2.filter((o) => o.step >= 2).length, RUNS).trim()} (before ${pct(find("×2").old.filter((o) => o.step >= 2).length, RUNS).trim()})`,
);
check(
  x10.every((o) => o.verdict === "rolled-back" && o.step === 0 && (o.decidedAt ?? 999) <= 150),
  `×10 rolled back within the first half of the first step: ${x10.filter((o) => o.step === 0 && (o.decidedAt ?? 999) <= 150).length}/${RUNS}, median ${median(x10.map(when))} s`,
);
const lat = find("latency ×4 (under the limit)");
check(
  share(lat.now, "rolled-back") >= 0.95,
  `a 4× latency shift under the limit fails ≥ 95 %: ${pct(share(lat.now, "rolled-back") * RUNS, RUNS).trim()} (before ${pct(share(lat.old, "rolled-back") * RUNS, RUNS).trim()})`,
);
