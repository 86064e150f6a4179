/**
 * The rollout controller in process, against fakes of the ALB, CloudWatch (metrics and alarms)
 * and the clock: every decision it takes on what it reads. The same paths run against the real
 * engine and moto in test/e2e-rollout.test.ts.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../lib/cli/envctl.ts";
import type { Fetch } from "../lib/release/ports/index.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";
import { FakeAlb, FakeTrafficHistory, FakeWorkloads, metrics, steady } from "./support/fakes.ts";
import { tempProject } from "./support/project.ts";

const okFetch: Fetch = async () => ({ status: 200, text: async () => "ok" });

function harness(env: string, edit?: (dir: string) => void) {
  const dir = tempProject(edit);
  const deployed: string[][] = [];
  const alb = new FakeAlb();
  const history = new FakeTrafficHistory();
  const workloads = new FakeWorkloads(dir, env);
  const snapshots: string[] = [];
  const fetched: string[] = [];
  let fetchImpl: Fetch = okFetch;
  let deployHook: (stacks: readonly string[]) => void = () => undefined;
  // As in CI after two reviewers approved (production needs two approvals: Accounts and approvals);
  // one ALB, the environment's alarms, and deploys, snapshots and smoke requests recorded.
  const h = envctlInProcess({
    dir,
    alarmsOf: [env],
    deps: () => ({
      deployer: {
        deploy: async (stacks) => {
          deployed.push([...stacks]);
          deployHook(stacks);
          for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, ""));
        },
      },
      traffic: () => alb,
      workloads: () => workloads,
      snapshots: () => ({
        snapshot: async (db, id) => {
          snapshots.push(`${db}:${id}`);
          return id;
        },
      }),
      trafficHistory: () => history,
      smoke: {
        fetch: async (url, init) => {
          fetched.push(`${url} ${JSON.stringify(init.headers)}`);
          return fetchImpl(url, init);
        },
        sleep: async () => undefined,
      },
    }),
  });
  const { lines, cw, alarms, clock, deps, controller } = h;
  const file = join(dir, "environments/releases", `${env}.json`);
  return {
    dir,
    deployed,
    lines,
    alb,
    cw,
    alarms,
    clock,
    history,
    snapshots,
    fetched,
    deps,
    controller,
    workloads,
    onDeploy: (f: typeof deployHook) => {
      deployHook = f;
    },
    setFetch: (f: Fetch) => {
      fetchImpl = f;
    },
    run: h.run,
    release: () => JSON.parse(readFileSync(file, "utf8")),
    text: h.text,
    audit: () =>
      readFileSync(join(dir, "environments/releases", `${env}.audit.jsonl`), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
  };
}

/** staging with green promoted from dev (1.5.0) into the idle slot. */
async function stagingWithCandidate() {
  const h = harness("staging");
  expect(await h.run("promote", "dev", "staging", "--version", "1.5.0")).toBe(0);
  h.deployed.length = 0;
  return h;
}

describe("envctl rollout: continuous analysis", () => {
  it("a healthy canary walks 50 → 100 %, is watched after the switch, and becomes live; only the traffic stack deploys", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging")).toBe(0);
    expect(h.deployed).toEqual([["staging-traffic"], ["staging-traffic"]]);
    expect(h.release()).toMatchObject({
      live: "green",
      previousLive: "blue",
      rollout: null,
      slots: { blue: { version: "1.4.2", weight: 0 }, green: { version: "1.5.0", weight: 100 } },
    });
    expect(h.alb.weights).toEqual({ blue: 0, green: 100 });
    // smoke checks first, through the test route of the idle slot
    expect(h.fetched).toEqual(
      ["/health", "/health/database", "/health/redis"].map(
        (p) => `https://staging.webapp.example.com${p} {"X-Release-Slot":"green"}`,
      ),
    );
    // 300 s bakes polled every 30 s; a period is judged once past the 120 s publishing delay: 3 in the
    // first step, then 5 per step (the first step's last periods are judged in the next one)
    const analyses = h
      .audit()
      .filter((a) => a.outcome === "analysis")
      .map((a) => [a.analysis.step, a.analysis.percent, a.analysis.verdict, a.analysis.polls]);
    expect(analyses).toEqual([
      [0, 50, "pass", 3],
      [1, 100, "pass", 5],
      ["watch", 100, "pass", 5],
    ]);
    expect(h.audit().map((a) => a.outcome)).toEqual([
      "deploying",
      "deployed",
      "rollout-started",
      "deploying",
      "rollout-step",
      "analysis",
      "deploying",
      "rollout-step",
      "analysis",
      "analysis",
      "rollout-complete",
    ]);
    expect(h.audit().map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // status shows the last analysis
    expect(await h.run("status", "staging")).toBe(0);
    expect(h.text()).toMatch(
      /last analysis \(2026-11-22T10:\d\d:\d\d.\d+Z\): post-switch watch: PASS \| canary green: 45000 requests, 450 5xx/,
    );
  });

  it("a canary whose 5xx rate breaks the threshold rolls back at the first period past its warm-up: weights first, then the file and the deploy", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = () => metrics({ requests: 500 }, { requests: 500, target5xx: 40 });
    const t0 = h.clock.t;
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toMatch(
      /rollout of green \(1\.5\.0\) rolled back: errors vs stable: evidence \S+ ≥ bound 286 \(this step: canary 80\/1000 5xx, stable 0\/1000\)(; errors vs limit: evidence \S+ ≥ bound 667 \(this step: canary 80\/1000 5xx, stable 0\/1000\))?; all traffic is back on blue \(1\.4\.2\)/,
    );
    // The first period (0–60 s, the warm-up) is judged at 180 s (its end and the 120 s publishing delay), the second at 240 s.
    expect(h.clock.t - t0).toBe(240_000);
    expect(h.alb.writes).toEqual([
      { by: "deploy", weights: { blue: 50, green: 50 } },
      { by: "direct", weights: { blue: 100, green: 0 } },
      { by: "deploy", weights: { blue: 100, green: 0 } },
    ]);
    expect(h.release()).toMatchObject({
      live: "blue",
      rollout: null,
      pending: null,
      slots: { blue: { weight: 100 }, green: { weight: 0, version: "1.5.0" } },
    });
    const last = h.audit().at(-1);
    expect(last).toMatchObject({
      outcome: "rolled-back",
      analysis: {
        verdict: "fail",
        step: 0,
        percent: 50,
        canary: { slot: "green", requests: 1000, errors: 80, errorRatePercent: 8 },
        stable: { slot: "blue", requests: 1000, errors: 0 },
      },
    });
  });

  it("compares with the stable slot, and attributes the load balancer's own 5xx to the slots by request share", async () => {
    const h = await stagingWithCandidate();
    // 2 % target errors on green vs 0.2 % on blue: 10× the stable slot, though within the 95 % floor
    h.cw.traffic = () => metrics({ requests: 1000, target5xx: 2 }, { requests: 1000, target5xx: 20 }, 0);
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toMatch(
      /rolled back: errors vs stable: evidence \S+ ≥ bound 286 \(this step: canary 40\/2000 5xx, stable 4\/2000\)/,
    );
    // no target errors at all, but the load balancer's 60 5xx of both slots: half each, no rollback
    const h2 = await stagingWithCandidate();
    h2.cw.traffic = () => metrics({ requests: 1000, target5xx: 5 }, { requests: 1000, target5xx: 5 }, 60);
    expect(await h2.run("rollout", "staging")).toBe(0);
    expect(h2.audit().find((a) => a.outcome === "analysis").analysis).toMatchObject({
      canary: { requests: 3000, errors: 105 },
      stable: { requests: 3000, errors: 105 },
    });
  });

  it("a canary nobody reached is inconclusive and never promoted: staging fails it", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = () => metrics({ requests: 900 }, { requests: 0, p99: null });
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain(
      "rolled back: the canary served no requests in the periods judged (no data is never a pass)",
    );
    expect(h.release()).toMatchObject({ live: "blue", rollout: null, slots: { blue: { weight: 100 } } });
    expect(h.audit().at(-1).analysis.verdict).toBe("inconclusive");
  });

  it("dev extends an inconclusive bake twice, then rolls back", async () => {
    const h = harness("dev");
    expect(await h.run("stage", "dev", "--version", "1.6.0")).toBe(0);
    h.cw.traffic = () => metrics({ requests: 0 }, { requests: 5 });
    expect(await h.run("rollout", "dev")).toBe(3);
    expect(h.text()).toContain("inconclusive: baking step 1 again (1/2); the evidence so far carries over");
    expect(h.text()).toContain("inconclusive: baking step 1 again (2/2); the evidence so far carries over");
    expect(h.text()).toMatch(
      /rolled back: the canary's error rate is bounded by \S+ % \(95 % upper bound, its worst period at 100 % left out\), not below 2 × the 5 % limit/,
    );
    expect(
      h
        .audit()
        .filter((a) => a.analysis)
        .map((a) => a.analysis.verdict),
    ).toEqual(["inconclusive", "inconclusive", "inconclusive"]);
  });

  it("an alarm that fires mid-bake fails the step at that poll, not at the end", async () => {
    const h = await stagingWithCandidate();
    h.alarms.beforeRead = (n) => {
      if (n === 4) h.alarms.states["staging-app-green-p99-latency"] = "ALARM";
      if (n === 5) h.alarms.states["staging-app-green-p99-latency"] = "OK"; // it would clear again at the next poll
    };
    const t0 = h.clock.t;
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain("rolled back: alarm staging-app-green-p99-latency is in ALARM");
    expect(h.clock.t - t0).toBe(4 * 30_000);
  });

  it("fails closed when a gate alarm does not exist", async () => {
    const h = await stagingWithCandidate();
    delete h.alarms.states["staging-app-green-unhealthy-hosts"];
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain("alarm staging-app-green-unhealthy-hosts does not exist (the gate fails closed)");
  });

  it("CloudWatch unreachable: bounded retries, then traffic back on the stable slot with the cause named", async () => {
    const h = await stagingWithCandidate();
    h.cw.failNext = -1;
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain(
      "rolled back: could not read the CloudWatch metrics after 4 attempts: connect ECONNREFUSED 127.0.0.1:4566",
    );
    expect(h.text()).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(h.alb.weights).toEqual({ blue: 100, green: 0 });
    // a transient failure within the retries is not a failure
    const h2 = await stagingWithCandidate();
    h2.cw.failNext = 3;
    expect(await h2.run("rollout", "staging")).toBe(0);
  });

  it("the ALB not serving the weights just deployed fails the step", async () => {
    const h = await stagingWithCandidate();
    h.alb.deployOverride = { blue: 100, green: 0 };
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain(
      "the ALB serves blue 100 / green 0 after the deploy, not the blue 50 / green 50 applied",
    );
  });
});

describe("envctl rollout: control from outside, interruption, pauses", () => {
  it("abort from another terminal mid-bake takes effect within one poll interval; the rollout stops without touching traffic", async () => {
    const h = await stagingWithCandidate();
    let abortedAt = 0;
    let abortCode: number | undefined;
    h.cw.traffic = async (_q, n) => {
      if (n === 3) {
        // another envctl (same checkout) runs while this poll reads: the rollout holds no lock during the bake
        abortCode = await main(["node", "envctl", "abort", "staging"], { ...h.deps, signal: undefined });
        abortedAt = h.clock.t;
      }
      return steady()(_q);
    };
    expect(await h.run("rollout", "staging")).toBe(7);
    expect(abortCode).toBe(0);
    expect(h.clock.t - abortedAt).toBeLessThanOrEqual(30_000);
    expect(h.text()).toContain("'envctl abort staging' by ci-bot (ci)");
    expect(h.text()).toContain("this rollout stopped without touching traffic");
    expect(h.alb.weights).toEqual({ blue: 100, green: 0 });
    expect(h.release()).toMatchObject({ rollout: null, live: "blue" });
  });

  it("traffic moved off the canary from another machine (the ALB changed, this file did not): the rollout stops, exit 7", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = (_q, n) => {
      if (n === 2) h.alb.weights = { blue: 100, green: 0 }; // envctl abort in another CI job
      return steady()(_q);
    };
    expect(await h.run("rollout", "staging")).toBe(7);
    expect(h.text()).toContain("the ALB now serves blue 100 / green 0, not the blue 50 / green 50 this rollout set");
    expect(h.alb.writes.filter((w) => w.by === "direct")).toEqual([]);
  });

  it("abort or rollback on a machine whose file shows no rollout, while the ALB serves a split its history never recorded: refused, nothing moved", async () => {
    const h = await stagingWithCandidate();
    h.alb.weights = { blue: 50, green: 50 }; // a rollout running from another checkout
    for (const command of ["abort", "rollback"]) {
      expect(await h.run(command, "staging")).toBe(1);
      expect(h.text()).toContain(
        "staging: the ALB serves blue 50 / green 50, which neither environments/releases/staging.json (blue 100 / green 0) nor its history ever recorded",
      );
    }
    expect(h.alb.writes).toEqual([]);
    expect(h.release()).toMatchObject({ live: "blue", slots: { blue: { version: "1.4.2", weight: 100 } } });
  });

  it("SIGINT mid-bake returns traffic to the stable slot and exits 8 with the commands to go on", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = (_q, n) => {
      if (n === 2) h.controller.abort(new Error("SIGINT"));
      return steady()(_q);
    };
    expect(await h.run("rollout", "staging")).toBe(8);
    expect(h.text()).toContain(
      "rollout interrupted by SIGINT; traffic returned to blue: blue 100 / green 0. Start again with 'envctl rollout staging'",
    );
    expect(h.alb.weights).toEqual({ blue: 100, green: 0 });
    expect(h.release()).toMatchObject({ rollout: null, pending: null });
  });

  it("--on-interrupt leave keeps the split and says how to resume or abort", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = (_q, n) => {
      if (n === 2) h.controller.abort(new Error("SIGTERM"));
      return steady()(_q);
    };
    expect(await h.run("rollout", "staging", "--on-interrupt", "leave")).toBe(8);
    expect(h.text()).toContain(
      "rollout interrupted by SIGTERM; traffic left as it is (blue 50 / green 50). Resume: 'envctl rollout staging'",
    );
    expect(h.alb.weights).toEqual({ blue: 50, green: 50 });
    expect(h.release().rollout.nextStep).toBe(1);
  });

  it("an interrupted rollout resumes by judging the applied step again", async () => {
    const h = await stagingWithCandidate();
    h.cw.traffic = (_q, n) => {
      if (n === 2) h.controller.abort(new Error("SIGTERM"));
      return steady()(_q);
    };
    expect(await h.run("rollout", "staging", "--on-interrupt", "leave")).toBe(8);
    const resumed = harnessLike(h);
    expect(await resumed.run("rollout", "staging")).toBe(0);
    expect(h.text()).toContain("resuming the rollout of green at step 1/2");
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
  });

  it("a manual pause stops the rollout until --continue; both from the release file", async () => {
    const h = harness("staging", (dir) => {
      const f = join(dir, "environments/staging.ts");
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace(
          "{ percent: 50, bakeSeconds: 300 },",
          '{ percent: 50, bakeSeconds: 300 },\n      { pause: "manual" },',
        ),
      );
    });
    expect(await h.run("promote", "dev", "staging", "--version", "1.5.0")).toBe(0);
    expect(await h.run("rollout", "staging")).toBe(0);
    expect(h.release().rollout).toMatchObject({ paused: true, nextStep: 2 });
    expect(h.alb.weights).toEqual({ blue: 50, green: 50 });
    expect(h.text()).toContain(
      "waits at a manual pause after step 1/3; the ALB serves blue 50 / green 50. Continue: 'envctl rollout staging --continue'",
    );
    expect(await h.run("rollout", "staging")).toBe(0); // without --continue: says so, changes nothing
    expect(h.release().rollout.paused).toBe(true);
    expect(await h.run("rollout", "staging", "--continue")).toBe(0);
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
  });

  it("a failing smoke check refuses the rollout and shows what came back; nothing moves", async () => {
    const h = await stagingWithCandidate();
    const before = readFileSync(join(h.dir, "environments/releases/staging.json"), "utf8");
    h.setFetch(async (url) =>
      url.endsWith("/health/redis")
        ? { status: 503, text: async () => '{"redis":"connection refused"}' }
        : { status: 200, text: async () => "ok" },
    );
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain("rollout refused: 1 of 3 smoke checks of green (1.5.0) failed; no traffic was moved");
    expect(h.text()).toContain(
      '✖ https://staging.webapp.example.com/health/redis → status 503, expected 200 — body: "{\\"redis\\":\\"connection refused\\"}" (3 attempts',
    );
    expect(readFileSync(join(h.dir, "environments/releases/staging.json"), "utf8")).toBe(before);
    expect(h.deployed).toEqual([]);
  });

  it("EKS: a rollout refuses a slot whose Deployment is not Ready, before the smoke checks; nothing moves", async () => {
    const h = await stagingWithCandidate();
    const before = readFileSync(join(h.dir, "environments/releases/staging.json"), "utf8");
    h.workloads.override.green = { desired: 2, ready: 1, updated: 2, version: "1.5.0", observed: true };
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain(
      "staging: rollout refused: the Deployment of green has 1/2 pods Ready (2 of the current template); no traffic was moved",
    );
    expect(h.fetched).toEqual([]);
    expect(readFileSync(join(h.dir, "environments/releases/staging.json"), "utf8")).toBe(before);
    expect(h.deployed).toEqual([]);
    // an unreachable API server is not Ready either (fail closed)
    delete h.workloads.override.green;
    h.workloads.failReads = true;
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain(
      "rollout refused: could not read the Deployment of green from the Kubernetes API: connect ECONNREFUSED 127.0.0.1:6443",
    );
  });

  it("EKS: a slot that stops being Ready mid-rollout is rolled back before the next step moves traffic", async () => {
    const h = await stagingWithCandidate();
    let steps = 0;
    h.onDeploy((stacks) => {
      // once the first step deployed, green's Deployment goes away
      if (stacks.includes("staging-traffic") && ++steps === 1) h.workloads.override.green = null;
    });
    expect(await h.run("rollout", "staging")).toBe(3);
    expect(h.text()).toContain(
      "the Deployment of green does not exist: the step does not move traffic to a slot that is not Ready",
    );
    expect(h.alb.weights).toEqual({ blue: 100, green: 0 });
    expect(h.release()).toMatchObject({ live: "blue", rollout: null });
  });

  it("refuses at load an environment whose step cannot hold one analysis window, naming it and the step", async () => {
    const h = harness("dev", (dir) => {
      const f = join(dir, "environments/dev.ts");
      writeFileSync(f, readFileSync(f, "utf8").replace("bakeSeconds: 180", "bakeSeconds: 60"));
    });
    expect(await h.run("status", "dev")).toBe(1);
    expect(h.text()).toContain(
      "dev: release.canary[0].bakeSeconds 60 s cannot contain one complete analysis window (60 s metric period + 120 s publishing delay = 180 s): the gate would judge no data",
    );
    expect(h.text()).not.toMatch(/\n\s+at /);
  });

  it("refuses a bake override that cannot hold one analysis window, naming the environment and the step", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging", "--bake", "60")).toBe(1);
    expect(h.text()).toContain(
      "staging: --bake 60: 60 s cannot contain one complete analysis window (60 s metric period + 120 s publishing delay = 180 s)",
    );
  });
});

describe("release commands around the rollout", () => {
  it("rollback after a completed rollout: the ALB first (one call), then the file and the traffic stack", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging")).toBe(0);
    h.alb.writes.length = 0;
    expect(await h.run("rollback", "staging")).toBe(0);
    expect(h.alb.writes).toEqual([
      { by: "direct", weights: { blue: 100, green: 0 } },
      { by: "deploy", weights: { blue: 100, green: 0 } },
    ]);
    expect(h.text()).toMatch(
      /staging: ALB now serves blue 100 \/ green 0 \(rollback to blue; written and read back in \d+ ms\)/,
    );
    expect(h.release()).toMatchObject({ live: "blue", previousLive: "green" });
  });

  it("snapshots the production database before promoting into it", async () => {
    const h = harness("production");
    await h.run("promote", "dev", "staging", "--version", "1.5.0", "--no-deploy");
    await h.run("shift", "staging", "--to", "green", "--percent", "100", "--no-deploy");
    expect(await h.run("promote", "staging", "production", "--yes")).toBe(0);
    expect(h.snapshots).toEqual(["production-postgres:production-pre-promote-20261122100000"]);
    expect(h.deployed).toEqual([["production-workloads"]]);
  });

  it("promote --version takes only versions the source served; commands that change nothing write nothing", async () => {
    const h = harness("staging");
    expect(await h.run("stage", "dev", "--version", "1.6.0", "--no-deploy")).toBe(0);
    expect(await h.run("promote", "dev", "staging", "--version", "1.6.0")).toBe(1);
    expect(h.text()).toContain("dev only staged version 1.6.0, it never served traffic there");
    const before = readFileSync(join(h.dir, "environments/releases/staging.json"), "utf8");
    expect(await h.run("shift", "staging", "--to", "blue", "--percent", "100")).toBe(0);
    expect(h.text()).toContain("staging: nothing to change");
    expect(readFileSync(join(h.dir, "environments/releases/staging.json"), "utf8")).toBe(before);
    expect(h.deployed).toEqual([]);
  });

  it("a shift the file already records, but the ALB does not serve (an earlier --no-deploy), deploys the traffic stack", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("shift", "staging", "--to", "green", "--percent", "25", "--no-deploy")).toBe(0);
    expect(h.deployed).toEqual([]);
    expect(await h.run("shift", "staging", "--to", "green", "--percent", "25")).toBe(0);
    expect(h.text()).toContain(
      "staging: the release file already says blue 75 / green 25, but the ALB serves blue 100 / green 0: deploying staging-traffic",
    );
    expect(h.deployed).toEqual([["staging-traffic"]]);
    expect(h.alb.weights).toEqual({ blue: 75, green: 25 });
    expect(await h.run("shift", "staging", "--to", "green", "--percent", "25")).toBe(0);
    expect(h.text()).toContain("staging: nothing to change");
    expect(h.deployed).toEqual([["staging-traffic"]]);
  });

  it("a broken file of another environment warns but never blocks a rollback", async () => {
    const h = await stagingWithCandidate();
    expect(await h.run("rollout", "staging")).toBe(0);
    writeFileSync(join(h.dir, "environments/releases/dev.json"), "{ oops");
    writeFileSync(join(h.dir, "environments/production.ts"), "throw new Error('half-edited');\n");
    expect(await h.run("rollback", "staging")).toBe(0);
    expect(h.release()).toMatchObject({ live: "blue", slots: { blue: { weight: 100 } } });
    expect(h.text()).toMatch(/warning/i);
    expect(h.text()).toContain("environments/releases/dev.json");
    expect(h.text()).toContain("production");
  });

  it("the production confirmation shows the release-file diff and the stacks", async () => {
    const h = harness("production");
    const asked: string[] = [];
    await h.run("promote", "dev", "staging", "--version", "1.5.0", "--no-deploy");
    await h.run("shift", "staging", "--to", "green", "--percent", "100", "--no-deploy");
    expect(
      await main(["node", "envctl", "promote", "staging", "production"], {
        ...h.deps,
        confirm: async (q) => {
          asked.push(q);
          return false;
        },
      }),
    ).toBe(1);
    expect(asked).toEqual(["Apply this to production (production)?"]);
    expect(h.text()).toContain('-      "version": null,\n+      "version": "1.5.0",');
    expect(h.text()).toContain("stacks to deploy: production-workloads");
    expect(h.text()).toContain("cancelled, nothing changed");
  });
});

describe("approvals as CI has them (read by envctl from GitHub: test/trust-approvals.test.ts)", () => {
  it("a promotion into production goes with the run's approvals and records them; approvers in environment variables are refused; a rollback waits for none", async () => {
    const h = harness("production");
    await h.run("promote", "dev", "staging", "--version", "1.5.0", "--no-deploy");
    await h.run("shift", "staging", "--to", "green", "--percent", "100", "--no-deploy");
    const promote = (env: Record<string, string>) =>
      main(["node", "envctl", "promote", "staging", "production", "--yes"], {
        ...h.deps,
        env: { ...h.deps.env, ...env },
      });
    expect(await promote({ ENVSTACK_APPROVED_BY: "alice,bob" })).toBe(1);
    expect(h.text()).toContain(
      "production: ENVSTACK_APPROVED_BY is set, but envctl never takes approvers or authors from environment variables",
    );
    expect(h.deployed).toEqual([]);
    expect(h.snapshots).toEqual([]);
    expect(await promote({})).toBe(0);
    expect(h.deployed).toEqual([["production-workloads"]]);
    expect(h.audit().filter((x) => x.kind === "approval")).toEqual([
      expect.objectContaining({
        author: "dana",
        approvers: ["alice", "bob"],
        source: "github",
        summary: expect.stringContaining("envctl promote staging production"),
      }),
    ]);
    // A mitigation never waits for approvals, here on a workstation with none recorded.
    expect(await h.run("shift", "production", "--to", "green", "--percent", "10", "--yes")).toBe(0);
    const workstation = { ...h.deps, env: { ...h.deps.env, GITHUB_ACTIONS: "" } };
    expect(await main(["node", "envctl", "rollback", "production", "--yes"], workstation)).toBe(0);
    expect(h.release().slots.green.weight).toBe(0);
  });
});

/** The same project and fakes, a fresh signal (a new envctl process). */
function harnessLike(h: ReturnType<typeof harness>) {
  return {
    run: (...args: string[]) => main(["node", "envctl", ...args], { ...h.deps, signal: new AbortController().signal }),
  };
}
