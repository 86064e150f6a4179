/**
 * `envctl ui`: the web console and its HTTP API (lib/ui). This file is the console's composition:
 * each action of the API runs through the same parsing, context (./compose.ts: locks, identity and
 * account check, approvals, notifications) and release functions as the envctl command of the
 * same name, with a fresh shell per action (approvals and the production prompt are answered per
 * action, never remembered across requests).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { lazyAlarms, lazyTraffic } from "../../aws/lazy.ts";
import { ConfigError } from "../../config/errors.ts";
import { loadProject } from "../../config/load.ts";
import { lazyKubeWorkloads } from "../../kube/workloads.ts";
import { promote, shift } from "../../release/commands.ts";
import { DEFAULT_MAINTENANCE_MESSAGE, maintenance } from "../../release/maintenance.ts";
import { abort, rollback } from "../../release/mitigation.ts";
import { rollout } from "../../release/rollout/controller.ts";
import { observe } from "../../review/live.ts";
import type { Action, ActionIo, ActionOutcome, ReleaseCore } from "../../ui/core.ts";
import { isLoopback, startConsole } from "../../ui/server.ts";
import { currentActor } from "../actor.ts";
import { intArg, parseArgs } from "../args.ts";
import { examples } from "../help.ts";
import { classify, UserError } from "../report.ts";
import { createShell, type Shell } from "../shell.ts";
import { interruptOn } from "../signals.ts";
import { type Rerun, registerApprovalCommands } from "./approvals.ts";
import { recentMetrics, rolloutPlan } from "./ui-reads.ts";

/** The command line of an action, as the history records it. */
function commandOf(a: Action): string {
  switch (a.kind) {
    case "promote":
      return `promote ${a.from} ${a.to}${a.version ? ` --version ${a.version}` : ""}`;
    case "shift":
      return `shift ${a.env} --to ${a.to} --percent ${a.percent}`;
    case "rollout":
      return `rollout ${a.env}${a.continue ? " --continue" : ""}`;
    case "maintenance":
      // as `envctl maintenance` words it (the change id of an approval depends on it)
      return [
        `maintenance ${a.env} ${a.state}`,
        a.message !== undefined ? " --message …" : "",
        ...(a.allowCidrs ?? []).map((c) => ` --allow-cidr ${c}`),
      ].join("");
    default:
      return `${a.kind} ${a.env}`;
  }
}

/**
 * The envctl arguments of an action: what the history records, and what an approval of its change
 * runs again (`envctl approve` recomputes the change from them).
 */
export function argvOf(a: Action): string[] {
  switch (a.kind) {
    case "promote":
      return ["promote", a.from, a.to, ...(a.version ? ["--version", a.version] : [])];
    case "shift":
      return ["shift", a.env, "--to", a.to, "--percent", String(a.percent)];
    case "rollout":
      return [
        "rollout",
        a.env,
        ...(a.continue ? ["--continue"] : []),
        ...(a.rps !== undefined ? ["--rps", String(a.rps)] : []),
        ...(a.errorRate !== undefined ? ["--error-rate", String(a.errorRate)] : []),
        "--on-interrupt",
        "leave",
      ];
    case "maintenance":
      return [
        "maintenance",
        a.env,
        a.state,
        ...(a.message !== undefined ? ["--message", a.message] : []),
        ...(a.allowCidrs ?? []).flatMap((c) => ["--allow-cidr", c]),
      ];
    case "approve":
      return ["approve", a.env, a.changeId];
    default:
      return [a.kind, a.env];
  }
}

/**
 * The release core of the console over the shell of `envctl ui`. `rerun`: envctl itself, which
 * `envctl approve` runs to recompute the change it approves.
 */
export function shellCore(shell: Shell, rerun: Rerun): ReleaseCore {
  const actor = currentActor(shell.env);
  return {
    load: () => shell.load(),
    now: () => shell.clock.now(),
    actor: () => actor,
    observe: async (name) => {
      const project = await loadProject(shell.root(), { focus: [name] });
      const e = project.environments.find((x) => x.config.name === name)?.config;
      if (!e) return undefined;
      const aws = shell.awsOptions(project.root)(e);
      const { deps } = shell;
      return observe(
        name,
        {
          traffic: deps.traffic?.(e) ?? lazyTraffic(e.name, aws),
          alarms: deps.alarms?.(e) ?? lazyAlarms(aws),
          ...(e.compute.kind === "eks"
            ? { workloads: deps.workloads?.(e) ?? lazyKubeWorkloads(e.name, shell.kubeTargets(project.root)(e)) }
            : {}),
        },
        shell.clock.now(),
      );
    },
    metrics: (name) => recentMetrics(shell, name),
    plan: (name, req) => rolloutPlan(shell, name, req),
    run: async (a: Action, io: ActionIo): Promise<ActionOutcome> => {
      const output: string[] = [];
      const s = createShell(
        {
          ...shell.deps,
          progress: io.progress,
          signal: io.signal,
          stdout: (t) => output.push(t),
          stderr: (t) => io.progress.info(t),
          // The page asks for the typed confirmation before the request: never a terminal prompt here.
          confirm: async () => {
            throw new UserError("production changes need the environment's name typed in the confirm field");
          },
        },
        argvOf(a),
      );
      try {
        await runAction(s, a, io, output, rerun);
        return { ok: true, exitCode: 0, output };
      } catch (e) {
        const { code, text } = classify(e);
        return { ok: false, exitCode: code, message: text.replace(/^error: /, ""), problems: problemsOf(e) };
      } finally {
        await s.settleNotifications();
      }
    },
  };
}

const problemsOf = (e: unknown) => (e instanceof ConfigError ? e.problems : []);

async function runAction(s: Shell, a: Action, io: ActionIo, output: string[], rerun: Rerun): Promise<void> {
  if (a.kind === "approve") {
    // `envctl approve`: the same command, parsed and run in this process.
    const program = new Command("envctl").exitOverride();
    registerApprovalCommands(program, s, rerun);
    await program.parseAsync(["approve", a.env, a.changeId, "--json"], { from: "user" });
    return;
  }
  const command = commandOf(a);
  const focus = a.kind === "promote" ? [a.from, a.to] : [a.env];
  // The actor is envctl's (the person running the console): the same change as the command's, so
  // an approval of it (`envctl approve` recomputes the change) matches.
  const ctx = await s.context({ yes: io.confirmed, json: true }, command, focus, io.signal);
  switch (a.kind) {
    case "promote":
      await promote(ctx, a.from, a.to, { version: a.version });
      break;
    case "shift":
      await shift(ctx, a.env, a.to, a.percent);
      break;
    case "rollout":
      // Pause interrupts the rollout and leaves the traffic where it is; Resume runs it again.
      await rollout(ctx, a.env, {
        continue: a.continue,
        onInterrupt: "leave",
        plan: { rps: a.rps, errorRatePercent: a.errorRate },
      });
      break;
    case "abort":
      await abort(ctx, a.env);
      break;
    case "rollback":
      await rollback(ctx, a.env);
      break;
    case "maintenance":
      await maintenance(
        ctx,
        a.env,
        a.state === "off"
          ? null
          : {
              message: a.message ?? DEFAULT_MAINTENANCE_MESSAGE,
              allowCidrs: [...(a.allowCidrs ?? [])],
              allowHeader: null,
            },
      );
      break;
  }
  s.report(ctx, a.kind === "promote" ? a.to : a.env, { json: true });
  output.push(`${command}: done`);
}

/** A token file: one line, at least 32 characters, nothing but printable ASCII. */
const TokenSchema = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().regex(/^[\x21-\x7e]{32,512}$/, "must hold one token of 32-512 printable characters (no spaces)"));

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`ui: --token-file ${file}: cannot be read (${(e as Error).message})`);
  }
  return parseArgs("ui", { tokenFile: TokenSchema }, { tokenFile: text }).tokenFile;
}

export function registerUiCommand(program: Command, shell: Shell, rerun: Rerun): void {
  examples(
    program
      .command("ui")
      .description(
        "the web console and HTTP API (/api, documented at /api/openapi.json): environments, rollouts with their " +
          "evidence, actions through the same release core as envctl; 127.0.0.1 by default",
      )
      .option("--port <n>", "port to listen on (0: any free port)", "7070")
      .option("--host <address>", "address to bind; anything but loopback requires --token-file", "127.0.0.1")
      .option("--read-only", "no actions: no buttons, no action routes")
      .option("--token-file <file>", "a file holding the access token (required off loopback)"),
    [
      ["envctl ui", "open http://127.0.0.1:7070"],
      ["envctl ui --read-only --port 8080", "a dashboard without buttons"],
      ["envctl ui --host 0.0.0.0 --token-file ~/.envctl-ui-token", "shared on the network: behind a TLS proxy"],
    ],
  ).action(async (o: { port: string; host: string; readOnly?: boolean; tokenFile?: string }) => {
    const { port, host } = parseArgs(
      "ui",
      {
        port: intArg(0, 65535),
        host: z.string().regex(/^[0-9a-zA-Z.:[\]-]{1,253}$/, "must be an IP address or host name"),
      },
      { port: o.port, host: o.host },
    );
    const token = o.tokenFile ? readToken(resolve(shell.deps.cwd ?? process.cwd(), o.tokenFile)) : undefined;
    if (!isLoopback(host) && !token)
      throw new UserError(
        `ui: --host ${host} is not a loopback address: anyone who reaches it could change the environments; ` +
          "pass --token-file <file> (and put it behind a TLS proxy), or bind 127.0.0.1",
      );
    await loadProject(shell.root()); // a broken project is reported before the server starts
    const stop = shell.deps.signal ? undefined : interruptOn(["SIGINT", "SIGTERM"], () => undefined);
    const signal = shell.deps.signal ?? stop!.signal;
    try {
      const running = await startConsole(shellCore(shell, rerun), {
        host,
        port,
        readOnly: o.readOnly === true,
        ...(token ? { token } : {}),
      });
      shell.out(
        `envctl ui: ${running.url}${o.readOnly ? " (read-only)" : ""}${token ? " (token required: open /login)" : ""}; Ctrl-C stops it`,
      );
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      await running.close();
    } finally {
      stop?.dispose();
    }
  });
}
