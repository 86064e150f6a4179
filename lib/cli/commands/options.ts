/** Options several commands share. */
import type { Command } from "commander";

/** `--json`, and for a command that changes something `--no-deploy`, `--dry-run`, `--yes`, `--wait`. */
export function common(cmd: Command, mutating = true): Command {
  cmd.option("--json", "machine-readable output");
  if (mutating) {
    cmd
      .option("--no-deploy", "only edit the release file (GitOps: the pipeline deploys)")
      .option("--dry-run", "show the release-file diff and the stack that would deploy; change nothing")
      .option("-y, --yes", "do not prompt (CI)")
      .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0");
  }
  return cmd;
}

/** `--break-glass <reason>`: run outside the release calendar (the approvals plus one; recorded and notified). */
export function breakGlass(cmd: Command): Command {
  return cmd.option(
    "--break-glass <reason>",
    "run outside the release windows or in a freeze, saying why: needs the environment's approvals plus one; recorded and notified",
  );
}
