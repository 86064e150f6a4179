/**
 * The canary judge outside a rollout and before it: `envctl analysis plan` (the traffic plan, from
 * --rps or CloudWatch's hourly history), the plan gate of `envctl rollout` (refused, --ignore-plan,
 * observe-only evidence, resumed without history), and `envctl analysis replay` (recorded rollouts
 * and series files judged again with other settings). In process, against fakes of the ALB,
 * CloudWatch and the clock.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main, type Deps } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { slotAlarmNames } from "../lib/constructs/naming.ts";
import { AnalysisSchema, judgeSettings } from "../lib/release/policy.ts";
import { planSteps, quietestHour, windowHours } from "../lib/release/traffic-plan.ts";
import { FakeAlarms, FakeAlb, FakeClock, FakeMetrics, FakeTrafficHistory, metrics, steady } from "./support/fakes.ts";
import { STACK_TRACE, treeDigest } from "./support/cli.ts";
import { tempProject } from "./support/project.ts";

function harness(edit?: (dir: string) => void) {
  const dir = tempProject(edit);
  const out: string[] = [];
  const err: string[] = [];
  const alb = new FakeAlb();
  const cw = new FakeMetrics();
  const alarms = new FakeAlarms(Object.fromEntries(["dev", "staging", "production"].flatMap((e) => ["blue", "green"].flatMap((s) => slotAlarmNames(e, s as "blue"))).map((n) => [n, "OK"])));
  const clock = new FakeClock();
  const history = new FakeTrafficHistory();
  const fetched: string[] = [];
  const deployed: string[][] = [];
  let controller = new AbortController();
  const deps = (): Deps => ({
    cwd: dir,
    env: { ...process.env, GITHUB_ACTOR: "ci-bot", CI: "1" },
    deployer: { deploy: async (stacks) => { deployed.push([...stacks]); for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, "")); } },
    traffic: () => alb,
    metrics: () => cw,
    alarms: () => alarms,
    trafficHistory: () => history,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    smoke: { fetch: async (url) => { fetched.push(url); return { status: 200, text: async () => "ok" }; }, sleep: async () => undefined },
    progress: new PlainProgress((l) => err.push(l), clock.now),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    clock,
    signal: controller.signal,
  });
  const releases = join(dir, "environments/releases");
  return {
    dir, out, err, alb, cw, clock, history, fetched, deployed,
    abort: (why: string) => controller.abort(new Error(why)),
    newProcess: () => { controller = new AbortController(); },
    run: async (...args: string[]) => {
      out.length = 0;
      err.length = 0;
      return main(["node", "envctl", ...args], deps());
    },
    text: () => [...out, ...err].join("\n"),
    release: (env = "staging") => JSON.parse(readFileSync(join(releases, `${env}.json`), "utf8")),
    audit: (env = "staging") => readFileSync(join(releases, `${env}.audit.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l)),
    write: (name: string, text: string) => writeFileSync(join(dir, name), text),
  };
}

/** staging with 1.5.0 promoted from dev into its idle slot (green). */
async function stagingWithCandidate(edit?: (dir: string) => void) {
  const h = harness(edit);
  expect(await h.run("promote", "dev", "staging", "--version", "1.5.0")).toBe(0);
  h.deployed.length = 0;
  return h;
}

const editStaging = (from: string, to: string) => (dir: string) => {
  const f = join(dir, "environments/staging.ts");
  const text = readFileSync(f, "utf8");
  expect(text).toContain(from);
  writeFileSync(f, text.replace(from, to));
};

const staging = AnalysisSchema.parse({ minSuccessRatePercent: 95, postSwitchWatchSeconds: 300 });
const stagingSteps = [{ percent: 50, bakeSeconds: 300 }, { percent: 100, bakeSeconds: 300 }];

describe("envctl analysis plan", () => {
  it("--rps and --error-rate: the numbers are planSteps', each step with what it needs, detects and takes", async () => {
    const h = harness();
    expect(await h.run("analysis", "plan", "staging", "--rps", "20", "--error-rate", "0.5", "--json")).toBe(0);
    const json = JSON.parse(h.out.join("\n"));
    const expected = planSteps({ rps: 20, baseErrorRatePercent: 0.5, steps: stagingSteps, settings: judgeSettings(staging), publishDelaySeconds: 120, intervalSeconds: 30 });
    expect(json).toMatchObject({ environment: "staging", rps: 20, rpsSource: "--rps 20", baseErrorRatePercent: 0.5 });
    expect(json.steps).toEqual(expected.map((s, i) => ({ ...s, canaryStep: i })));
    expect(h.history.queries).toEqual([]); // both given: CloudWatch is not asked
    expect(await h.run("analysis", "plan", "staging", "--rps", "20", "--error-rate", "0.5")).toBe(0);
    const text = h.out.join("\n");
    const [first] = expected;
    expect(text).toContain("traffic: 20 requests/s (--rps 20)");
    expect(text).toContain("stable error rate: 0.5 % (--error-rate 0.5)");
    expect(text).toContain(`step 1 (50 %), bake 300 s: expects ${first!.expectedCanaryRequests} canary requests; a pass needs ${first!.requiredRequests} to detect 2× a 0.5 % error rate with 95 % power: CANNOT REACH A VERDICT`);
    expect(text).toContain(`detects ${Number(first!.detectableRatio!.toPrecision(3))}× with 95 % power; a pass after 300 s (the bake); a 2× regression fails after ~${first!.failAfterSeconds} s`);
    expect(text).toContain(`fix: ${first!.fix}`);
    expect(text).toMatch(/step 2 \(100 %\), bake 300 s: expects 3600 canary requests; a pass needs \d+ to detect a 10 % error rate against the 5 % limit/);
    expect(text).toContain("detects nothing against the stable slot (no stable traffic at 100 %: judged against the limits)");
  });

  it("from CloudWatch: the quietest hour among the hours the rollout runs in, not outside them; the error rate never below the floor", async () => {
    const h = harness();
    // 10:00 now; staging's rollout takes 300 + 300 s and a 300 s watch: the 10:00–10:15 window
    h.history.perHour = (t) => {
      if (t.getUTCHours() === 3) return { requests: 3600, errors: 0 }; // 1 request/s at 03:00: outside the window
      if (t.getUTCHours() === 10) return t.getUTCDate() === 19 ? { requests: 36_000, errors: 0 } : { requests: 72_000, errors: 0 };
      return { requests: 360_000, errors: 36 };
    };
    expect(await h.run("analysis", "plan", "staging", "--json")).toBe(0);
    const json = JSON.parse(h.out.join("\n"));
    expect(json.rps).toBe(10);
    expect(json.rpsSource).toBe("quietest hour of the last 7 days in the 10:00–10:15 UTC window (2026-11-19T10:00 UTC): 10 requests/s");
    expect(json.baseErrorRatePercent).toBe(0.1); // 0.009 % measured, the floor 0.1 %
    expect(json.baseErrorRateSource).toMatch(/^the floor errorRateFloorPercent 0\.1 % \(target 5xx of the last 7 days: 0\.00\d+ %\)$/);
    expect(h.history.queries).toEqual([{ loadBalancer: "app/x-alb/50dc6c495c0c9188", start: new Date("2026-11-15T10:00:00Z"), end: new Date("2026-11-22T10:00:00Z") }]);
  });

  it("the window wraps at midnight and is every hour from 24 h on; hours without a data point had no requests", () => {
    expect(windowHours(new Date("2026-11-22T23:50:00Z"), 900)).toEqual([23, 0]);
    expect(windowHours(new Date("2026-11-22T10:00:00Z"), 86_400)).toHaveLength(24);
    const hour = (iso: string, requests: number) => ({ start: new Date(iso), requests, errors: 0 });
    const history = [hour("2026-11-20T22:00:00Z", 7200), hour("2026-11-20T23:00:00Z", 3600), hour("2026-11-21T01:00:00Z", 10)];
    // 00:00 of the 21st has no data point: no requests then, the quietest of [23, 0]
    expect(quietestHour(history, [23, 0], new Date("2026-11-21T02:00:00Z"))).toEqual({ start: new Date("2026-11-21T00:00:00Z"), requests: 0, rps: 0 });
    expect(quietestHour(history, [22], new Date("2026-11-21T02:00:00Z"))?.rps).toBe(2);
    expect(quietestHour([], [22], new Date())).toBeNull();
  });

  it("fails closed without history: a clear error asking for --rps, exit 1, nothing written", async () => {
    const h = harness();
    const before = treeDigest(h.dir);
    h.history.fail = true;
    expect(await h.run("analysis", "plan", "staging")).toBe(1);
    expect(h.err.join("\n")).toBe("error: staging: no traffic plan: could not read the load balancer's request history from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566); pass --rps <requests per second> (and --error-rate <percent>) to plan with a rate you know");
    h.history.fail = false;
    h.history.perHour = () => null;
    expect(await h.run("analysis", "plan", "staging")).toBe(1);
    expect(h.err.join("\n")).toContain("staging: no traffic plan: CloudWatch holds no RequestCount of its load balancer in the last 7 days; pass --rps");
    expect(h.text()).not.toMatch(STACK_TRACE);
    // --rps alone: the error rate cannot be read, so the floor (the largest requirement) is assumed
    h.history.fail = true;
    expect(await h.run("analysis", "plan", "staging", "--rps", "20")).toBe(0);
    expect(h.out.join("\n")).toContain("stable error rate: 0.1 % (the floor errorRateFloorPercent 0.1 % (CloudWatch could not be read (connect ECONNREFUSED");
    expect(treeDigest(h.dir)).toEqual(before);
  });

  it("validates its arguments, naming the flag and the rule", async () => {
    const h = harness();
    expect(await h.run("analysis", "plan", "staging", "--rps", "0x20", "--error-rate", "101")).toBe(1);
    expect(h.err.join("\n")).toContain("analysis plan: --rps must be 0.001-1000000 requests per second (a decimal number, e.g. 12.5)");
    expect(h.err.join("\n")).toContain("analysis plan: --error-rate must be 0-100 % (a decimal number, e.g. 12.5)");
    expect(await h.run("analysis", "plan", "stagign", "--rps", "5")).toBe(1);
    expect(h.err.join("\n")).toContain("unknown environment stagign: did you mean staging?");
  });
});

describe("envctl rollout and its traffic plan", () => {
  it("prints the plan first and passes its requirements to the judge", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging")).toBe(0);
    expect(h.text()).toMatch(/staging: traffic plan \(a pass must have been able to detect 2× the stable error rate with 95 % power\)\n.*traffic: quietest hour of the last 7 days in the 10:00–10:15 UTC window \(2026-11-1\dT10:00 UTC\): 1000 requests\/s/);
    const plan = planSteps({ rps: 1000, baseErrorRatePercent: 1, steps: stagingSteps, settings: judgeSettings(staging), publishDelaySeconds: 120, intervalSeconds: 30 });
    const analyses = h.audit().filter((a) => a.analysis).map((a) => [a.analysis.step, a.analysis.plannedRequests]);
    expect(analyses).toEqual([[0, plan[0]!.requiredRequests], [1, plan[1]!.requiredRequests], ["watch", 0]]);
    expect(h.audit().find((a) => a.outcome === "rollout-started").note).toBeUndefined();
    // status: the last analysis with its evidence, the requirement and the plan's
    expect(await h.run("status", "staging")).toBe(0);
    expect(h.out.join("\n")).toMatch(/last analysis \(.*\): post-switch watch: PASS \| canary green: 15000 requests, 150 5xx \(1 %\), 0 slow, p99 0\.2 s \| stable blue: .* \| evidence\/bound errors vs stable \S+\/250, errors vs limit \S+\/1000, slow vs stable \S+\/250, slow vs limit \S+\/1000 \| a pass needs 934 canary requests to detect a 10 % error rate against the 5 % limit with 95 % power \| 10 polls/);
  });

  it("refuses to start when a step cannot reach a verdict, naming the environment, the step and the fix; nothing written", async () => {
    const h = await stagingWithCandidate();
    const before = treeDigest(h.dir);
    expect(await h.run("rollout", "staging", "--rps", "10")).toBe(1);
    const text = h.err.join("\n");
    expect(text).toContain("error: staging: rollout refused by its traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (--rps 10); nothing was changed");
    expect(text).toMatch(/  step 1 \(50 %\): expects 900 canary requests in its 300 s bake, a pass needs \d+; fix: needs a bake of \d+ s/);
    expect(text).toContain("start anyway with --ignore-plan (recorded in the history), or make the evidence observe-only for staging (release.analysis.enforce: { evidence: false })");
    expect(text).not.toMatch(STACK_TRACE);
    expect(treeDigest(h.dir)).toEqual(before);
    expect(h.deployed).toEqual([]);
    expect(h.fetched).toEqual([]); // not even the smoke checks
    // the same from the history: a quiet load balancer
    h.history.perHour = () => ({ requests: 10 * 3600, errors: 360 });
    expect(await h.run("rollout", "staging")).toBe(1);
    expect(h.err.join("\n")).toContain("staging: rollout refused by its traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (quietest hour of the last 7 days in the 10:00–10:15 UTC window");
    // and without any history: fail closed
    h.history.fail = true;
    expect(await h.run("rollout", "staging")).toBe(1);
    expect(h.err.join("\n")).toContain("staging: no traffic plan: could not read the load balancer's request history from CloudWatch");
    expect(treeDigest(h.dir)).toEqual(before);
  });

  it("--ignore-plan starts anyway and records the override with the rollout-started change", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging", "--rps", "10", "--ignore-plan")).toBe(0);
    expect(h.text()).toContain("staging: step 1 (50 %) cannot reach a verdict at 10 requests/s; starting anyway (--ignore-plan: recorded in the history)");
    const started = h.audit().find((a) => a.outcome === "rollout-started");
    expect(started).toMatchObject({ command: "envctl rollout staging --ignore-plan", note: "started against the traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (--ignore-plan)" });
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
    expect(h.text()).toMatch(/staging: step 1 \(50 %\): PASS \| .* \| a pass needs 8941 canary requests to detect 2× a 1 % error rate with 95 % power \| the traffic plan required 8941 \| 10 polls/);
  });

  it("goes on with a note when the environment's evidence is observe-only", async () => {
    const h = await stagingWithCandidate(editStaging("analysis: { minSuccessRatePercent: 95,", "analysis: { enforce: { evidence: false }, minSuccessRatePercent: 95,"));
    expect(await h.run("rollout", "staging", "--rps", "10")).toBe(0);
    expect(h.text()).toContain("staging: traffic plan (a pass must have been able to detect 2× the stable error rate with 95 % power; evidence observe-only)");
    expect(h.text()).toContain("staging: step 1 (50 %) cannot reach a verdict at 10 requests/s; starting anyway (evidence observe-only: an inconclusive step passes, noted in its analysis)");
    expect(h.audit().find((a) => a.outcome === "rollout-started").note).toBe("started against the traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (evidence observe-only)");
  });

  it("--dry-run shows the plan; with --json as trafficPlan", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging", "--dry-run", "--rps", "3")).toBe(0);
    expect(h.out.join("\n")).toMatch(/^staging: traffic plan [\s\S]*CANNOT REACH A VERDICT[\s\S]*would roll out green \(1\.5\.0\) in staging/);
    expect(await h.run("rollout", "staging", "--dry-run", "--json")).toBe(0);
    const dry = JSON.parse(h.out.join("\n"));
    expect(dry.trafficPlan).toMatchObject({ environment: "staging", rps: 1000, steps: [{ canaryStep: 0, percent: 50, reachable: true }, { canaryStep: 1, percent: 100, reachable: true }] });
    h.history.fail = true;
    expect(await h.run("rollout", "staging", "--dry-run", "--json")).toBe(0);
    expect(JSON.parse(h.out.join("\n")).trafficPlan.error).toContain("staging: no traffic plan: could not read");
  });

  it("resuming never refuses: without history the steps are judged without planned requests, and it says so", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = (q, n) => {
      if (n === 2) h.abort("SIGTERM");
      return steady()(q);
    };
    expect(await h.run("rollout", "staging", "--on-interrupt", "leave")).toBe(8);
    h.newProcess();
    h.cw.traffic = steady();
    h.history.fail = true;
    expect(await h.run("rollout", "staging")).toBe(0);
    expect(h.text()).toContain("staging: no traffic plan: could not read the load balancer's request history from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566); the steps are judged without planned requests (pass --rps to plan)");
    expect(h.audit().filter((a) => a.analysis).map((a) => a.analysis.plannedRequests)).toEqual([0, 0, 0]);
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
  });
});

const line = (run: string, step: number, t: number, canary: [number, number, number?], stable: [number, number, number?]) =>
  JSON.stringify({ run, step, t, canary: { requests: canary[0], errors: canary[1], slow: canary[2] ?? 0 }, stable: { requests: stable[0], errors: stable[1], slow: stable[2] ?? 0 } });

describe("envctl analysis replay", () => {
  it("re-judges a recorded rollout: the same verdicts as recorded; --set detect=10 changes the requirement", async () => {
    // 10 requests a second per slot: staging's 50 % step gets 3000 canary requests, fewer than a 2× detection needs
    const h = await stagingWithCandidate();
    h.cw.traffic = steady(10);
    expect(await h.run("rollout", "staging", "--ignore-plan")).toBe(3);
    const recorded = h.audit().filter((a) => a.analysis?.intervals);
    expect(recorded.map((a) => [a.outcome, a.analysis.verdict])).toEqual([["rolled-back", "inconclusive"]]);
    // a healthy one after it
    h.cw.traffic = steady();
    expect(await h.run("rollout", "staging")).toBe(0);
    const all = h.audit().filter((a) => a.analysis?.intervals);
    expect(all.map((a) => a.analysis.verdict)).toEqual(["inconclusive", "pass", "pass", "pass"]);

    expect(await h.run("analysis", "replay", "staging", "--json")).toBe(0);
    const lines = h.out.map((l) => JSON.parse(l));
    expect(lines.map((l) => Object.keys(l))).toEqual(all.map(() => ["run", "step", "verdict", "decidedAt", "reasons"]));
    expect(lines.map((l) => [l.run, l.step, l.verdict, l.decidedAt])).toEqual(all.map((a) => [
      `change ${a.seq} ${a.analysis.step === "watch" ? "watch" : `step ${a.analysis.step}`}`, a.analysis.step, a.analysis.verdict, 300,
    ]));
    expect(lines[0].reasons).toEqual(all[0].analysis.reasons);

    expect(await h.run("analysis", "replay", "staging", "--set", "detect=10")).toBe(0);
    const text = h.out.join("\n");
    expect(text).toContain("staging: 4 runs judged again with the environment's analysis settings (falseRollbackPercent 1, detect 2, powerPercent 95, minSuccessRatePercent 95, errorRateFloorPercent 0.1) and --set detect=10");
    expect(text).toContain(`  change ${all[0].seq} step 0 (50 %): PASS at t = 300 s; recorded then: INCONCLUSIVE (${all[0].analysis.reasons[0]}) — differs`);
    expect(text).toContain(`  change ${all[1].seq} step 0 (50 %): PASS at t = 300 s; recorded then: PASS`);

    // --change: the rollout that change belongs to
    const started = h.audit().filter((a) => a.outcome === "rollout-started").map((a) => a.seq);
    expect(await h.run("analysis", "replay", "staging", "--change", String(started[0]), "--json")).toBe(0);
    expect(h.out.map((l) => JSON.parse(l).run)).toEqual([`change ${all[0].seq} step 0`]);
    expect(await h.run("analysis", "replay", "staging", "--change", String(all[2].seq), "--json")).toBe(0);
    expect(h.out.map((l) => JSON.parse(l).run)).toEqual(all.slice(1).map((a) => `change ${a.seq} ${a.analysis.step === "watch" ? "watch" : `step ${a.analysis.step}`}`));
    expect(await h.run("analysis", "replay", "staging", "--change", "999")).toBe(1);
    expect(h.err.join("\n")).toMatch(/^error: staging: no change 999 in the history \(changes 1–\d+\)$/);
    expect(await h.run("analysis", "replay", "staging", "--change", "1")).toBe(1);
    expect(h.err.join("\n")).toContain("staging: no analysis with recorded polls in change 1 (deploying), which is no part of a rollout: nothing to replay");
  });

  it("--series: each run judged with the step's settings, exactly one JSON line per run", async () => {
    const h = harness();
    const healthy = Array.from({ length: 10 }, (_, i) => line("healthy", 0, 30 * (i + 1), [1500, 15], [1500, 15]));
    const failing = [line("bad", 0, 30, [500, 0], [500, 0]), line("bad", 0, 60, [500, 40], [500, 0]), line("bad", 0, 90, [500, 40], [500, 0])];
    const short = [line("short", 1, 30, [100, 0], [0, 0])];
    h.write("polls.jsonl", [...healthy, ...failing, ...short].join("\n") + "\n");
    expect(await h.run("analysis", "replay", "staging", "--series", "polls.jsonl", "--json")).toBe(0);
    const lines = h.out.map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({ run: "healthy", step: 0, verdict: "pass", decidedAt: 300, reasons: [] });
    expect(lines[1]).toMatchObject({ run: "bad", step: 0, verdict: "fail", decidedAt: 60 });
    expect(lines[1].reasons[0]).toMatch(/^errors vs stable: evidence \S+ ≥ bound 250 \(canary 40\/1000 5xx, stable 0\/1000\)/);
    expect(lines[2]).toEqual({ run: "short", step: 1, verdict: "pending", decidedAt: null, reasons: ["the series ends at t = 30 s, before the 300 s bake, without a decision"] });
    expect(await h.run("analysis", "replay", "staging", "--series", "polls.jsonl", "--set", "bakeSeconds=30")).toBe(0);
    expect(h.out.join("\n")).toMatch(/  run "short" step 1 \(100 %\): INCONCLUSIVE at t = 30 s: the canary served 100 requests; \d+ are needed/);
  });

  it("bad series input: every problem named by file and line, nothing judged, exit 1", async () => {
    const h = harness();
    const cases: [string, string[], RegExp][] = [
      ["unknown step", [line("r", 5, 30, [10, 0], [10, 0])], /^  bad\.jsonl:1: step: no canary step 5: staging has 2 \(release\.canary\[0\]–\[1\]\)$/m],
      ["negative counts", [line("r", 0, 30, [-1, 0], [10, 0])], /^  bad\.jsonl:1: canary\.requests: must not be negative$/m],
      ["errors over requests", [line("r", 0, 30, [10, 0], [10, 0]), line("r", 0, 60, [10, 11], [10, 0])], /^  bad\.jsonl:2: canary\.errors: must not exceed requests \(10\)$/m],
      ["t out of order", [line("r", 0, 60, [10, 0], [10, 0]), line("r", 0, 30, [10, 0], [10, 0])], /^  bad\.jsonl:2: t: 30 is not after 60 \(line 1\): a run's lines must come in time order$/m],
      ["not JSON", ["{oops"], /^  bad\.jsonl:1: not JSON \(/m],
    ];
    for (const [what, lines, problem] of cases) {
      h.write("bad.jsonl", lines.join("\n"));
      expect(await h.run("analysis", "replay", "staging", "--series", "bad.jsonl", "--json"), what).toBe(1);
      expect(h.out, what).toEqual([]);
      expect(h.err.join("\n"), what).toMatch(/^error: analysis replay staging: bad\.jsonl is not a valid series \(1 problem\), nothing was judged:\n/);
      expect(h.err.join("\n"), what).toMatch(problem);
    }
    // all at once (one run per case)
    h.write("bad.jsonl", cases.flatMap(([, l], k) => l.map((x) => x.replace('"run":"r"', `"run":"r${k}"`))).join("\n"));
    expect(await h.run("analysis", "replay", "staging", "--series", "bad.jsonl")).toBe(1);
    expect(h.err.join("\n")).toContain("is not a valid series (5 problems)");
    expect(h.err.join("\n").split("\n").slice(1).map((l) => /^  bad\.jsonl:(\d+): /.exec(l)?.[1])).toEqual(["1", "2", "4", "6", "7"]);
    expect(await h.run("analysis", "replay", "staging", "--series", "missing.jsonl")).toBe(1);
    expect(h.err.join("\n")).toBe("error: analysis replay: --series missing.jsonl: no such file");
    expect(h.text()).not.toMatch(STACK_TRACE);
  });

  it("--set: keys and values checked against the analysis policy's rules, all at once; nothing judged", async () => {
    const h = harness();
    expect(await h.run("analysis", "replay", "staging", "--set", "detect=1", "--set", "minRequests=20", "--set", "enforce.errors=maybe", "--set", "bakeSeconds=1.5", "--set", "powerPercent", "--set", "detect=3")).toBe(1);
    const text = h.err.join("\n");
    expect(text).toContain("error: invalid arguments:");
    expect(text).toContain("analysis replay: --set detect must be ≥ 1.1");
    expect(text).toContain("analysis replay: --set minRequests is not a setting the judge replays with (keys: falseRollbackPercent, detect, powerPercent, minSuccessRatePercent, errorRateFloorPercent, enforce.errors, enforce.latency, enforce.evidence, bakeSeconds)");
    expect(text).toContain("analysis replay: --set enforce.errors must be true or false");
    expect(text).toContain("analysis replay: --set bakeSeconds must be a whole number");
    expect(text).toContain("analysis replay: --set powerPercent must be key=value");
    expect(text).toContain("analysis replay: --set detect is set more than once");
    expect(h.out).toEqual([]);
    expect(await h.run("analysis", "replay", "staging", "--change", "2", "--series", "x.jsonl")).toBe(1);
    expect(h.err.join("\n")).toContain("--change and --series exclude each other");
  });
});
