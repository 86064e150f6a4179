/**
 * envctl in process (`main(argv, deps)`) against fakes of everything it talks to, as CI runs it
 * after two reviewers approved: one ALB per environment (its traffic stack's deploy copies the
 * release file's weights to it), CloudWatch metrics, the slots' gate alarms (all OK), each EKS
 * environment's Deployments, snapshots, the load balancers' traffic history, passing smoke checks
 * and a virtual clock. Everything envctl prints goes to `lines`. A test changes what it needs: who
 * runs it (`runAs`), variables (`env`), any part of the deps (`deps`, given the fakes to build on).
 */

import type { Deps } from "../../lib/cli/deps.ts";
import { main } from "../../lib/cli/envctl.ts";
import { PlainProgress } from "../../lib/cli/progress.ts";
import { slotAlarmNames } from "../../lib/constructs/naming.ts";
import { githubCi } from "./approvals.ts";
import {
  albPerEnvironment,
  FakeAlarms,
  type FakeAlb,
  FakeClock,
  FakeMetrics,
  FakeTrafficHistory,
  FakeWorkloads,
  passingSmoke,
  trafficDeployer,
} from "./fakes.ts";
import { tempProject } from "./project.ts";

/** The fakes behind the deps, for a test to read, steer or build its own parts on. */
export interface EnvctlFakes {
  /** The project envctl runs in. */
  readonly dir: string;
  /** Every line envctl printed (progress, stdout, stderr, redrawn views), in order. */
  readonly lines: string[];
  /** The ALB of an environment (one per environment, made on first use). */
  readonly alb: (env: string) => FakeAlb;
  readonly cw: FakeMetrics;
  readonly alarms: FakeAlarms;
  readonly clock: FakeClock;
  /** Aborting it is a SIGINT/SIGTERM to the running command. */
  readonly controller: AbortController;
}

export interface EnvctlInProcess extends EnvctlFakes {
  readonly deps: Deps;
  /** `envctl <args>`: its exit code. */
  run(...args: string[]): Promise<number>;
  /** What envctl printed, one line after the other. */
  text(): string;
}

export interface EnvctlOptions {
  /** The project (default: a fresh temporary copy of the repository's). */
  readonly dir?: string;
  /**
   * Who runs envctl, and where: the variables that say so (default: a GitHub Actions job of the
   * project committed now, whose pull request by dana alice and bob approved: support/approvals.ts).
   */
  readonly runAs?: Readonly<Record<string, string>>;
  /** A GitHub Actions job (support/approvals.ts githubCi) with this author and actor; default: one by dana unless `runAs` says otherwise. */
  readonly ci?: { readonly author?: string; readonly actor?: string };
  /** More variables (`undefined` removes one). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The environments whose slots' gate alarms exist (default: dev, staging, production). */
  readonly alarmsOf?: readonly string[];
  /** The virtual clock (default: 2026-11-22T10:00:00Z). */
  readonly clock?: FakeClock;
  /** Parts of the deps that replace the fakes'. */
  readonly deps?: (fakes: EnvctlFakes) => Partial<Deps>;
}

/** The gate alarms of every slot of `envs`, all OK. */
export function okAlarms(envs: readonly string[]): FakeAlarms {
  const names = envs.flatMap((e) => (["blue", "green"] as const).flatMap((s) => slotAlarmNames(e, s)));
  return new FakeAlarms(Object.fromEntries(names.map((n) => [n, "OK"])));
}

export function envctlInProcess(options: EnvctlOptions = {}): EnvctlInProcess {
  const dir = options.dir ?? tempProject();
  const lines: string[] = [];
  const clock = options.clock ?? new FakeClock();
  const fakes: EnvctlFakes = {
    dir,
    lines,
    alb: albPerEnvironment(),
    cw: new FakeMetrics(),
    alarms: okAlarms(options.alarmsOf ?? ["dev", "staging", "production"]),
    clock,
    controller: new AbortController(),
  };
  const print = (t: string) => {
    lines.push(t);
  };
  const ci = options.runAs && !options.ci ? undefined : githubCi(dir, { author: "dana", ...options.ci });
  const deps: Deps = {
    ...(ci ? { github: ci.github } : {}),
    cwd: dir,
    env: { ...process.env, ...(options.runAs ?? { CI: "1", GITHUB_ACTOR: "ci-bot" }), ...ci?.env, ...options.env },
    deployer: trafficDeployer(dir, fakes.alb),
    traffic: (e) => fakes.alb(e.name),
    workloads: (e) => new FakeWorkloads(dir, e.name),
    metrics: () => fakes.cw,
    alarms: () => fakes.alarms,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    trafficHistory: () => new FakeTrafficHistory(),
    smoke: passingSmoke,
    progress: new PlainProgress(print, clock.now),
    stdout: print,
    stderr: print,
    write: print,
    tty: false,
    clock,
    signal: fakes.controller.signal,
    ...options.deps?.(fakes),
  };
  return {
    ...fakes,
    deps,
    run: (...args) => main(["node", "envctl", ...args], deps),
    text: () => lines.join("\n"),
  };
}
