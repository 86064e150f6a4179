/**
 * The traffic plan: `envctl analysis plan` (from --rps or CloudWatch's hourly history) and the plan
 * gate of `envctl rollout` (refused, --ignore-plan, observe-only evidence, dry run, resumed without
 * history). In process, against fakes of the ALB, CloudWatch and the clock.
 */
import { describe, expect, it } from "vitest";
import { planSteps, quietestHour, windowHours } from "../lib/release/judge/traffic-plan.ts";
import { judgeSettings } from "../lib/release/model/policy.ts";
import { editStaging, harness, staging, stagingSteps, stagingWithCandidate } from "./support/analysis-harness.ts";
import { STACK_TRACE, treeDigest } from "./support/cli.ts";
import { steady } from "./support/fakes.ts";

describe("envctl analysis plan", () => {
  it("--rps and --error-rate: the numbers are planSteps', each step with what it needs, detects and takes", async () => {
    const h = harness();
    expect(await h.run("analysis", "plan", "staging", "--rps", "20", "--error-rate", "0.5", "--json")).toBe(0);
    const json = JSON.parse(h.out.join("\n"));
    const expected = planSteps({
      rps: 20,
      baseErrorRatePercent: 0.5,
      steps: stagingSteps,
      settings: judgeSettings(staging),
      publishDelaySeconds: 120,
      intervalSeconds: 30,
    });
    expect(json).toMatchObject({ environment: "staging", rps: 20, rpsSource: "--rps 20", baseErrorRatePercent: 0.5 });
    expect(json.steps).toEqual(expected.map((s, i) => ({ ...s, canaryStep: i })));
    expect(h.history.queries).toEqual([]); // both given: CloudWatch is not asked
    expect(await h.run("analysis", "plan", "staging", "--rps", "20", "--error-rate", "0.5")).toBe(0);
    const text = h.out.join("\n");
    const [first] = expected;
    expect(text).toContain("traffic: 20 requests/s (--rps 20)");
    expect(text).toContain("stable error rate: 0.5 % (--error-rate 0.5)");
    const pct = (x: number) => `${Number(x.toPrecision(3))} %`;
    expect(text).toContain(
      `step 1 (50 %), bake 300 s: expects ${first!.expectedCanaryRequests} canary requests; a healthy canary passes with ${pct(first!.passPercent)}, a 2× regression ${pct(first!.detectPassPercent!)} (needs ${first!.requiredRequests} by its end, earlier steps' included, for the canary's error ratio to be bounded below 2× with 95 % confidence): CANNOT REACH A VERDICT`,
    );
    expect(first!.passPercent).toBeLessThan(95);
    expect(text).toContain(
      `detects ${Number(first!.detectableRatio!.toPrecision(3))}× by its end with 95 % power; a pass after 300 s (the bake)`,
    );
    expect(text).toContain(`fix: ${first!.fix}`);
    expect(text).toMatch(
      /step 2 \(100 %\), bake 300 s: expects \d+ canary requests; a healthy canary passes with \S+ % \(needs \S+ by its end, earlier steps' included, for the canary's error rate to be bounded below 2 × the 5 % limit with 95 % confidence\)/,
    );
    expect(text).toMatch(/ {2}a 2× regression reaches 100 % with at most \S+ %$/m);
  });

  it("from CloudWatch: the quietest hour among the hours the rollout runs in, not outside them; the error rate never below the floor", async () => {
    const h = harness();
    // 10:00 now; staging's rollout takes 300 + 300 s and a 300 s watch: the 10:00–10:15 window
    h.history.perHour = (t) => {
      if (t.getUTCHours() === 3) return { requests: 3600, errors: 0 }; // 1 request/s at 03:00: outside the window
      if (t.getUTCHours() === 10)
        return t.getUTCDate() === 19 ? { requests: 36_000, errors: 0 } : { requests: 72_000, errors: 0 };
      return { requests: 360_000, errors: 36 };
    };
    expect(await h.run("analysis", "plan", "staging", "--json")).toBe(0);
    const json = JSON.parse(h.out.join("\n"));
    expect(json.rps).toBe(10);
    expect(json.rpsSource).toBe(
      "quietest hour of the last 7 days in the 10:00–10:15 UTC window (2026-11-19T10:00 UTC): 10 requests/s",
    );
    expect(json.baseErrorRatePercent).toBe(0.1); // 0.009 % measured, the floor 0.1 %
    expect(json.baseErrorRateSource).toMatch(
      /^the floor errorRateFloorPercent 0\.1 % \(target 5xx of the last 7 days: 0\.00\d+ %\)$/,
    );
    expect(h.history.queries).toEqual([
      {
        loadBalancer: "app/x-alb/50dc6c495c0c9188",
        start: new Date("2026-11-15T10:00:00Z"),
        end: new Date("2026-11-22T10:00:00Z"),
      },
    ]);
  });

  it("the window wraps at midnight and is every hour from 24 h on; hours without a data point had no requests", () => {
    expect(windowHours(new Date("2026-11-22T23:50:00Z"), 900)).toEqual([23, 0]);
    expect(windowHours(new Date("2026-11-22T10:00:00Z"), 86_400)).toHaveLength(24);
    expect(windowHours(new Date("2026-11-22T10:00:00Z"), 3600)).toEqual([10]);
    expect(windowHours(new Date("2026-11-22T10:30:00Z"), 3600)).toEqual([10, 11]);
    expect(windowHours(new Date("2026-11-22T22:00:00Z"), 23 * 3600)).toEqual([
      22,
      23,
      ...Array.from({ length: 21 }, (_, h) => h),
    ]);
    const hour = (iso: string, requests: number) => ({ start: new Date(iso), requests, errors: 0 });
    const history = [
      hour("2026-11-20T22:00:00Z", 7200),
      hour("2026-11-20T23:00:00Z", 3600),
      hour("2026-11-21T01:00:00Z", 10),
    ];
    // 00:00 of the 21st has no data point: no requests then, the quietest of [23, 0]
    expect(quietestHour(history, [23, 0], new Date("2026-11-21T02:00:00Z"))).toEqual({
      start: new Date("2026-11-21T00:00:00Z"),
      requests: 0,
      rps: 0,
    });
    expect(quietestHour(history, [22], new Date("2026-11-21T02:00:00Z"))?.rps).toBe(2);
    expect(quietestHour([], [22], new Date())).toBeNull();
  });

  it("fails closed without history: a clear error asking for --rps, exit 1, nothing written", async () => {
    const h = harness();
    const before = treeDigest(h.dir);
    h.history.fail = true;
    expect(await h.run("analysis", "plan", "staging")).toBe(1);
    expect(h.err.join("\n")).toBe(
      "error: staging: no traffic plan: could not read the load balancer's request history from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566); pass --rps <requests per second> (and --error-rate <percent>) to plan with a rate you know",
    );
    h.history.fail = false;
    h.history.perHour = () => null;
    expect(await h.run("analysis", "plan", "staging")).toBe(1);
    expect(h.err.join("\n")).toContain(
      "staging: no traffic plan: CloudWatch holds no RequestCount of its load balancer in the last 7 days; pass --rps",
    );
    expect(h.text()).not.toMatch(STACK_TRACE);
    // --rps alone: the error rate cannot be read, so the floor (the largest requirement) is assumed
    h.history.fail = true;
    expect(await h.run("analysis", "plan", "staging", "--rps", "20")).toBe(0);
    expect(h.out.join("\n")).toContain(
      "stable error rate: 0.1 % (the floor errorRateFloorPercent 0.1 % (CloudWatch could not be read (connect ECONNREFUSED",
    );
    expect(treeDigest(h.dir)).toEqual(before);
  });

  it("validates its arguments, naming the flag and the rule", async () => {
    const h = harness();
    expect(await h.run("analysis", "plan", "staging", "--rps", "0x20", "--error-rate", "101")).toBe(1);
    expect(h.err.join("\n")).toContain(
      "analysis plan: --rps must be 0.001-1000000 requests per second (a decimal number, e.g. 12.5)",
    );
    expect(h.err.join("\n")).toContain("analysis plan: --error-rate must be 0-100 % (a decimal number, e.g. 12.5)");
    expect(await h.run("analysis", "plan", "stagign", "--rps", "5")).toBe(1);
    expect(h.err.join("\n")).toContain("unknown environment stagign: did you mean staging?");
  });
});

describe("envctl rollout and its traffic plan", () => {
  it("prints the plan first; the judge passes each step on its upper bound", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging")).toBe(0);
    expect(h.text()).toMatch(
      /staging: traffic plan \(a healthy canary is rolled back with at most 1 % over the whole rollout; a step below 100 % passes when the canary's error ratio is bounded below its bound with 95 % confidence, 2× before 100 %\)\n.*traffic: quietest hour of the last 7 days in the 10:00–10:15 UTC window \(2026-11-1\dT10:00 UTC\): 1000 requests\/s/,
    );
    const plan = planSteps({
      rps: 1000,
      baseErrorRatePercent: 1,
      steps: stagingSteps,
      settings: judgeSettings(staging),
      publishDelaySeconds: 120,
      intervalSeconds: 30,
    });
    expect(plan.map((s) => s.reachable)).toEqual([true, true]);
    const analyses = h
      .audit()
      .filter((a) => a.analysis)
      .map((a) => [a.analysis.step, a.analysis.verdict]);
    expect(analyses).toEqual([
      [0, "pass"],
      [1, "pass"],
      ["watch", "pass"],
    ]);
    expect(h.audit().find((a) => a.outcome === "rollout-started").note).toBeUndefined();
    // status: the last analysis with its evidence, the requirement and the plan's
    expect(await h.run("status", "staging")).toBe(0);
    expect(h.out.join("\n")).toMatch(
      /last analysis \(.*\): post-switch watch: PASS \| canary green: 45000 requests, 450 5xx \(1 %\), 0 slow, p99 0\.2 s \| stable blue: .* \| evidence\/bound errors vs stable \S+\/286, errors vs limit \S+\/667, latency vs stable \S+\/286, slow vs limit \S+\/667 \| 5 periods judged/,
    );
  });

  it("refuses to start when a step cannot reach a verdict, naming the environment, the step and the fix; nothing written", async () => {
    const h = await stagingWithCandidate();
    const before = treeDigest(h.dir);
    expect(await h.run("rollout", "staging", "--rps", "10")).toBe(1);
    const text = h.err.join("\n");
    expect(text).toContain(
      "error: staging: rollout refused by its traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (--rps 10); nothing was changed",
    );
    expect(text).toMatch(
      / {2}step 1 \(50 %\): expects 900 canary requests in its 300 s bake, a pass needs \d+; fix: needs a bake of \d+ s/,
    );
    expect(text).toContain(
      "start anyway with --ignore-plan (recorded in the history), or make the evidence observe-only for staging (release.analysis.enforce: { evidence: false })",
    );
    expect(text).not.toMatch(STACK_TRACE);
    expect(treeDigest(h.dir)).toEqual(before);
    expect(h.deployed).toEqual([]);
    expect(h.fetched).toEqual([]); // not even the smoke checks
    // the same from the history: a quiet load balancer
    h.history.perHour = () => ({ requests: 10 * 3600, errors: 360 });
    expect(await h.run("rollout", "staging")).toBe(1);
    expect(h.err.join("\n")).toContain(
      "staging: rollout refused by its traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (quietest hour of the last 7 days in the 10:00–10:15 UTC window",
    );
    // and without any history: fail closed
    h.history.fail = true;
    expect(await h.run("rollout", "staging")).toBe(1);
    expect(h.err.join("\n")).toContain(
      "staging: no traffic plan: could not read the load balancer's request history from CloudWatch",
    );
    expect(treeDigest(h.dir)).toEqual(before);
  });

  it("--ignore-plan starts anyway and records the override with the rollout-started change", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging", "--rps", "10", "--ignore-plan")).toBe(0);
    expect(h.text()).toContain(
      "staging: step 1 (50 %) cannot reach a verdict at 10 requests/s; starting anyway (--ignore-plan: recorded in the history)",
    );
    const started = h.audit().find((a) => a.outcome === "rollout-started");
    expect(started).toMatchObject({
      command: "envctl rollout staging --ignore-plan",
      note: "started against the traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (--ignore-plan)",
    });
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
    expect(h.text()).toMatch(
      /staging: step 1 \(50 %\): PASS \| .* \| error ratio bounded by \S+×; the step needs below 2× \| 3 periods judged/,
    );
  });

  it("goes on with a note when the environment's evidence is observe-only", async () => {
    const h = await stagingWithCandidate(
      editStaging(
        "analysis: { minSuccessRatePercent: 95,",
        "analysis: { enforce: { evidence: false }, minSuccessRatePercent: 95,",
      ),
    );
    expect(await h.run("rollout", "staging", "--rps", "10")).toBe(0);
    expect(h.text()).toContain(
      "staging: traffic plan (a healthy canary is rolled back with at most 1 % over the whole rollout; a step below 100 % passes when the canary's error ratio is bounded below its bound with 95 % confidence, 2× before 100 %; evidence observe-only)",
    );
    expect(h.text()).toContain(
      "staging: step 1 (50 %) cannot reach a verdict at 10 requests/s; starting anyway (evidence observe-only: an inconclusive step passes, noted in its analysis)",
    );
    expect(h.audit().find((a) => a.outcome === "rollout-started").note).toBe(
      "started against the traffic plan: step 1 (50 %) cannot reach a verdict at 10 requests/s (evidence observe-only)",
    );
  });

  it("--dry-run shows the plan; with --json as trafficPlan", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging", "--dry-run", "--rps", "3")).toBe(0);
    expect(h.out.join("\n")).toMatch(
      /^staging: traffic plan [\s\S]*CANNOT REACH A VERDICT[\s\S]*would roll out green \(1\.5\.0\) in staging/,
    );
    expect(await h.run("rollout", "staging", "--dry-run", "--json")).toBe(0);
    const dry = JSON.parse(h.out.join("\n"));
    expect(dry.trafficPlan).toMatchObject({
      environment: "staging",
      rps: 1000,
      steps: [
        { canaryStep: 0, percent: 50, reachable: true },
        { canaryStep: 1, percent: 100, reachable: true },
      ],
    });
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
    expect(h.text()).toContain(
      "staging: no traffic plan: could not read the load balancer's request history from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566); the steps are judged without planned requests (pass --rps to plan)",
    );
    expect(
      h
        .audit()
        .filter((a) => a.analysis)
        .map((a) => a.analysis.verdict),
    ).toEqual(["pass", "pass", "pass"]);
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
  });
});
