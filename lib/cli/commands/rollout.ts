/** `envctl rollout <env>`: the progressive canary (lib/release/rollout/controller.ts) after its traffic plan
 * (lib/release/rollout/plan.ts), stopped by Ctrl-C/SIGTERM. */
import { type Command, Option } from "commander";
import { rollout } from "../../release/rollout/controller.ts";
import { BakeArg, ErrorRateArg, parseArgs, RpsArg } from "../args.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { interruptOn } from "../signals.ts";
import { breakGlass } from "./options.ts";

export function registerRolloutCommand(program: Command, shell: Shell): void {
  examples(
    breakGlass(
      program
        .command("rollout")
        .argument("<env>", "environment whose idle slot holds the new version")
        .description(
          "progressive canary of the idle slot: its traffic plan first (refused when a step cannot " +
            "reach a verdict), smoke checks, then each step deployed, read back and analysed (alarms " +
            "and metrics every interval); rolls back on failure; resumes an interrupted one",
        )
        .option("--bake <seconds>", "override every step's bake time (must still hold one analysis window)")
        .option("--continue", "go on from a manual pause step")
        .option(
          "--migrate",
          "run the canary's missing expand migration ('envctl migrate <env> --to <its " +
            "schema.requires>') before any traffic moves, when the live slot runs on it too",
        )
        .option(
          "--rps <n>",
          "plan with this many requests per second (default: the quietest hour of the load balancer's last 7 days in the rollout's hours)",
        )
        .option(
          "--error-rate <percent>",
          "plan with this stable error rate (default: the last 7 days'; never below errorRateFloorPercent)",
        )
        .option(
          "--ignore-plan",
          "start even when the traffic plan says a step cannot reach a verdict (recorded in the history)",
        )
        .addOption(
          new Option("--on-interrupt <what>", "on Ctrl-C/SIGTERM: return traffic to the stable slot, or leave it")
            .choices(["rollback", "leave"])
            .default("rollback"),
        )
        .option("--dry-run", "show the traffic plan, the steps, the analysis and the smoke checks; change nothing")
        .option("-y, --yes", "do not prompt (CI)")
        .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0")
        .option("--json", "machine-readable output"),
    ),
    [
      ["envctl rollout staging", "the tier's canary steps, each analysed; rolls back on failure"],
      ["envctl rollout production --yes", "production without a prompt (CI)"],
      ["envctl rollout production --continue", "go on from a manual pause step"],
      ["envctl rollout dev --dry-run --json", "the steps it would take and the traffic plan, machine-readable"],
      ["envctl rollout staging --rps 40 --error-rate 0.5", "plan with a rate you know instead of CloudWatch's history"],
      ["envctl rollout staging --ignore-plan", "start although a step cannot reach a verdict (noted in the history)"],
    ],
  ).action(
    async (
      name: string,
      o: Common & {
        bake?: string;
        continue?: boolean;
        migrate?: boolean;
        onInterrupt: "rollback" | "leave";
        rps?: string;
        errorRate?: string;
        ignorePlan?: boolean;
      },
    ) => {
      const { bake, rps, errorRate } = parseArgs(
        "rollout",
        { bake: BakeArg.optional(), rps: RpsArg.optional(), errorRate: ErrorRateArg.optional() },
        { bake: o.bake, rps: o.rps, errorRate: o.errorRate },
      );
      const stop = shell.deps.signal ? undefined : interruptOn(["SIGINT", "SIGTERM"], shell.err);
      try {
        const ctx = await shell.context(
          o,
          `rollout ${name}${o.continue ? " --continue" : ""}${o.migrate ? " --migrate" : ""}${o.ignorePlan ? " --ignore-plan" : ""}`,
          [name],
          stop?.signal,
        );
        await rollout(ctx, name, {
          bakeSeconds: bake,
          continue: o.continue === true,
          migrate: o.migrate === true,
          onInterrupt: o.onInterrupt,
          plan: { rps, errorRatePercent: errorRate, ignorePlan: o.ignorePlan === true },
        });
        shell.report(ctx, name, o);
      } finally {
        stop?.dispose();
      }
    },
  );
}
