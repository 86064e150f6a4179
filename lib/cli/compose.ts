/**
 * The composition root of envctl: per release command, the release's {@link Context} with the
 * adapters wired into its ports (lib/release/ports/index.ts): the release files (lib/release/store),
 * the deploy runner (the engine on the synthesized stacks, lib/deploy), the ALB, CloudWatch (metrics,
 * alarms, traffic history) and RDS (lib/aws, loaded on first use), the cluster (lib/kube), the
 * database (lib/database), the settings (lib/settings), the alarm names and the slot header of the
 * constructs (lib/constructs/naming.ts). Tests replace any of them through {@link Deps}; the shell
 * (./shell.ts) is the invocation this runs in.
 */
import { join } from "node:path";
import type { ApprovalLedger } from "../aws/approval-ledger.ts";
import type { AwsClientOptions } from "../aws/clients.ts";
import {
  lazyAlarms,
  lazyMaintenance,
  lazyMetrics,
  lazySnapshots,
  lazyTraffic,
  lazyTrafficHistory,
} from "../aws/lazy.ts";
import type { TrafficApi } from "../aws/traffic.ts";
import { formatWarnings } from "../config/errors.ts";
import { loadProject, type Project } from "../config/load.ts";
import type { Environment } from "../config/schema.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { SLOT_HEADER, slotAlarmNames } from "../constructs/naming.ts";
import { localDatabase } from "../database/local.ts";
import { EngineDeployer } from "../deploy/runner.ts";
import { dbTools } from "../engine/db-tools.ts";
import type { KubeTarget } from "../kube/config.ts";
import { lazyKubeWorkloads } from "../kube/workloads.ts";
import type { Context } from "../release/command-context.ts";
import { RefusedError } from "../release/model/errors.ts";
import type { Release } from "../release/model/release.ts";
import type { Clock, ReleaseEnvironment, SmokeDeps, Workloads } from "../release/ports/index.ts";
import { fileStore } from "../release/store/index.ts";
import type { GithubFetch } from "../review/github-approvals.ts";
import { refuseMissingSettings, slotSettingsFor } from "../settings/release.ts";
import { stateBucketName } from "../stacks/base-stack.ts";
import { awsClientTarget, readTarget, type Target } from "../stacks/target.ts";
import { accountCheckedDeployer } from "./account-check.ts";
import { currentActor } from "./actor.ts";
import { approvalGate } from "./approvals.ts";
import { BreakGlassArg, parseArgs, WaitArg } from "./args.ts";
import { type AwsDatabaseIo, awsDatabase } from "./aws-database.ts";
import type { Deps } from "./deps.ts";
import type { ShellNotifications } from "./notifications.ts";
import { defaultProgress } from "./progress.ts";
import type { Common } from "./shell.ts";

/** The release's context, and the project it was built from (for the CLI's own views). */
export interface CliContext extends Context {
  readonly project: Project;
}

/** What the composition root takes from the shell of the invocation. */
export interface ComposeIo extends Pick<ShellNotifications, "notifier" | "notifyProject" | "runLink"> {
  readonly deps: Deps;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly confirm: (question: string) => Promise<boolean>;
  root(): string;
  awsOptions(root: string): (e: Environment) => AwsClientOptions;
  kubeTargets(root: string): (e: Environment) => KubeTarget;
  /** envctl's arguments in this invocation (recorded with a change waiting for approval). */
  readonly argv: readonly string[];
  /** Environments whose production prompt was answered, and whose approvals were met, in this invocation. */
  readonly approved: Set<string>;
  readonly approvalsMet: Set<string>;
}

/**
 * The release's context for one command. `focus`: the environments the command acts on; only they
 * must load cleanly (an emergency rollback of production must not depend on staging's file).
 */
export async function releaseContext(
  io: ComposeIo,
  o: Common,
  command: string,
  focus?: readonly string[],
  signal?: AbortSignal,
): Promise<CliContext> {
  const { deps, env, clock, out, err } = io;
  // Arguments before files: a bad flag is reported whatever state the project is in.
  const { wait, breakGlass } = parseArgs(
    command.split(" ")[0]!,
    { wait: WaitArg, breakGlass: BreakGlassArg.optional() },
    { wait: o.wait ?? "0", breakGlass: o.breakGlass },
  );
  const project = await loadProject(io.root(), focus ? { focus } : {});
  io.notifyProject(project);
  if (project.warnings?.length) err(formatWarnings(project.warnings));
  const aws = io.awsOptions(project.root);
  const kube = io.kubeTargets(project.root);
  const configs = project.environments.map((e) => e.config);
  const get = (name: string): Environment => {
    const e = configs.find((x) => x.name === name);
    if (!e)
      throw new RefusedError(
        unknownEnvironmentMessage(
          name,
          configs.map((x) => x.name),
        ),
      );
    return e;
  };
  // The release hands back the environments it was given: the configuration's own objects.
  const configOf = (e: ReleaseEnvironment): Environment => get(e.name);
  const traffic = new Map<string, TrafficApi>();
  const workloads = new Map<string, Workloads>();
  const settings = deps.settings ?? slotSettingsFor;
  const store = fileStore(project.root);
  const progress = deps.progress ?? defaultProgress();
  return {
    project,
    environments: { all: () => configs, get },
    store,
    // The engine's providers refuse another account (allowed_account_ids); envctl refuses first, before synthesis.
    deployer:
      deps.deployer ??
      accountCheckedDeployer(new EngineDeployer(project.root, env), configs, (e) => aws(e), deps.identity),
    traffic: (e) =>
      deps.traffic?.(configOf(e)) ??
      traffic.get(e.name) ??
      traffic.set(e.name, lazyTraffic(e.name, aws(configOf(e)))).get(e.name)!,
    metrics: (e) => deps.metrics?.(configOf(e)) ?? lazyMetrics(aws(configOf(e))),
    alarms: (e) => {
      const reader = deps.alarms?.(configOf(e)) ?? lazyAlarms(aws(configOf(e)));
      // The gate reads the alarms the monitoring construct creates for the slot, by their names.
      return { read: (slot) => reader.read(slotAlarmNames(e.name, slot)) };
    },
    snapshots: (e) => deps.snapshots?.(configOf(e)) ?? lazySnapshots(aws(configOf(e))),
    workloads: (e) => {
      const c = configOf(e);
      if (c.compute.kind !== "eks") return undefined;
      return (
        deps.workloads?.(c) ??
        workloads.get(c.name) ??
        workloads.set(c.name, lazyKubeWorkloads(c.name, kube(c))).get(c.name)!
      );
    },
    ...databasePort(deps, env, project.root, configOf, {
      kube,
      aws,
      release: (name) => store.load(name),
      say: (line) => progress.info(`  ${line}`),
    }),
    trafficHistory: (e) => deps.trafficHistory?.(configOf(e)) ?? lazyTrafficHistory(aws(configOf(e))),
    smoke: { ...(deps.smoke ?? defaultSmokeDeps), slotHeader: SLOT_HEADER },
    maintenance: (e) => deps.maintenance?.(configOf(e)) ?? lazyMaintenance(e.name, aws(configOf(e))),
    notifier: io.notifier,
    link: io.runLink(),
    settings: {
      forSlot: (e) => settings(configOf(e)),
      refuseMissing: (source, sourceRelease, target, version) =>
        refuseMissingSettings(configOf(source), sourceRelease, configOf(target), version),
    },
    progress,
    actor: currentActor(env),
    clock,
    signal: signal ?? deps.signal,
    out,
    dryRun: o.json ? (plan) => out(JSON.stringify({ dryRun: true, ...plan }, null, 2)) : undefined,
    options: {
      deploy: o.deploy !== false,
      dryRun: o.dryRun === true,
      waitSeconds: wait,
      ...(breakGlass ? { breakGlass } : {}),
    },
    command: `envctl ${command}`,
    approve: approvalGate({
      io,
      project,
      command,
      o,
      configOf,
      aws,
      target: readTarget(env, project.root),
      ledger: (e) => deps.approvalLedger?.(e) ?? s3Ledger(readTarget(env, project.root), e, aws(e)),
      github: deps.github ?? githubFetch,
    }),
  };
}

/** GitHub's API through node's fetch. */
export const githubFetch: GithubFetch = (url, init) => fetch(url, init);

/** The environment's approvals in its account's state bucket, with the caller's own credentials (loaded on first use). */
export function s3Ledger(target: Target, e: Environment, o: AwsClientOptions): ApprovalLedger {
  const bucket = stateBucketName(e.project, target, e.account);
  const ledger = async () => (await import("../aws/approval-ledger.ts")).s3ApprovalLedger(o, bucket, e.name);
  return {
    request: async (req) => (await ledger()).request(req),
    requests: async () => (await ledger()).requests(),
    approve: async (changeId, who, at) => (await ledger()).approve(changeId, who, at),
    list: async (changeId, ignored) => (await ledger()).list(changeId, ignored),
    author: async (changeId, who, at) => (await ledger()).author(changeId, who, at),
    authors: async (changeId, ignored) => (await ledger()).authors(changeId, ignored),
  };
}

/**
 * The environment's database: the test's; on the local target with `ENVSTACK_LOCAL_POSTGRES` set, a
 * database on that local PostgreSQL with the image stand-ins of `ENVSTACK_LOCAL_IMAGES`
 * (lib/database/local.ts); otherwise, given `cluster` (how to reach an environment's cluster, its
 * account and its release file), the runner of where the app runs (./aws-database.ts: a Kubernetes
 * Job on EKS, SSM Run Command on EC2; on the local target without a local PostgreSQL, the emulator
 * acting as AWS). Without `cluster` (a read-only view), none: the schema gates fail closed
 * (docs/operations/database-changes.md).
 */
export function databasePort(
  deps: Deps,
  env: NodeJS.ProcessEnv,
  projectRoot: string,
  configOf: (e: ReleaseEnvironment) => Environment,
  cluster?: Omit<AwsDatabaseIo, "images" | "release" | "kube" | "aws"> & {
    kube: (e: Environment) => KubeTarget;
    aws: (e: Environment) => AwsClientOptions;
    release: (env: string) => Release;
  },
): Pick<Context, "database"> {
  if (deps.database) return { database: (e, instance) => deps.database!(configOf(e), instance) };
  const images = env.ENVSTACK_LOCAL_IMAGES ?? join(projectRoot, "images");
  if (env.ENVSTACK_LOCAL_POSTGRES && readTarget(env, projectRoot).kind === "local") {
    const server = env.ENVSTACK_LOCAL_POSTGRES;
    return {
      database: (e, instance) => {
        const tools = dbTools(env);
        return localDatabase({ server, images, psql: tools.psql, migrate: tools.migrate }, e, instance);
      },
    };
  }
  if (!cluster) return {};
  return {
    database: (e, instance) => {
      const c = configOf(e);
      return awsDatabase(c, instance, {
        kube: cluster.kube(c),
        aws: cluster.aws(c),
        images,
        release: () => cluster.release(c.name),
        ...(cluster.say ? { say: cluster.say } : {}),
      });
    },
  };
}

/**
 * Where and as whom envctl's AWS adapters act for an environment: its region (the emulator on the
 * local target), its account (the deploy role assumed, the caller's account checked before writes).
 */
export function environmentAws(target: Target, e: Environment): AwsClientOptions {
  return {
    ...awsClientTarget(target, e.region),
    account: e.account,
    environment: e.name,
    emulatorAccount: target.emulatorAccount,
  };
}

export const defaultSmokeDeps: SmokeDeps = {
  fetch: (url, init) => fetch(url, init),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
