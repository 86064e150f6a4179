/**
 * envctl: a thin shell over the release operations. Parses and validates arguments (zod),
 * loads the project, wires the real deploy runner, alarm gate and snapshots (tests inject
 * their own), and maps outcomes to exit codes.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import { formatWarnings } from "../config/errors.ts";
import { loadProject, type Project } from "../config/load.ts";
import { z } from "zod";
import { DigestSchema, VersionSchema } from "../config/release.ts";
import { CdktfDeployer, type Deployer } from "../deploy/runner.ts";
import { lazyAlarms, lazyMetrics, lazySnapshots, lazyTraffic } from "../aws/lazy.ts";
import type { MetricsReader } from "../aws/metrics.ts";
import type { TrafficApi } from "../aws/traffic.ts";
import type { SlotSettings } from "../config/release.ts";
import { rollout } from "../release/controller.ts";
import { slotSettingsFor } from "../settings/release.ts";
import { RefusedError } from "../release/core.ts";
import type { AlarmReader } from "../release/gate.ts";
import * as ops from "../release/operations.ts";
import { defaultSmokeDeps, type SmokeDeps } from "../release/smoke.ts";
import type { Snapshotter } from "../release/snapshot.ts";
import { LockedError, StoreError, currentActor, readAudit } from "../release/store.ts";
import { comparisonMatrix, formatMatrix, formatStatus, lastAnalysisOf, statusOf } from "../release/views.ts";
import { awsClientTarget, readTarget } from "../stacks/target.ts";
import type { Environment } from "../config/schema.ts";
import { defaultProgress, type Progress } from "./progress.ts";
import { BakeArg, parseArgs, PercentArg, SlotArg, WaitArg } from "./args.ts";
import { describeError, UserError } from "./report.ts";
import { registerReleaseCheck } from "./commands/release-check.ts";
import { registerRestoreCommand } from "./commands/restore.ts";
import { registerReviewCommands } from "./review-commands.ts";
import { examples } from "./help.ts";
import { statusLive, statusWatch, type LiveDeps } from "./commands/status-live.ts";
import { registerReportCommand } from "./commands/report.ts";
import type { LiveSources } from "../review/live.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";

/** envctl's version: the package's. */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
import { registerConfigCommands } from "./commands/config.ts";
import { registerSecretCommands } from "./commands/secret.ts";
import { readSecretInput } from "./secret-input.ts";
import { secretsManagerStore, type SecretStore } from "../settings/secrets-store.ts";

/** What tests (and embedders) may replace. */
export interface Deps {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly deployer?: Deployer;
  readonly alarms?: (env: Environment) => AlarmReader;
  readonly metrics?: (env: Environment) => MetricsReader;
  readonly traffic?: (env: Environment) => TrafficApi;
  readonly snapshots?: (env: Environment) => Snapshotter;
  readonly smoke?: SmokeDeps;
  /** Secrets Manager of an environment (`secret`, `config`). @default the real one (emulator endpoint on the local target) */
  readonly secrets?: (env: Environment) => SecretStore;
  /** Reads a secret value. @default stdin when piped, else a hidden prompt */
  readonly readSecret?: (prompt: string) => Promise<string>;
  /** Whether a person is at the terminal (a secret's value is typed, confirmations can be asked). @default stdin is a TTY */
  readonly interactive?: () => boolean;
  /** The application settings a slot staged into an environment carries. @default the environment file's `app.settings` (lib/settings/release.ts) */
  readonly settings?: (env: Environment) => SlotSettings | null;
  readonly progress?: Progress;
  readonly now?: () => Date;
  /** The clock (and sleep) of rollouts. @default the real one (with `now`) */
  readonly clock?: ops.Clock;
  /** Aborts a rollout as SIGINT/SIGTERM would. @default the process's signals */
  readonly signal?: AbortSignal;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** Raw stdout (no newline added), for redrawing on a terminal. @default process.stdout */
  readonly write?: (text: string) => void;
  /** Whether stdout is a terminal. @default process.stdout.isTTY */
  readonly tty?: boolean;
  /** Answers a yes/no question; default: ask on the terminal. */
  readonly confirm?: (question: string) => Promise<boolean>;
}

/** The project root: `$ENVSTACK_ROOT`, else the nearest directory upwards holding cdktf.json. */
export function findRoot(cwd: string, env: NodeJS.ProcessEnv): string {
  if (env.ENVSTACK_ROOT) return resolve(env.ENVSTACK_ROOT);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "cdktf.json"))) return dir;
    if (dirname(dir) === dir) throw new UserError(`no cdktf.json in ${cwd} or above: run envctl inside the project`);
  }
}


interface Common {
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  deploy?: boolean;
  wait?: string;
}

export async function main(argv: readonly string[], deps: Deps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const out = deps.stdout ?? ((t: string) => process.stdout.write(`${t}\n`));
  const err = deps.stderr ?? ((t: string) => process.stderr.write(`${t}\n`));
  let exitCode = 0;

  const root = () => findRoot(deps.cwd ?? process.cwd(), env);
  const load = async (): Promise<Project> => loadProject(root());
  const confirm = deps.confirm ?? (async (q: string) => {
    if (!process.stdin.isTTY) throw new UserError(`${q} — not on a terminal: pass --yes to confirm`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${q} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  });

  const clock: ops.Clock = deps.clock ?? { now: deps.now ?? (() => new Date()), sleep: realSleep };
  /**
   * `focus`: the environments the command acts on. Only they must load cleanly: a broken file of
   * another environment is a warning, never a blocker (an emergency rollback of production must not
   * depend on staging's file). Without it, the whole project must be valid.
   */
  const context = async (o: Common, command: string, focus?: readonly string[], signal?: AbortSignal): Promise<ops.Context> => {
    // Arguments before files: a bad flag is reported whatever state the project is in.
    const { wait } = parseArgs(command.split(" ")[0]!, { wait: WaitArg }, { wait: o.wait ?? "0" });
    const project = await loadProject(root(), focus ? { focus } : {});
    if (project.warnings?.length) err(formatWarnings(project.warnings));
    const target = readTarget(env, project.root);
    const aws = (e: Environment) => awsClientTarget(target, e.region);
    const traffic = new Map<string, TrafficApi>();
    return {
      project,
      deployer: deps.deployer ?? new CdktfDeployer(project.root, env),
      traffic: deps.traffic ?? ((e) => traffic.get(e.name) ?? traffic.set(e.name, lazyTraffic(e.name, aws(e))).get(e.name)!),
      metrics: deps.metrics ?? ((e) => lazyMetrics(aws(e))),
      alarms: deps.alarms ?? ((e) => lazyAlarms(aws(e))),
      snapshots: deps.snapshots ?? ((e) => lazySnapshots(aws(e))),
      smoke: deps.smoke ?? defaultSmokeDeps,
      settings: deps.settings ?? slotSettingsFor,
      progress: deps.progress ?? defaultProgress(),
      actor: currentActor(env),
      clock,
      signal: signal ?? deps.signal,
      out,
      dryRun: o.json ? (plan) => out(JSON.stringify({ dryRun: true, ...plan }, null, 2)) : undefined,
      options: { deploy: o.deploy !== false, dryRun: o.dryRun === true, waitSeconds: wait },
      command: `envctl ${command}`,
      // Production-tier changes need a yes; asked once, after the change was validated, showing it.
      approve: async (e, what) => {
        if (e.tier !== "production" || o.yes || approved.has(e.name)) return;
        err([`${e.name} (production): ${what.summary}`, ...(what.diff ? [what.diff.trimEnd()] : []), `stacks to deploy: ${what.stacks.join(" ") || "none"}`].join("\n"));
        if (!(await confirm(`Apply this to ${e.name} (production)?`))) throw new UserError("cancelled, nothing changed");
        approved.add(e.name);
      },
    };
  };
  const approved = new Set<string>();

  const report = (ctx: ops.Context, envName: string, o: Common) => {
    if (o.dryRun) return;
    const loaded = ops.environment(ctx, envName);
    const view = statusOf({ ...loaded, release: ops.currentRelease(ctx, envName) }, lastAnalysisOf(readAudit(ctx.project.root, envName)));
    out(o.json ? JSON.stringify(view, null, 2) : formatStatus([view]));
  };

  const program = new Command("envctl")
    .description("Promote, shift, canary and roll back releases of the environments")
    .version(VERSION, "-V, --version", "print envctl's version")
    // `envctl --version` is envctl's; `envctl stage dev --version 1.6.0` is stage's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) })
    .showHelpAfterError(false);

  const common = (cmd: Command, mutating = true) => {
    cmd.option("--json", "machine-readable output");
    if (mutating) {
      cmd.option("--no-deploy", "only edit the release file (GitOps: the pipeline deploys)")
        .option("--dry-run", "show the release-file diff and the stack that would deploy; change nothing")
        .option("-y, --yes", "do not prompt (CI)")
        .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0");
    }
    return cmd;
  };

  const known = (project: Project) => project.environments.map((e) => e.config.name);

  examples(common(program.command("status").argument("[env]", "one environment (default: all)").description("live slot, versions, weights, rollout step, last change and analysis; --live: beside what runs")
    .option("--live", "also read what runs: the ALB's weights, target health per slot, the gate's alarms; differences marked (exit 2 when what runs differs from the file or cannot be read)")
    .option("--watch [seconds]", "--live, again every <seconds> (default 5) until Ctrl-C: redrawn on a terminal, only changes otherwise"), false), [
    ["envctl status", "every environment, from the release files"],
    ["envctl status production --json", "one environment, machine-readable"],
    ["envctl status production --live", "the file beside the ALB, target health and alarms"],
    ["envctl status staging --watch 10", "follow a rollout (e.g. one CI runs)"],
  ])
    .action(async (name: string | undefined, o: Common & { live?: boolean; watch?: boolean | string }) => {
      const project = await load();
      const envs = name ? project.environments.filter((e) => e.config.name === name) : project.environments;
      if (name && envs.length === 0) throw new RefusedError(unknownEnvironmentMessage(name, known(project)));
      if (o.live || o.watch !== undefined) {
        const interval = o.watch === undefined || o.watch === true ? 5 : parseArgs("status", { watch: z.coerce.number({ error: "must be a number" }).int("must be whole seconds").min(1, "must be ≥ 1") }, { watch: o.watch }).watch;
        const target = readTarget(env, project.root);
        const aws = (e: Environment) => awsClientTarget(target, e.region);
        const sources = new Map<string, LiveSources>();
        const live: LiveDeps = {
          root: project.root,
          environments: envs,
          sources: (e) => sources.get(e.name) ?? sources.set(e.name, { traffic: deps.traffic?.(e) ?? lazyTraffic(e.name, aws(e)), alarms: deps.alarms?.(e) ?? lazyAlarms(aws(e)) }).get(e.name)!,
          now: clock.now,
        };
        const output = { json: o.json === true, out, write: deps.write ?? ((t: string) => process.stdout.write(t)), tty: deps.tty ?? (process.stdout.isTTY === true) };
        if (o.watch === undefined) {
          exitCode = await statusLive(live, output, name !== undefined);
          return;
        }
        const stop = deps.signal ? undefined : interruptOn(["SIGINT", "SIGTERM"], () => undefined);
        try {
          await statusWatch(live, output, interval, clock.sleep, deps.signal ?? stop?.signal);
        } finally {
          stop?.dispose();
        }
        return;
      }
      const views = envs.map((e) => statusOf(e, lastAnalysisOf(readAudit(project.root, e.config.name))));
      out(o.json ? JSON.stringify(name ? views[0] : views, null, 2) : formatStatus(views));
    });

  examples(common(program.command("promote").argument("<from>", "environment the version comes from").argument("<to>", "environment receiving it (along the promotion graph)").description("put <from>'s live version (or --version) into <to>'s idle slot at weight 0 and deploy it")
    .option("--version <tag>", "a version <from> has run (default: its live version)")
    .option("--snapshot", "snapshot the database first (always on where the environment requires it)")
    .option("--rollback", "allow a rollback-only path (e.g. production → staging)")), [
    ["envctl promote dev staging", "dev's live version into staging's idle slot, deploy staging's workloads"],
    ["envctl promote staging production --yes", "production: snapshot the database first, no prompt (CI)"],
    ["envctl promote staging production --dry-run", "show the release-file diff, change nothing"],
  ])
    .action(async (from: string, to: string, o: Common & { version?: string; snapshot?: boolean; rollback?: boolean }) => {
      const ctx = await context(o, `promote ${from} ${to}${o.version ? ` --version ${o.version}` : ""}`, [from, to]);
      await ops.promote(ctx, from, to, { version: o.version, snapshot: o.snapshot, rollback: o.rollback });
      report(ctx, to, o);
    });

  examples(common(program.command("stage").argument("<env>", "environment (with --version: a graph root, e.g. dev)").description("put a newly built version (or, without --version, the live version with the environment's current settings) into the idle slot at weight 0 and deploy it")
    .option("--version <tag>", "image tag of the build (only on a graph root, e.g. dev)")
    .option("--digest <sha256>", "the image's digest (sha256:<64 hex>): the slot then runs <repository>@<digest>")), [
    ["envctl stage dev --version 1.6.0", "the new build into dev's idle slot at 0 %"],
    ["envctl stage dev --version 1.6.0 --no-deploy", "only edit the release file (the pipeline deploys)"],
    ["envctl stage staging", "staging's live version again, with the environment's current settings"],
  ])
    .action(async (name: string, o: Common & { version?: string; digest?: string }) => {
      const args = parseArgs("stage", { version: VersionSchema.optional(), digest: DigestSchema.optional() }, { version: o.version, digest: o.digest });
      const ctx = await context(o, `stage ${name}${args.version ? ` --version ${args.version}` : ""}${args.digest ? ` --digest ${args.digest}` : ""}`);
      await ops.stage(ctx, name, args);
      report(ctx, name, o);
    });

  examples(common(program.command("shift").argument("<env>", "environment").description("set the traffic weights and deploy the traffic stack")
    .requiredOption("--to <slot>", "slot receiving --percent (blue or green)")
    .requiredOption("--percent <n>", "its share of the traffic, 0-100")), [
    ["envctl shift staging --to green --percent 25", "green 25 %, blue 75 %; deploys staging-traffic only"],
    ["envctl shift production --to green --percent 50 --no-deploy", "GitOps: edit the file, open a pull request"],
  ])
    .action(async (name: string, o: Common & { to: string; percent: string }) => {
      const args = parseArgs("shift", { to: SlotArg, percent: PercentArg }, { to: o.to, percent: o.percent });
      const ctx = await context(o, `shift ${name} --to ${args.to} --percent ${args.percent}`, [name]);
      await ops.shift(ctx, name, args.to, args.percent);
      report(ctx, name, o);
    });

  examples(program.command("rollout").argument("<env>", "environment whose idle slot holds the new version").description("progressive canary of the idle slot: smoke checks, then each step deployed, read back and analysed (alarms and metrics every interval); rolls back on failure; resumes an interrupted one")
    .option("--bake <seconds>", "override every step's bake time (must still hold one analysis window)")
    .option("--continue", "go on from a manual pause step")
    .addOption(new Option("--on-interrupt <what>", "on Ctrl-C/SIGTERM: return traffic to the stable slot, or leave it").choices(["rollback", "leave"]).default("rollback"))
    .option("--dry-run", "show the steps, the analysis and the smoke checks; change nothing")
    .option("-y, --yes", "do not prompt (CI)")
    .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0")
    .option("--json", "machine-readable output"), [
    ["envctl rollout staging", "the tier's canary steps, each analysed; rolls back on failure"],
    ["envctl rollout production --yes", "production without a prompt (CI)"],
    ["envctl rollout production --continue", "go on from a manual pause step"],
    ["envctl rollout dev --dry-run --json", "the steps it would take, machine-readable"],
  ])
    .action(async (name: string, o: Common & { bake?: string; continue?: boolean; onInterrupt: "rollback" | "leave" }) => {
      const bake = o.bake === undefined ? undefined : parseArgs("rollout", { bake: BakeArg }, { bake: o.bake }).bake;
      const stop = deps.signal ? undefined : interruptOn(["SIGINT", "SIGTERM"], err);
      try {
        const ctx = await context(o, `rollout ${name}${o.continue ? " --continue" : ""}`, [name], stop?.signal);
        await rollout(ctx, name, { bakeSeconds: bake, continue: o.continue === true, onInterrupt: o.onInterrupt });
        report(ctx, name, o);
      } finally {
        stop?.dispose();
      }
    });

  examples(common(program.command("rollback").argument("<env>", "environment").description("100 % back to the previous live slot at once: the weights are written to the ALB first, then the file and the traffic stack")), [
    ["envctl rollback production --yes", "all traffic back on the slot that was live before"],
  ])
    .action(async (name: string, o: Common) => {
      const ctx = await context(o, `rollback ${name}`, [name]);
      await ops.rollback(ctx, name);
      report(ctx, name, o);
    });

  examples(common(program.command("abort").argument("<env>", "environment with a rollout in progress").description("stop a rollout (here or on another machine) and restore the weights it started from, at once")), [
    ["envctl abort production --yes", "stop the rollout, weights back to where it started"],
  ])
    .action(async (name: string, o: Common) => {
      const ctx = await context(o, `abort ${name}`, [name]);
      await ops.abort(ctx, name);
      report(ctx, name, o);
    });

  examples(common(program.command("snapshot").argument("<env>", "environment").description("snapshot the environment's database now and wait until it is available (pipelines call it before applying a promotion)")
    .option("--reason <word>", "part of the snapshot id", "pre-promote"), false)
    .option("-y, --yes", "do not prompt (CI)"), [
    ["envctl snapshot production --yes", "snapshot production-postgres now, wait until available"],
  ])
    .action(async (name: string, o: Common & { reason: string }) => {
      const { reason } = parseArgs("snapshot", { reason: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, "must be a-z, 0-9 and '-', up to 21 chars") }, { reason: o.reason });
      const ctx = await context(o, `snapshot ${name}`, [name]);
      const e = ops.environment(ctx, name);
      await ctx.approve(e.config, { summary: `snapshot ${name}-postgres`, stacks: [] });
      const id = await ops.takeSnapshot(ctx, e.config, reason);
      out(o.json ? JSON.stringify({ environment: name, snapshot: id }) : `snapshot ${id} of ${name}-postgres is available`);
    });

  examples(common(program.command("reconcile").argument("<env>", "environment whose release file is marked pending").description("finish a deploy that failed: redeploy the file, or --revert to the state before it")
    .option("--revert", "restore and deploy the state before the failed change")), [
    ["envctl reconcile staging", "deploy what the file says again"],
    ["envctl reconcile staging --revert", "restore the state before the failed change and deploy it"],
  ])
    .action(async (name: string, o: Common & { revert?: boolean }) => {
      const ctx = await context(o, `reconcile ${name}${o.revert ? " --revert" : ""}`, [name]);
      await ops.reconcile(ctx, name, o.revert === true);
      report(ctx, name, o);
    });

  examples(common(program.command("diff").argument("<envA>", "environment").argument("<envB>", "environment").description("compare two environments side by side, differences marked ≠"), false), [
    ["envctl diff staging production", "sizing, versions, weights, database, cost ... side by side"],
    ["envctl diff dev staging --json", "the rows, machine-readable"],
  ])
    .action(async (a: string, b: string, o: Common) => {
      const project = await load();
      const find = (n: string) => {
        const e = project.environments.find((x) => x.config.name === n);
        if (!e) throw new RefusedError(unknownEnvironmentMessage(n, known(project)));
        return e;
      };
      const [ea, eb] = [find(a), find(b)];
      const rows = comparisonMatrix(ea, eb, ops.costRows(ea.config, eb.config));
      out(o.json ? JSON.stringify({ environments: [a, b], rows }, null, 2) : formatMatrix([a, b], rows));
    });

  registerReleaseCheck(program, { root, load, out, err, setExit: (c) => { exitCode = c; } });
  examples(program.commands.find((c) => c.name() === "release-check")!, [
    ["envctl release-check --base origin/main", "what the release files of this change do; exit 1 on a mixed change"],
    ["envctl release-check --base origin/main --only production --json", "one environment, machine-readable"],
  ]);
  registerRestoreCommand(program, { load, env, out, err, now: clock.now, actor: currentActor(env) });

  registerReviewCommands(program, {
    load, root, out, err, env,
    setExit: (c) => { exitCode = c; },
    deployer: (r) => deps.deployer ?? new CdktfDeployer(r, env),
    progress: () => deps.progress ?? defaultProgress(),
    now: clock.now,
  });

  registerReportCommand(program, { load, out, now: clock.now, cwd: () => deps.cwd ?? process.cwd() });

  examples(program, [
    ["envctl status", "what the release files say, per environment"],
    ["envctl stage dev --version 1.6.0", "a new build into dev's idle slot"],
    ["envctl rollout dev", "canary it, alarm-gated"],
    ["envctl promote dev staging", "onwards along the promotion graph"],
    ["envctl <command> --help", "options and examples of one command"],
  ]);
  const secrets = deps.secrets ?? ((e: Environment) => {
    const target = readTarget(env, root());
    return secretsManagerStore(awsClientTarget(target, e.region));
  });
  registerSecretCommands(program, { load, out, err, secrets, confirm, readSecret: deps.readSecret ?? ((p) => readSecretInput(p)), interactive: deps.interactive ?? (() => process.stdin.isTTY === true) });
  registerConfigCommands(program, { load, out, secrets, setExit: (c) => { exitCode = c; } });

  try {
    await program.parseAsync([...argv], { from: "node" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0) return 0;
      return ops.EXIT.invalid; // commander already printed its message
    }
    const { code, text } = classify(e);
    err(text);
    return code;
  }
}

function classify(e: unknown): { code: number; text: string } {
  if (e instanceof RefusedError || e instanceof StoreError) return { code: ops.EXIT.invalid, text: `error: ${e.message}` };
  if (e instanceof LockedError) return { code: ops.EXIT.locked, text: `error: ${e.message}` };
  if (e instanceof ops.GateStoppedError) return { code: ops.EXIT.gateStopped, text: `error: ${e.message}` };
  if (e instanceof ops.DeployFailedError) return { code: ops.EXIT.deployFailed, text: `error: ${e.message}` };
  if (e instanceof ops.SupersededError) return { code: ops.EXIT.superseded, text: `stopped: ${e.message}` };
  if (e instanceof ops.InterruptedError) return { code: ops.EXIT.interrupted, text: `interrupted: ${e.message}` };
  const fs = fileSystemError(e);
  if (fs) return { code: ops.EXIT.invalid, text: `error: ${fs}` };
  return describeError(e);
}

/**
 * Errors of the machine, not of envctl: a folder that is not writable, a full disk, a missing
 * file. Reported as a clear error (exit 1), never as an internal error with a stack trace.
 */
const FILE_SYSTEM_CODES: Record<string, string> = {
  EACCES: "permission denied", EPERM: "operation not permitted", EROFS: "read-only file system",
  ENOSPC: "no space left on the device", EDQUOT: "disk quota exceeded", ENOENT: "no such file or directory",
  ENOTDIR: "not a directory", EISDIR: "is a directory", EEXIST: "already exists", EMFILE: "too many open files",
};

export function fileSystemError(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (!(e instanceof Error) || typeof err?.code !== "string" || !Object.hasOwn(FILE_SYSTEM_CODES, err.code) || typeof err.syscall !== "string") return undefined;
  const inside = typeof err.path === "string" ? relative(process.cwd(), err.path) : "";
  const where = typeof err.path !== "string" ? "a file" : inside && !inside.startsWith("..") ? inside : err.path;
  return `cannot ${err.syscall} ${where}: ${FILE_SYSTEM_CODES[err.code]} (${err.code})`;
}

const realSleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal?.aborted) return reject(signal.reason);
  const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
  signal?.addEventListener("abort", onAbort, { once: true });
});

/**
 * The first SIGINT/SIGTERM aborts the returned signal (the rollout returns traffic, or leaves it,
 * and exits 8); a second one exits at once.
 */
function interruptOn(signals: NodeJS.Signals[], say: (t: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      say(`${sig} again: exiting now`);
      process.exit(ops.EXIT.interrupted);
    }
    say(`${sig}: stopping the rollout (press Ctrl-C again to exit at once)`);
    controller.abort(new Error(sig));
  };
  for (const s of signals) process.on(s, handler);
  return { signal: controller.signal, dispose: () => { for (const s of signals) process.off(s, handler); } };
}

export { Option };
