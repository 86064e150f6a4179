/**
 * envctl: a thin shell over the release (lib/release) and the review tools. The commands live in
 * lib/cli/commands/*; lib/cli/compose.ts wires the real adapters into the release's ports (tests
 * inject their own through {@link Deps}); lib/cli/report.ts maps outcomes to the exit codes of
 * lib/cli/exit-codes.ts.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { secretsManagerStore } from "../aws/secrets-manager.ts";
import type { Environment } from "../config/schema.ts";
import { EngineDeployer } from "../deploy/runner.ts";
import { eventPayload } from "../release/model/events.ts";
import { readTarget } from "../stacks/target.ts";
import { currentActor } from "./actor.ts";
import { refuseBlankArguments } from "./args.ts";
import { registerAnalysisCommands } from "./commands/analysis.ts";
import { registerApprovalCommands } from "./commands/approvals.ts";
import { registerConfigCommands } from "./commands/config.ts";
import { registerDataCommands } from "./commands/data.ts";
import { registerDiffCommand } from "./commands/diff.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerMaintenanceCommand } from "./commands/maintenance.ts";
import { registerMigrateCommand } from "./commands/migrate.ts";
import { registerNotifyCommand } from "./commands/notify.ts";
import { registerPromotionCommands, registerRecoveryCommands } from "./commands/release.ts";
import { registerReleaseCheck } from "./commands/release-check.ts";
import { registerReportCommand } from "./commands/report.ts";
import { registerRestoreCommand } from "./commands/restore.ts";
import { registerRolloutCommand } from "./commands/rollout.ts";
import { registerScheduleCommands } from "./commands/schedule.ts";
import { registerSecretCommands } from "./commands/secret.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { registerUiCommand } from "./commands/ui.ts";
import { environmentAws } from "./compose.ts";
import type { Deps } from "./deps.ts";
import { EXIT } from "./exit-codes.ts";
import { examples } from "./help.ts";
import { defaultProgress } from "./progress.ts";
import { classify } from "./report.ts";
import { registerReviewCommands } from "./review-commands.ts";
import { readSecretInput } from "./secret-input.ts";
import { createShell } from "./shell.ts";

export type { Deps } from "./deps.ts";
export { fileSystemError } from "./report.ts";
export { findRoot } from "./shell.ts";

/** envctl's version: the package's. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function main(argv: readonly string[], deps: Deps = {}): Promise<number> {
  const shell = createShell(deps, argv.slice(2));
  const { env, out, err, root, load, clock, confirm, setExit } = shell;

  const program = new Command("envctl")
    .description("Promote, shift, canary and roll back releases of the environments")
    .version(VERSION, "-V, --version", "print envctl's version")
    // `envctl --version` is envctl's; `envctl stage dev --version 1.6.0` is stage's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) })
    .showHelpAfterError(false)
    // An empty or blank argument (`envctl status ""`) is refused for every command, before its action.
    .hook("preAction", (_program, action) => refuseBlankArguments(action));

  registerStatusCommand(program, shell);
  registerPromotionCommands(program, shell);
  registerRolloutCommand(program, shell);
  registerScheduleCommands(program, shell);
  registerAnalysisCommands(program, shell);
  registerRecoveryCommands(program, shell);
  registerMigrateCommand(program, shell);
  registerDataCommands(program, shell);
  registerMaintenanceCommand(program, shell);
  registerNotifyCommand(program, shell);
  registerDiffCommand(program, shell);
  registerDoctorCommand(program, shell);
  registerApprovalCommands(program, shell, (args, over) => main(["node", "envctl", ...args], { ...deps, ...over }));
  registerUiCommand(program, shell, (args, over) => main(["node", "envctl", ...args], { ...deps, ...over }));

  registerReleaseCheck(program, { root, load, out, err, setExit });
  examples(program.commands.find((c) => c.name() === "release-check")!, [
    ["envctl release-check --base origin/main", "what the release files of this change do; exit 1 on a mixed change"],
    ["envctl release-check --base origin/main --only production --json", "one environment, machine-readable"],
  ]);
  registerRestoreCommand(program, {
    load,
    env,
    out,
    err,
    now: clock.now,
    actor: currentActor(env),
    notify: (project, name, reason, evidence, severity) => {
      shell.notifyProject(project);
      shell.notifier.send(
        eventPayload({
          event: "restore",
          environment: name,
          at: clock.now().toISOString(),
          by: currentActor(env),
          command: `envctl restore ${name}`,
          reason,
          evidence,
          link: shell.runLink() ?? null,
          ...(severity ? { severity } : {}),
        }),
      );
    },
  });

  registerReviewCommands(program, {
    load,
    root,
    out,
    err,
    env,
    setExit,
    deployer: (r) => deps.deployer ?? new EngineDeployer(r, env),
    progress: () => deps.progress ?? defaultProgress(),
    now: clock.now,
    notify: { notifier: shell.notifier, project: shell.notifyProject, actor: currentActor(env), link: shell.runLink() },
    confirm,
  });

  registerReportCommand(program, { load, out, now: clock.now, cwd: () => deps.cwd ?? process.cwd() });

  examples(program, [
    ["envctl status", "what the release files say, per environment"],
    ["envctl stage dev --version 1.6.0", "a new build into dev's idle slot"],
    ["envctl rollout dev", "canary it, alarm-gated"],
    ["envctl promote dev staging", "onwards along the promotion graph"],
    ["envctl <command> --help", "options and examples of one command"],
  ]);
  const secrets =
    deps.secrets ??
    ((e: Environment) => {
      const target = readTarget(env, root());
      return secretsManagerStore(environmentAws(target, e));
    });
  registerSecretCommands(program, {
    load,
    out,
    err,
    secrets,
    confirm,
    readSecret: deps.readSecret ?? ((p) => readSecretInput(p)),
    interactive: deps.interactive ?? (() => process.stdin.isTTY === true),
  });
  registerConfigCommands(program, { load, out, secrets, setExit });

  try {
    try {
      await program.parseAsync([...argv], { from: "node" });
    } finally {
      // Notifications run in the background: wait for them, bounded, before the process ends.
      await shell.settleNotifications();
    }
    return shell.exitCode();
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0) return EXIT.ok;
      return EXIT.invalid; // commander already printed its message
    }
    const { code, text } = classify(e);
    err(text);
    return code;
  }
}

export { Option };
