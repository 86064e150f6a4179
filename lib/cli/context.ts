/**
 * The composition root of envctl: one {@link Shell} per invocation (the terminal, the project, the
 * exit code) and, per release command, the release's {@link Context} with the adapters wired into
 * its ports (lib/release/ports.ts): the release files (lib/release/store), the deploy runner (the engine on the synthesized stacks)
 * (lib/deploy), the ALB, CloudWatch (metrics, alarms, traffic history) and RDS (lib/aws, loaded on first use), the settings
 * (lib/settings), the alarm names and the slot header of the constructs (lib/constructs/naming.ts).
 * Tests replace any of them through {@link Deps}.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { lazyAlarms, lazyMaintenance, lazyMetrics, lazySnapshots, lazyTraffic, lazyTrafficHistory } from "../aws/lazy.ts";
import { notifySecretReader } from "../aws/notify-secrets.ts";
import { snsPublisher } from "../aws/sns.ts";
import { createNotifier, nodeFetch, settleBound, type BackgroundNotifier } from "../notify/notifier.ts";
import type { NotifyConfig } from "../config/schema/notify.ts";
import type { AwsClientOptions } from "../aws/clients.ts";
import type { TrafficApi } from "../aws/traffic.ts";
import { formatWarnings } from "../config/errors.ts";
import { loadProject, type Project } from "../config/load.ts";
import type { Environment } from "../config/schema.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { SLOT_HEADER, slotAlarmNames } from "../constructs/naming.ts";
import { EngineDeployer } from "../deploy/runner.ts";
import { localDatabase } from "../database/local.ts";
import { dbTools } from "../engine/db-tools.ts";
import type { Context } from "../release/context.ts";
import { RefusedError } from "../release/errors.ts";
import type { Clock, ReleaseEnvironment, SmokeDeps, Workloads } from "../release/ports.ts";
import { lazyKubeWorkloads, type KubeTarget } from "../kube/workloads.ts";
import { appendNote, fileStore, readAudit } from "../release/store/index.ts";
import { refuseMissingSettings, slotSettingsFor } from "../settings/release.ts";
import { awsClientTarget, readTarget, type Target } from "../stacks/target.ts";
import { currentActor } from "./actor.ts";
import { accountCheckedDeployer, checkAccount, enforceApprovals, personOf } from "./approvals.ts";
import { parseArgs, WaitArg } from "./args.ts";
import type { Deps } from "./deps.ts";
import { defaultProgress } from "./progress.ts";
import { UserError } from "./report.ts";
import { realSleep } from "./signals.ts";
import { formatStatus, lastAnalysisOf, statusOf } from "./views/status.ts";

/** Commands that take traffic back to safety: never held up by approvals. */
const MITIGATION = /^(rollback|abort)\b/;

/** The options every release command shares. */
export interface Common {
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  deploy?: boolean;
  wait?: string;
}

/** The release's context, and the project it was built from (for the CLI's own views). */
export interface CliContext extends Context {
  readonly project: Project;
}

/** One invocation of envctl. */
export interface Shell {
  readonly deps: Deps;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly clock: Clock;
  readonly confirm: (question: string) => Promise<boolean>;
  root(): string;
  load(): Promise<Project>;
  setExit(code: number): void;
  exitCode(): number;
  /** Where the AWS adapters of an environment of the project at `root` connect (the emulator on the local target). */
  awsOptions(root: string): (e: Environment) => AwsClientOptions;
  /** Which kubeconfig and context reach an EKS environment's cluster (lib/kube/workloads.ts). */
  kubeTargets(root: string): (e: Environment) => KubeTarget;
  /**
   * The context of a release command. `focus`: the environments the command acts on. Only they
   * must load cleanly: a broken file of another environment is a warning, never a blocker (an
   * emergency rollback of production must not depend on staging's file). Without it, the whole
   * project must be valid.
   */
  context(o: Common, command: string, focus?: readonly string[], signal?: AbortSignal): Promise<CliContext>;
  /** Prints the environment's status after a command (not after a --dry-run). */
  report(ctx: CliContext, env: string, o: Common): void;
  /** Notifications of release events (lib/notify), for the environments of the projects loaded so far. */
  readonly notifier: BackgroundNotifier;
  /** Makes the project's environments' notification targets known to {@link notifier}. */
  notifyProject(project: Project): void;
  /** The run the notifications link to: `$ENVSTACK_RUN_URL`, else the GitHub Actions run. */
  runLink(): string | undefined;
  /** Waits for the deliveries still running, bounded by the slowest target's timeouts and backoff (at most 30 s). */
  settleNotifications(): Promise<void>;
}

/**
 * The environment's database (issue 22): the test's, else on the local target with
 * `ENVSTACK_LOCAL_POSTGRES` set, a database on that local PostgreSQL with the image stand-ins of
 * `ENVSTACK_LOCAL_IMAGES` (lib/database/local.ts). On AWS none yet: the schema gates fail closed
 * (README "Database changes").
 */
export function databasePort(deps: Deps, env: NodeJS.ProcessEnv, projectRoot: string, configOf: (e: ReleaseEnvironment) => Environment): Pick<Context, "database"> {
  if (deps.database) return { database: (e, instance) => deps.database!(configOf(e), instance) };
  if (!env.ENVSTACK_LOCAL_POSTGRES || readTarget(env, projectRoot).kind !== "local") return {};
  const server = env.ENVSTACK_LOCAL_POSTGRES;
  const images = env.ENVSTACK_LOCAL_IMAGES ?? join(projectRoot, "images");
  return {
    database: (e, instance) => {
      const tools = dbTools(env);
      return localDatabase({ server, images, psql: tools.psql, migrate: tools.migrate }, e, instance);
    },
  };
}

/**
 * Where and as whom envctl's AWS adapters act for an environment: its region (the emulator on the
 * local target), its account (the deploy role assumed, the caller's account checked before writes).
 */
export function environmentAws(target: Target, e: Environment): AwsClientOptions {
  return { ...awsClientTarget(target, e.region), account: e.account, environment: e.name, emulatorAccount: target.emulatorAccount };
}

/** The project root: `$ENVSTACK_ROOT`, else the nearest directory upwards holding cdktf.json. */
export function findRoot(cwd: string, env: NodeJS.ProcessEnv): string {
  if (env.ENVSTACK_ROOT) return resolve(env.ENVSTACK_ROOT);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "cdktf.json"))) return dir;
    if (dirname(dir) === dir) throw new UserError(`no cdktf.json in ${cwd} or above: run envctl inside the project`);
  }
}

export const defaultSmokeDeps: SmokeDeps = {
  fetch: (url, init) => fetch(url, init),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export function createShell(deps: Deps): Shell {
  const env = deps.env ?? process.env;
  const out = deps.stdout ?? ((t: string) => process.stdout.write(`${t}\n`));
  const err = deps.stderr ?? ((t: string) => process.stderr.write(`${t}\n`));
  let exitCode = 0;
  const root = () => findRoot(deps.cwd ?? process.cwd(), env);
  const confirm = deps.confirm ?? (async (q: string) => {
    if (!process.stdin.isTTY) throw new UserError(`${q} — not on a terminal: pass --yes to confirm`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${q} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  });
  const clock: Clock = deps.clock ?? { now: deps.now ?? (() => new Date()), sleep: realSleep };
  const approved = new Set<string>();
  const approvalsMet = new Set<string>();
  const awsOptions = (projectRoot: string) => {
    const target = readTarget(env, projectRoot);
    return (e: Environment): AwsClientOptions => environmentAws(target, e);
  };
  // An EKS environment's cluster: the local control plane's kubeconfig on the local target, else
  // the context named after the environment (lib/kube/workloads.ts).
  const kubeTargets = (projectRoot: string) => {
    const target = readTarget(env, projectRoot);
    return (e: Environment): KubeTarget => target.kind === "local"
      ? { kubeconfig: target.kubeconfig }
      : { kubeconfig: env.ENVSTACK_KUBECONFIG ?? env.KUBECONFIG?.split(delimiter)[0] ?? join(homedir(), ".kube", "config"), context: e.name };
  };

  // Notifications: targets become known as projects load; URLs and keys are resolved at delivery.
  const notifyConfigs = new Map<string, { notify: NotifyConfig; region: string }>();
  let notifyRoot: string | undefined;
  const secretReaders = new Map<string, (id: string) => Promise<string>>();
  const notifier: BackgroundNotifier = createNotifier({
    configOf: (name) => notifyConfigs.get(name),
    resolve: async (ref, name) => {
      if ("env" in ref) {
        const v = env[ref.env];
        if (!v) throw new Error(`environment variable ${ref.env} is not set`);
        return v;
      }
      const region = notifyConfigs.get(name)?.region ?? "us-east-1";
      const read = deps.notifySecret ?? secretReaders.get(region) ?? secretReaders.set(region, notifySecretReader(awsClientTarget(readTarget(env, notifyRoot ?? root()), region))).get(region)!;
      return read(ref.secret);
    },
    fetch: deps.notifyFetch ?? nodeFetch,
    sns: (region) => deps.sns?.(region) ?? snsPublisher(awsClientTarget(readTarget(env, notifyRoot ?? root()), region)),
    // Real time between attempts, never the release's clock: a delivery's backoff must not move a rollout's (virtual) time.
    sleep: deps.notifySleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms).unref?.())),
    now: clock.now,
    record: (name, r) => appendNote(notifyRoot ?? root(), name, r),
  });
  const notifyProject = (project: Project) => {
    notifyRoot = project.root;
    for (const e of project.environments) notifyConfigs.set(e.config.name, { notify: e.config.notify, region: e.config.region });
  };
  const runLink = () => env.ENVSTACK_RUN_URL || (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined);
  const settleNotifications = async () => {
    const left = await notifier.settle(settleBound([...notifyConfigs.values()].map((c) => c.notify)));
    if (left > 0) err(`note: ${left} notification(s) still undelivered when envctl stopped waiting; recorded in the history as abandoned`);
  };

  const context = async (o: Common, command: string, focus?: readonly string[], signal?: AbortSignal): Promise<CliContext> => {
    // Arguments before files: a bad flag is reported whatever state the project is in.
    const { wait } = parseArgs(command.split(" ")[0]!, { wait: WaitArg }, { wait: o.wait ?? "0" });
    const project = await loadProject(root(), focus ? { focus } : {});
    notifyProject(project);
    if (project.warnings?.length) err(formatWarnings(project.warnings));
    const aws = awsOptions(project.root);
    const kube = kubeTargets(project.root);
    const configs = project.environments.map((e) => e.config);
    const get = (name: string): Environment => {
      const e = configs.find((x) => x.name === name);
      if (!e) throw new RefusedError(unknownEnvironmentMessage(name, configs.map((x) => x.name)));
      return e;
    };
    // The release hands back the environments it was given: the configuration's own objects.
    const configOf = (e: ReleaseEnvironment): Environment => get(e.name);
    const traffic = new Map<string, TrafficApi>();
    const workloads = new Map<string, Workloads>();
    const settings = deps.settings ?? slotSettingsFor;
    return {
      project,
      environments: { all: () => configs, get },
      store: fileStore(project.root),
      // The engine's providers refuse another account (allowed_account_ids); envctl refuses first, before synthesis.
      deployer: deps.deployer ?? accountCheckedDeployer(new EngineDeployer(project.root, env), configs, (e) => aws(e), deps.identity),
      traffic: (e) => deps.traffic?.(configOf(e)) ?? traffic.get(e.name) ?? traffic.set(e.name, lazyTraffic(e.name, aws(configOf(e)))).get(e.name)!,
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
        return deps.workloads?.(c) ?? workloads.get(c.name) ?? workloads.set(c.name, lazyKubeWorkloads(c.name, kube(c))).get(c.name)!;
      },
      ...databasePort(deps, env, project.root, configOf),
      trafficHistory: (e) => deps.trafficHistory?.(configOf(e)) ?? lazyTrafficHistory(aws(configOf(e))),
      smoke: { ...(deps.smoke ?? defaultSmokeDeps), slotHeader: SLOT_HEADER },
      maintenance: (e) => deps.maintenance?.(configOf(e)) ?? lazyMaintenance(e.name, aws(configOf(e))),
      notifier,
      link: runLink(),
      settings: {
        forSlot: (e) => settings(configOf(e)),
        refuseMissing: (source, sourceRelease, target, version) => refuseMissingSettings(configOf(source), sourceRelease, configOf(target), version),
      },
      progress: deps.progress ?? defaultProgress(),
      actor: currentActor(env),
      clock,
      signal: signal ?? deps.signal,
      out,
      dryRun: o.json ? (plan) => out(JSON.stringify({ dryRun: true, ...plan }, null, 2)) : undefined,
      options: { deploy: o.deploy !== false, dryRun: o.dryRun === true, waitSeconds: wait },
      command: `envctl ${command}`,
      // Recorded approvals first (approvals.required > 0: production by default); then production
      // changes need a yes, asked once, after the change was validated, showing it. --yes only
      // answers the question: it never counts as an approval.
      approve: async (e, what) => {
        // Before anything is written: the credentials must be of the environment's account (real adapters, or tests' identity).
        if (!deps.deployer || deps.identity) await checkAccount(configOf(e), aws(configOf(e)), deps.identity);
        // Once per command and environment (a rollout's later steps, its automatic rollback);
        // mitigations (rollback, abort) never wait for approvals: they are recorded with their author.
        if (!approvalsMet.has(e.name) && !MITIGATION.test(command)) {
          await enforceApprovals({ root: project.root, env, config: configOf(e), what, now: clock.now(), identity: () => (deps.identity ?? personOf)(aws(configOf(e))) });
        }
        approvalsMet.add(e.name);
        if (e.tier !== "production" || o.yes || approved.has(e.name)) return;
        err([`${e.name} (production): ${what.summary}`, ...(what.diff ? [what.diff.trimEnd()] : []), `stacks to deploy: ${what.stacks.join(" ") || "none"}`].join("\n"));
        if (!(await confirm(`Apply this to ${e.name} (production)?`))) throw new UserError("cancelled, nothing changed");
        approved.add(e.name);
      },
    };
  };

  const report = (ctx: CliContext, name: string, o: Common) => {
    if (o.dryRun) return;
    const config = ctx.environments.get(name);
    const loaded = ctx.project.environments.find((x) => x.config.name === config.name)!;
    const view = statusOf({ ...loaded, release: ctx.store.load(name) }, lastAnalysisOf(readAudit(ctx.project.root, name)));
    out(o.json ? JSON.stringify(view, null, 2) : formatStatus([view]));
  };

  return {
    deps, env, out, err, clock, confirm, root,
    load: async () => loadProject(root()),
    setExit: (code) => { exitCode = code; },
    exitCode: () => exitCode,
    awsOptions,
    kubeTargets,
    context,
    report,
    notifier,
    notifyProject,
    runLink,
    settleNotifications,
  };
}
