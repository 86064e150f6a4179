/**
 * One invocation of envctl: the terminal (output, prompts), the project root, the exit code, where
 * the adapters of an environment connect, and the release context of each command (built by the
 * composition root, ./compose.ts).
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { AwsClientOptions } from "../aws/clients.ts";
import { lazyEksAccess } from "../aws/lazy.ts";
import { loadProject, type Project } from "../config/load.ts";
import type { Environment } from "../config/schema.ts";
import { eksClusterName } from "../constructs/naming.ts";
import type { KubeTarget } from "../kube/workloads.ts";
import type { Clock } from "../release/ports/index.ts";
import { readAudit } from "../release/store/index.ts";
import { readTarget } from "../stacks/target.ts";
import { type CliContext, environmentAws, releaseContext } from "./compose.ts";
import type { Deps } from "./deps.ts";
import { type ShellNotifications, shellNotifications } from "./notifications.ts";
import { UserError } from "./report.ts";
import { realSleep } from "./signals.ts";
import { formatStatus, lastAnalysisOf, statusOf } from "./views/status.ts";

/** The options every release command shares. */
export interface Common {
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  deploy?: boolean;
  wait?: string;
  /** Run outside the release calendar, saying why. */
  breakGlass?: string;
}

/** One invocation of envctl; notifications of release events (lib/notify) for the projects loaded so far. */
export interface Shell extends ShellNotifications {
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
  /** How envctl reaches an EKS environment's cluster and as whom (lib/kube/config.ts). */
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
}

/** The project root: `$ENVSTACK_ROOT`, else the nearest directory upwards holding cdktf.json. */
export function findRoot(cwd: string, env: NodeJS.ProcessEnv): string {
  if (env.ENVSTACK_ROOT) return resolve(env.ENVSTACK_ROOT);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "cdktf.json"))) return dir;
    if (dirname(dir) === dir) throw new UserError(`no cdktf.json in ${cwd} or above: run envctl inside the project`);
  }
}

export function createShell(deps: Deps, argv: readonly string[] = []): Shell {
  const env = deps.env ?? process.env;
  const out = deps.stdout ?? ((t: string) => process.stdout.write(`${t}\n`));
  const err = deps.stderr ?? ((t: string) => process.stderr.write(`${t}\n`));
  let exitCode = 0;
  const root = () => findRoot(deps.cwd ?? process.cwd(), env);
  const confirm =
    deps.confirm ??
    (async (q: string) => {
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
  // An EKS environment's cluster (lib/kube/config.ts): by default on AWS, EKS's endpoint and CA and a
  // token envctl makes with the environment's role (the same credentials as its other AWS calls); on
  // the local target, the local control plane's admin kubeconfig, unless ENVSTACK_KUBE_AUTH=eks (the
  // emulator's cluster then stands for EKS, its tokens checked by the control plane's webhook).
  const kubeTargets = (projectRoot: string) => {
    const target = readTarget(env, projectRoot);
    return (e: Environment): KubeTarget => {
      if (target.kubeAuth === "eks")
        return { kind: "eks", access: lazyEksAccess(environmentAws(target, e), eksClusterName(e.name)) };
      if (target.kind === "local") return { kind: "kubeconfig", kubeconfig: target.kubeconfig };
      return {
        kind: "kubeconfig",
        kubeconfig:
          env.ENVSTACK_KUBECONFIG ?? env.KUBECONFIG?.split(delimiter)[0] ?? join(homedir(), ".kube", "config"),
        context: e.name,
      };
    };
  };

  const notifications = shellNotifications(deps, env, clock, root, err);
  const io = {
    deps,
    argv,
    env,
    clock,
    out,
    err,
    confirm,
    root,
    awsOptions,
    kubeTargets,
    approved,
    approvalsMet,
    ...notifications,
  };
  const context = (o: Common, command: string, focus?: readonly string[], signal?: AbortSignal) =>
    releaseContext(io, o, command, focus, signal);

  const report = (ctx: CliContext, name: string, o: Common) => {
    if (o.dryRun) return;
    const config = ctx.environments.get(name);
    const loaded = ctx.project.environments.find((x) => x.config.name === config.name)!;
    const view = statusOf(
      { ...loaded, release: ctx.store.load(name) },
      lastAnalysisOf(readAudit(ctx.project.root, name)),
    );
    out(o.json ? JSON.stringify(view, null, 2) : formatStatus([view]));
  };

  return {
    deps,
    env,
    out,
    err,
    clock,
    confirm,
    root,
    load: async () => loadProject(root()),
    setExit: (code) => {
      exitCode = code;
    },
    exitCode: () => exitCode,
    awsOptions,
    kubeTargets,
    context,
    report,
    ...notifications,
  };
}
