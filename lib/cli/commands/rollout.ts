/** `envctl rollout <env>`: the progressive canary (lib/release/controller.ts), stopped by Ctrl-C/SIGTERM. */
import { Option, type Command } from "commander";
import { rollout } from "../../release/controller.ts";
import { BakeArg, parseArgs } from "../args.ts";
import type { Common, Shell } from "../context.ts";
import { examples } from "../help.ts";
import { interruptOn } from "../signals.ts";

export function registerRolloutCommand(program: Command, shell: Shell): void {
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
      const stop = shell.deps.signal ? undefined : interruptOn(["SIGINT", "SIGTERM"], shell.err);
      try {
        const ctx = await shell.context(o, `rollout ${name}${o.continue ? " --continue" : ""}`, [name], stop?.signal);
        await rollout(ctx, name, { bakeSeconds: bake, continue: o.continue === true, onInterrupt: o.onInterrupt });
        shell.report(ctx, name, o);
      } finally {
        stop?.dispose();
      }
    });
}
