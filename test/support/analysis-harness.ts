/**
 * envctl in process for the traffic plan and replay tests (test/analysis-*.test.ts): a temporary
 * project with fakes of the ALB, CloudWatch (metrics, alarms, hourly history) and the clock.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { type Deps, main } from "../../lib/cli/envctl.ts";
import { PlainProgress } from "../../lib/cli/progress.ts";
import { slotAlarmNames } from "../../lib/constructs/naming.ts";
import { AnalysisSchema } from "../../lib/release/model/policy.ts";
import { githubCi } from "./approvals.ts";
import { FakeAlarms, FakeAlb, FakeClock, FakeMetrics, FakeTrafficHistory, FakeWorkloads } from "./fakes.ts";
import { tempProject } from "./project.ts";

export function harness(edit?: (dir: string) => void) {
  const dir = tempProject(edit);
  const out: string[] = [];
  const err: string[] = [];
  const alb = new FakeAlb();
  const cw = new FakeMetrics();
  const alarms = new FakeAlarms(
    Object.fromEntries(
      ["dev", "staging", "production"]
        .flatMap((e) => ["blue", "green"].flatMap((s) => slotAlarmNames(e, s as "blue")))
        .map((n) => [n, "OK"]),
    ),
  );
  const clock = new FakeClock();
  const history = new FakeTrafficHistory();
  const fetched: string[] = [];
  const deployed: string[][] = [];
  let controller = new AbortController();
  const ci = githubCi(dir, { author: "dana" });
  const deps = (): Deps => ({
    github: ci.github,
    cwd: dir,
    // As in CI after two reviewers approved (production needs two approvals: docs/operations/accounts-and-approvals.md).
    env: {
      ...process.env,
      GITHUB_ACTOR: "ci-bot",
      CI: "1",
      ...ci.env,
    },
    deployer: {
      deploy: async (stacks) => {
        deployed.push([...stacks]);
        for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, ""));
      },
    },
    traffic: () => alb,
    workloads: (e) => new FakeWorkloads(dir, e.name),
    metrics: () => cw,
    alarms: () => alarms,
    trafficHistory: () => history,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    smoke: {
      fetch: async (url) => {
        fetched.push(url);
        return { status: 200, text: async () => "ok" };
      },
      sleep: async () => undefined,
    },
    progress: new PlainProgress((l) => err.push(l), clock.now),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    clock,
    signal: controller.signal,
  });
  const releases = join(dir, "environments/releases");
  return {
    dir,
    out,
    err,
    alb,
    cw,
    clock,
    history,
    fetched,
    deployed,
    abort: (why: string) => controller.abort(new Error(why)),
    newProcess: () => {
      controller = new AbortController();
    },
    run: async (...args: string[]) => {
      out.length = 0;
      err.length = 0;
      return main(["node", "envctl", ...args], deps());
    },
    text: () => [...out, ...err].join("\n"),
    release: (env = "staging") => JSON.parse(readFileSync(join(releases, `${env}.json`), "utf8")),
    audit: (env = "staging") =>
      readFileSync(join(releases, `${env}.audit.jsonl`), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    write: (name: string, text: string) => writeFileSync(join(dir, name), text),
  };
}

/** staging with 1.5.0 promoted from dev into its idle slot (green). */
export async function stagingWithCandidate(edit?: (dir: string) => void) {
  const h = harness(edit);
  expect(await h.run("promote", "dev", "staging", "--version", "1.5.0")).toBe(0);
  h.deployed.length = 0;
  return h;
}

export const editStaging = (from: string, to: string) => (dir: string) => {
  const f = join(dir, "environments/staging.ts");
  const text = readFileSync(f, "utf8");
  expect(text).toContain(from);
  writeFileSync(f, text.replace(from, to));
};

/** staging's analysis policy and steps, as environments/staging.ts sets them. */
export const staging = AnalysisSchema.parse({ minSuccessRatePercent: 95, postSwitchWatchSeconds: 300 });
export const stagingSteps = [
  { percent: 50, bakeSeconds: 300, maxRatio: 2 },
  { percent: 100, bakeSeconds: 300, maxRatio: null },
];
