/**
 * The context of a release command: the ports (lib/release/ports/index.ts) with named fields, the
 * command's options and who runs it. lib/cli/compose.ts builds it; tests build it through envctl's
 * `Deps`. Helpers here are what every command shares: the environment, the record of a change, the
 * lock.
 */
import type { Change } from "./core.ts";
import type { DryRunPlan } from "./dry-run.ts";
import type {
  Approve,
  Clock,
  Database,
  Deployer,
  Environments,
  MaintenanceSwitch,
  MetricsReader,
  Notifier,
  Progress,
  ReleaseEnvironment,
  ReleaseStore,
  SlotAlarms,
  SlotSettingsSource,
  SmokeClient,
  Snapshotter,
  Traffic,
  TrafficHistory,
  Workloads,
} from "./ports/index.ts";

export interface Options {
  /** Deploy after editing (false: only edit the file, the pipeline deploys). */
  readonly deploy: boolean;
  /** Show the release-file diff and the stacks that would deploy; change nothing. */
  readonly dryRun: boolean;
  /** Seconds to wait for another envctl holding the environment's lock. */
  readonly waitSeconds: number;
  /** Run outside the release calendar, for this reason (needs the approvals plus one; recorded and notified). */
  readonly breakGlass?: string;
}

export interface Context {
  // --- the ports
  readonly environments: Environments;
  readonly store: ReleaseStore;
  readonly deployer: Deployer;
  readonly traffic: (env: ReleaseEnvironment) => Traffic;
  readonly metrics: (env: ReleaseEnvironment) => MetricsReader;
  readonly alarms: (env: ReleaseEnvironment) => SlotAlarms;
  readonly snapshots: (env: ReleaseEnvironment) => Snapshotter;
  /** The slots' Deployments of an EKS environment (undefined for EC2: its slots are Auto Scaling groups). */
  readonly workloads: (env: ReleaseEnvironment) => Workloads | undefined;
  /**
   * The environment's database (`instance`: the release file's `database.instance`, default
   * `<env>-postgres`); absent where envctl cannot reach one (the schema gates then fail closed).
   */
  readonly database?: (env: ReleaseEnvironment, instance?: string) => Database;
  /** The load balancer's past traffic, for the traffic plan (lib/release/rollout/plan.ts). */
  readonly trafficHistory: (env: ReleaseEnvironment) => TrafficHistory;
  readonly smoke: SmokeClient;
  /** Maintenance mode written to the listener directly (the fast switch before the deploy converges). */
  readonly maintenance: (env: ReleaseEnvironment) => MaintenanceSwitch;
  /** Notifications of release events (never blocks, never throws). */
  readonly notifier: Notifier;
  /** The run or report the notifications link to (a CI run's URL), if known. */
  readonly link?: string;
  readonly settings: SlotSettingsSource;
  readonly progress: Progress;
  readonly clock: Clock;
  /** Asks for approval before a production change (shows what changes); throws to cancel. */
  readonly approve: Approve;
  // --- the command
  readonly options: Options;
  /** The command line, for the audit history. */
  readonly command: string;
  readonly actor: string;
  /** Where human-readable results go (stdout). */
  readonly out: (text: string) => void;
  /** Receives what a --dry-run would do instead of `out` (the CLI's --json); default: printed to `out`. */
  readonly dryRun?: (plan: DryRunPlan) => void;
  /** Aborts when the process is asked to stop (SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
}

/** The environment named `name` (a RefusedError names the near misses). */
export function environment(ctx: Context, name: string): ReleaseEnvironment {
  return ctx.environments.get(name);
}

/** Who does what, now: the record of the change a command makes. */
export const change = (ctx: Context): Change => ({
  by: ctx.actor,
  at: ctx.clock.now().toISOString(),
  command: ctx.command,
});

/** Runs `fn` under the environment's lock, named after the command for whoever waits on it. */
export function locked<T>(
  ctx: Context,
  env: string,
  fn: () => Promise<T>,
  waitSeconds = ctx.options.waitSeconds,
): Promise<T> {
  return ctx.store.lock(env, waitSeconds, fn, ctx.command);
}
