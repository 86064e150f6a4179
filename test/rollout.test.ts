import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { main, type Deps } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { slotAlarmNames } from "../lib/constructs/monitoring.ts";
import { CloudWatchAlarms } from "../lib/release/gate.ts";
import { tempProject } from "./support/project.ts";

/** A CloudWatch client stand-in: answers DescribeAlarms from a mutable state map. */
class FakeCloudWatch {
  readonly requests: string[][] = [];
  constructor(public states: Record<string, string>) {}
  async send(command: DescribeAlarmsCommand) {
    const names = command.input.AlarmNames ?? [];
    this.requests.push(names);
    return { MetricAlarms: names.filter((n) => n in this.states).map((n) => ({ AlarmName: n, StateValue: this.states[n] })) };
  }
}

function harness(env: string, edit?: (dir: string) => void) {
  const dir = tempProject(edit);
  const deployed: string[][] = [];
  const lines: string[] = [];
  const cw = new FakeCloudWatch(Object.fromEntries(["blue", "green"].flatMap((s) => slotAlarmNames(env, s as "blue")).map((n) => [n, "OK"])));
  const snapshots: string[] = [];
  let deployHook: (stacks: readonly string[]) => void = () => undefined;
  const deps: Deps = {
    cwd: dir,
    env: { ...process.env, GITHUB_ACTOR: "ci-bot", CI: "1" },
    deployer: { deploy: async (stacks) => { deployed.push([...stacks]); deployHook(stacks); } },
    alarms: () => new CloudWatchAlarms(cw),
    snapshots: () => ({ snapshot: async (db, id) => { snapshots.push(`${db}:${id}`); return id; } }),
    progress: new PlainProgress((l) => lines.push(l)),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    now: () => new Date("2026-11-22T10:00:00Z"),
  };
  const file = join(dir, "environments/releases", `${env}.json`);
  return {
    dir, deployed, lines, cw, snapshots, deps,
    onDeploy: (f: typeof deployHook) => { deployHook = f; },
    run: (...args: string[]) => main(["node", "envctl", ...args], deps),
    release: () => JSON.parse(readFileSync(file, "utf8")),
    audit: () => readFileSync(join(dir, "environments/releases", `${env}.audit.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l)),
  };
}

describe("envctl rollout (alarm-gated canary)", () => {
  it("walks the tier's steps, deploying only the traffic stack, then makes the new slot live", async () => {
    const h = harness("staging");
    expect(await h.run("promote", "dev", "staging")).toBe(0);
    expect(await h.run("rollout", "staging", "--bake", "0")).toBe(0);
    expect(h.deployed).toEqual([["staging-workloads"], ["staging-traffic"], ["staging-traffic"]]);
    expect(h.release()).toMatchObject({ live: "green", previousLive: "blue", rollout: null, slots: { blue: { version: "1.4.2", weight: 0 }, green: { version: "1.5.0", weight: 100 } } });
    expect(h.cw.requests).toEqual([slotAlarmNames("staging", "green"), slotAlarmNames("staging", "green")]);
    expect(h.audit().map((a) => a.outcome)).toEqual(["deployed", "rollout-started", "rollout-50", "rollout-100", "rollout-complete"]);
    expect(h.audit()[0].by).toBe("ci-bot (ci)");
    // instant rollback afterwards: the old slot kept its version
    expect(await h.run("rollback", "staging")).toBe(0);
    expect(h.release()).toMatchObject({ live: "blue", slots: { blue: { weight: 100 }, green: { weight: 0 } } });
  });

  it("rolls back by itself when the new slot's alarm fires, with a distinct exit code", async () => {
    const h = harness("staging");
    await h.run("promote", "dev", "staging");
    h.onDeploy(() => {
      // the canary's errors trip the alarm once traffic reaches green
      if (h.release().slots.green.weight > 0) h.cw.states["staging-app-green-5xx-rate"] = "ALARM";
    });
    expect(await h.run("rollout", "staging", "--bake", "0")).toBe(3);
    expect(h.release()).toMatchObject({ live: "blue", rollout: null, slots: { blue: { weight: 100 }, green: { weight: 0, version: "1.5.0" } } });
    expect(h.deployed.at(-1)).toEqual(["staging-traffic"]);
    expect(h.lines.join("\n")).toContain("rollout rolled back: staging-app-green-5xx-rate in ALARM");
    expect(h.audit().at(-1).outcome).toBe("rolled-back");
  });

  it("fails closed when the gate's alarms do not exist", async () => {
    const h = harness("staging");
    await h.run("promote", "dev", "staging");
    delete h.cw.states["staging-app-green-p99-latency"];
    expect(await h.run("rollout", "staging", "--bake", "0")).toBe(3);
    expect(h.lines.join("\n")).toContain("staging-app-green-p99-latency missing");
    expect(h.release().slots.blue.weight).toBe(100);
  });

  it("resumes an interrupted rollout from the step in the file, re-checking the applied step first", async () => {
    const h = harness("staging");
    await h.run("promote", "dev", "staging");
    // interrupted after the first step was deployed (the file records nextStep 1 at 50 %)
    h.onDeploy((stacks) => { if (stacks[0] === "staging-traffic") throw new Error("interrupted"); });
    expect(await h.run("rollout", "staging", "--bake", "0")).toBe(4);
    const interrupted = h.release();
    expect(interrupted.rollout.nextStep).toBe(1);
    expect(interrupted.pending.stacks).toEqual(["staging-traffic"]);
    h.onDeploy(() => undefined);
    expect(await h.run("reconcile", "staging")).toBe(0);
    expect(await h.run("rollout", "staging", "--bake", "0")).toBe(0);
    expect(h.lines.join("\n")).toContain("resuming the rollout of green at step 1/2");
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
  });

  it("abort restores the weights the rollout started from", async () => {
    const h = harness("staging");
    await h.run("promote", "dev", "staging");
    const release = h.release();
    release.rollout = { target: "green", nextStep: 1, steps: [{ percent: 50, bakeSeconds: 300 }, { percent: 100, bakeSeconds: 300 }], before: { blue: 100, green: 0 }, startedAt: "2026-11-22T09:00:00.000Z" };
    release.slots.blue.weight = 50;
    release.slots.green.weight = 50;
    writeFileSync(join(h.dir, "environments/releases/staging.json"), JSON.stringify(release));
    expect(await h.run("status", "staging")).toBe(0);
    expect(h.lines.join("\n")).toContain("rollout of green: 1/2 steps applied (50 → 100 %), next 100 %");
    expect(await h.run("abort", "staging")).toBe(0);
    expect(h.release()).toMatchObject({ rollout: null, live: "blue", slots: { blue: { weight: 100 }, green: { weight: 0 } } });
  });

  it("snapshots the production database before promoting into it", async () => {
    const h = harness("production");
    await h.run("promote", "dev", "staging", "--no-deploy");
    await h.run("shift", "staging", "--to", "green", "--percent", "100", "--no-deploy");
    expect(await h.run("promote", "staging", "production", "--yes")).toBe(0);
    expect(h.snapshots).toEqual(["production-postgres:production-pre-promote-20261122100000"]);
    expect(h.deployed).toEqual([["production-workloads"]]);
  });

  it("refuses rollout --no-deploy: each step must deploy and be gated", async () => {
    const h = harness("staging");
    await h.run("promote", "dev", "staging", "--no-deploy");
    expect(await h.run("rollout", "staging", "--no-deploy")).toBe(1);
    expect(h.lines.join("\n")).toContain("--no-deploy does not apply");
    expect(h.release().rollout).toBeNull();
  });
});
