/**
 * The rollout controller end to end: OpenTofu + the real AWS provider deploy dev to moto (its gate
 * alarms included, created by `cdktf deploy` through the CBOR bridge); synthetic ALB metrics are
 * pushed with PutMetricData on the deployed load balancer's and target groups' dimensions, split by
 * the weights the ALB serves; two local HTTP handlers act as the slots behind the header-routed test
 * route for the smoke checks. The playground's dev uses short windows (useShortWindows: 10 s periods,
 * polls every 2 s).
 * Never skipped: needs `npm run setup:engine` (CI runs it).
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../lib/aws/clients.ts";
import type { Slot } from "../lib/config/schema.ts";
import { slotAlarmNames } from "../lib/constructs/monitoring.ts";
import { readWeights, USERS_RPS, users, useShortWindows } from "../lib/demo/demo.ts";
import { SyntheticAlbTraffic, type Traffic } from "../lib/demo/synthetic-traffic.ts";
import { stackDir } from "../lib/engine/engine.ts";
import { type HealthStandIn, healthStandIn, type LocalLoop, localLoop, rolloutUnderTraffic } from "./support/e2e.ts";

let loop: LocalLoop;
let smoke: HealthStandIn;
let traffic: SyntheticAlbTraffic;

const release = () => JSON.parse(readFileSync(join(loop.dir, "environments/releases/dev.json"), "utf8"));
const audit = () =>
  readFileSync(join(loop.dir, "environments/releases/dev.audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const weights = () => readWeights(loop.emulator.endpoint, "dev");

/** Runs `envctl rollout dev` with `users` hitting the slots as the ALB splits them. */
const rolloutWith = (
  who: (w: Record<Slot, number>) => Traffic,
  during?: () => Promise<void>,
  args?: readonly string[],
) => rolloutUnderTraffic(loop, traffic, who, "dev", during, args);
/** Healthy users: 0.5 % 5xx on both slots (see lib/demo/demo.ts users). */
const healthy = (w: Record<Slot, number>) => users(w);

/** Resolves once the release file shows the rollout's first step applied. */
async function firstStepApplied(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = release();
    if (r.rollout?.nextStep >= 1 && r.pending === null) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error("the rollout never applied its first step");
}

beforeAll(async () => {
  smoke = await healthStandIn();
  loop = await localLoop();
  useShortWindows(loop.dir, smoke.url);
  await loop.deploy("bootstrap", "dev", "dev-traffic");
  traffic = new SyntheticAlbTraffic(loop.emulator.endpoint, "dev");
  expect((await loop.envctl("stage", "dev", "--version", "1.6.0")).status).toBe(0);
}, 1_200_000);

afterAll(async () => {
  await loop?.stop();
  smoke?.close();
});

describe.sequential("rollout controller against the engine and the emulator", () => {
  it("the gate's alarms were created by cdktf deploy, with the analysis period", async () => {
    const cw = new CloudWatchClient(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }));
    const alarms = await cw.send(new DescribeAlarmsCommand({ AlarmNames: slotAlarmNames("dev", "green") }));
    const seen = (alarms.MetricAlarms ?? []).map((a) => [
      a.AlarmName,
      a.Period ?? a.Metrics?.find((m) => m.MetricStat)?.MetricStat?.Period,
      a.DatapointsToAlarm,
    ]);
    expect(seen.sort()).toEqual(
      slotAlarmNames("dev", "green")
        .sort()
        .map((n) => [n, 10, 1]),
    );
  });

  it("a failing smoke check refuses the rollout and shows what came back; no traffic moves", async () => {
    smoke.health.green["/health/redis"] = 503;
    const r = await rolloutWith(healthy);
    delete smoke.health.green["/health/redis"];
    expect(r.status).toBe(3);
    expect(r.out).toContain("rollout refused: 1 of 3 smoke checks of green (1.6.0) failed; no traffic was moved");
    expect(r.out).toMatch(
      /✖ http:\/\/127\.0\.0\.1:\d+\/health\/redis → status 503, expected 200 — body: "\{\\"slot\\":\\"green\\",\\"path\\":\\"\/health\/redis\\",\\"ok\\":false\}"/,
    );
    expect(release().rollout).toBeNull();
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);

  it("a canary nobody reaches is inconclusive and never gets to 100 %", async () => {
    const r = await rolloutWith(() => ({ blue: { requests: USERS_RPS }, green: { requests: 0 } }));
    expect(r.status).toBe(3);
    expect(r.out).toContain(
      "rolled back: the canary served no requests in the periods judged (no data is never a pass)",
    );
    expect(audit().at(-1)).toMatchObject({
      outcome: "rolled-back",
      analysis: { verdict: "inconclusive", step: 0, percent: 50 },
    });
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);

  it("a canary with 5× the stable slot's 5xx rate fails within its first polls, on the evidence", async () => {
    const r = await rolloutWith((w) => users(w, { canary: "green", canaryErrorRate: 0.025 }));
    expect(r.status).toBe(3);
    expect(r.out).toMatch(
      /rolled back: errors vs (stable|limit): evidence \S+ ≥ bound (286|667) \(this step: canary [\d.]+\/\d+ 5xx, stable [\d.]+\/\d+\)/,
    );
    const rolledBack = audit().at(-1);
    expect(rolledBack.analysis).toMatchObject({
      verdict: "fail",
      step: 0,
      percent: 50,
      canary: { slot: "green" },
      stable: { slot: "blue" },
    });
    expect(rolledBack.analysis.polls).toBeLessThanOrEqual(3);
    expect(
      Math.max(
        ...rolledBack.analysis.evidence
          .filter((e: { test: string }) => e.test.startsWith("errors"))
          .map((e: { logEvidence: number; logBound: number }) => e.logEvidence - e.logBound),
      ),
    ).toBeGreaterThanOrEqual(0);
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);

  it("a quiet service: the plan refuses the rollout naming the step and the fix; forced, the step is inconclusive with the plan's figure", async () => {
    const quiet = (w: Record<Slot, number>) => users(w, { rps: 20 });
    // The previous test's 5000 requests/s (2.5 % 5xx on green) must leave the analysis window first: a
    // step reads from the start of its 10 s metric period, so one period and a margin after they stopped.
    await new Promise((r) => setTimeout(r, 11_000));
    const refused = await rolloutWith(quiet, undefined, ["--rps", "20", "--error-rate", "0.5"]);
    expect(refused.status).toBe(1);
    expect(refused.out).toMatch(
      /dev: rollout refused by its traffic plan: step 1 \(50 %\)(, step 2 \(100 %\))? cannot reach a verdict at 20 requests\/s \(--rps 20\); nothing was changed/,
    );
    expect(refused.out).toMatch(/fix: needs a bake of \d+ s/);
    expect(release().rollout).toBeNull();
    const forced = await rolloutWith(quiet, undefined, ["--rps", "20", "--error-rate", "0.5", "--ignore-plan"]);
    expect(forced.status).toBe(3);
    expect(forced.out).toMatch(/rolled back: the canary's error ratio is bounded by .+, not below this step's 2×/);
    const started = audit()
      .filter((a) => a.outcome === "rollout-started")
      .at(-1);
    expect(started.note).toMatch(/--ignore-plan/);
    expect(audit().at(-1)).toMatchObject({ outcome: "rolled-back", analysis: { verdict: "inconclusive", step: 0 } });
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);

  it("CloudWatch unreachable mid-rollout: bounded retries, then the traffic goes back to the stable slot with the cause named", async () => {
    const r = await rolloutWith(healthy, async () => {
      await firstStepApplied();
      await loop.emulator.unreachable(["monitoring"]);
    });
    await loop.emulator.unreachable([]);
    expect(r.status).toBe(3);
    expect(r.out).toMatch(/rolled back: could not read the CloudWatch (alarms|metrics) after 2 attempts: /);
    expect(r.out).not.toMatch(/internal error|\n\s+at /);
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);

  it("an abort from a second process mid-bake stops the rollout within one poll interval", async () => {
    let abort: { status: number | null; out: string } | undefined;
    const r = await rolloutWith(healthy, async () => {
      await firstStepApplied();
      abort = await loop.envctl("abort", "dev");
    });
    expect(abort?.status).toBe(0);
    expect(r.status).toBe(7);
    expect(r.out).toMatch(/'envctl abort dev' by .+ at \d{4}-/);
    expect(r.out).toContain("this rollout stopped without touching traffic");
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    expect(release()).toMatchObject({ rollout: null, live: "blue" });
  }, 300_000);

  it("a healthy canary completes on the metrics it reads; a rollback is immediate and leaves nothing to plan", async () => {
    const r = await rolloutWith(healthy);
    expect(r.status).toBe(0);
    expect(release()).toMatchObject({
      live: "green",
      rollout: null,
      slots: { green: { version: "1.6.0", weight: 100 } },
    });
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    const passes = audit()
      .filter((a) => a.outcome === "analysis")
      .slice(-2)
      .map((a) => a.analysis);
    expect(passes.map((a) => [a.step, a.percent, a.verdict])).toEqual([
      [0, 50, "pass"],
      [1, 100, "pass"],
    ]);
    expect(passes[0].required.basis).toMatch(/^error ratio bounded by [\d.]+×; the step needs below 2×$/);
    // the rollout's recorded polls replay to the same verdicts
    const complete = audit()
      .filter((a) => a.outcome === "rollout-complete")
      .at(-1);
    const replay = await loop.envctl("analysis", "replay", "dev", "--change", String(complete.seq), "--json");
    expect(replay.status).toBe(0);
    const replayed = replay.out
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    expect(replayed.map((x) => [x.step, x.verdict])).toEqual([
      [0, "pass"],
      [1, "pass"],
    ]);

    const back = await loop.envctl("rollback", "dev");
    expect(back.status).toBe(0);
    expect(back.out).toMatch(
      /dev: ALB now serves blue 100 \/ green 0 \(rollback to blue; written and read back in \d+ ms\)/,
    );
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    // the traffic stack converged: its plan finds nothing to change
    await loop.synth();
    const d = stackDir(loop.dir, "dev-traffic");
    await loop.engine.init(d);
    const { changed } = await loop.engine.planJson(d, "after-rollback.tfplan");
    expect(changed).toBe(false);
  }, 600_000);

  it("a gate alarm in ALARM (the one the stack created) rolls the canary back, naming it", async () => {
    const cw = new CloudWatchClient(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }));
    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: "dev-app-green-p99-latency",
        StateValue: "ALARM",
        StateReason: "e2e: slow canary",
      }),
    );
    const r = await rolloutWith(healthy);
    await cw.send(
      new SetAlarmStateCommand({ AlarmName: "dev-app-green-p99-latency", StateValue: "OK", StateReason: "e2e" }),
    );
    expect(r.status).toBe(3);
    expect(r.out).toContain("rolled back: alarm dev-app-green-p99-latency is in ALARM");
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);

  it("the load balancer's own 5xx of both slots (at 50 % of the base rate) do not roll back a healthy canary", async () => {
    const r = await rolloutWith((w) => ({ ...users(w), elb5xx: Math.round(USERS_RPS * 0.0025) }));
    expect(r.status).toBe(0);
    expect(release()).toMatchObject({ live: "green", rollout: null });
    const step = audit()
      .filter((a) => a.outcome === "analysis")
      .at(-2).analysis;
    // the canary's share of them is in its 5xx: more than its target 5xx, far from all of them
    expect(step.canary.errors).toBeGreaterThan(0);
    expect(step.verdict).toBe("pass");
    expect((await loop.envctl("rollback", "dev")).status).toBe(0);
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 600_000);

  it("a canary 4× slower than the stable slot, under the latency limit, is rolled back on its response-time buckets", async () => {
    const r = await rolloutWith((w) => users(w, { latency: { green: 0.2, blue: 0.05 } }));
    expect(r.status).toBe(3);
    expect(r.out).toMatch(/rolled back: latency vs stable: evidence \S+ ≥ bound 286/);
    const rolledBack = audit().at(-1).analysis;
    expect(rolledBack).toMatchObject({ verdict: "fail", step: 0 });
    expect(rolledBack.intervals.some((i: { buckets?: number[] }) => (i.buckets?.length ?? 0) >= 2)).toBe(true);
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 300_000);
});
