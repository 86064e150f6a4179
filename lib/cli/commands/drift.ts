/**
 * `envctl drift [env] [--heal <max-severity>]`: a refresh-only plan of every stack (lib/review/drift.ts),
 * each drifted attribute with its class (lib/review/drift-severity.ts). `--heal` re-applies only
 * the stacks whose drift is all at or below the class given (production asks first unless --yes);
 * the rest waits for the usual approved deploy. Every check and every heal is recorded in the
 * environment's history and notified (drift found, drift cleared).
 */
import type { Command } from "commander";
import type { Project } from "../../config/load.ts";
import { DriftSeveritySchema } from "../../config/schema/drift.ts";
import type { Deployer } from "../../deploy/runner.ts";
import { Engine } from "../../engine/engine.ts";
import { LockedError } from "../../fsutil/file-lock.ts";
import { eventPayload, type NotifySeverity } from "../../release/model/events.ts";
import type { Approval, Notifier } from "../../release/ports/index.ts";
import { appendNote, loadRelease, readNotes, withLock } from "../../release/store/index.ts";
import { detectDrift, driftStacks, EngineMissingError } from "../../review/drift.ts";
import {
  type ClassifiedStackDrift,
  classifyDrift,
  type DriftSeverity,
  formatClassifiedDrift,
  healPlan,
  worst,
} from "../../review/drift-severity.ts";
import { parseArgs } from "../args.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import type { Progress } from "../progress.ts";
import { UserError } from "../report.ts";

export interface DriftDeps {
  readonly root: () => string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly setExit: (code: number) => void;
  readonly deployer: (root: string) => Deployer;
  readonly progress: () => Progress;
  readonly now: () => Date;
  /** Notifications (drift found, drift cleared) and who runs envctl. @default none */
  readonly notify?: {
    readonly notifier: Notifier;
    readonly project: (p: Project) => void;
    readonly actor: string;
    readonly link?: string;
  };
  /** Asks before healing production. */
  readonly confirm?: (question: string) => Promise<boolean>;
  /**
   * The environment's approvals for this change (the release context's approve port): refuses
   * (nothing written) unless they are met; environments that require none pass at once.
   */
  readonly approve: (env: string, command: string, what: Approval) => Promise<void>;
}

/** The notification severity of drift of a class. */
const NOTIFY_SEVERITY: Record<DriftSeverity, NotifySeverity> = {
  critical: "critical",
  high: "warning",
  medium: "info",
  low: "info",
};

/** The environment a stack belongs to (`dev`, `dev-traffic`, `dev-workloads` → dev). */
function envOfStack(names: readonly string[], stack: string): string | undefined {
  return names.find((n) => stack === n || stack === `${n}-traffic` || stack === `${n}-workloads`);
}

const listOf = (r: ClassifiedStackDrift) =>
  r.resources.flatMap((d) => d.classes.map((c) => `${d.address}.${c.attribute} (${c.severity})`));

export function registerDriftCommand(program: Command, d: DriftDeps): void {
  examples(
    program
      .command("drift")
      .description(
        "plan every stack refresh-only and report each drifted attribute with its class (critical, " +
          "high, medium, low); --heal re-applies the stacks whose drift is all at or below a class (exit 2 when drift remains)",
      )
      .argument("[env]", "one environment (default: every one but previews)")
      .option(
        "--heal <max-severity>",
        "re-apply the stacks of <env> whose drift is all at or below this class (low, medium, high or critical); the others need the usual approved deploy",
      )
      .option("-y, --yes", "do not prompt before healing production (CI)")
      .option("--json", "machine-readable output"),
    [
      ["envctl drift", "every stack of every permanent environment"],
      ["TERRAFORM_BINARY_NAME=tofu envctl drift dev --json", "one environment with OpenTofu, machine-readable"],
      ["envctl drift staging --heal low", "re-apply the stacks whose only drift is tags and descriptions"],
    ],
  ).action(async (name: string | undefined, o: { json?: boolean; heal?: string; yes?: boolean }) => {
    const { heal } = parseArgs("drift", { heal: DriftSeveritySchema.optional() }, { heal: o.heal });
    if (heal && !name) throw new UserError("drift: --heal needs <env>: a heal re-applies one environment's stacks");
    const root = d.root();
    const engine = Engine.fromEnv(d.env);
    if (!engine.locate()) throw new EngineMissingError(engine.binary);
    const progress = d.progress();
    const { synthesizeProject } = await import("../../stacks/synth.ts"); // every construct: loaded only here
    const project = await progress.step("synthesize", () => synthesizeProject(root, d.env));
    d.notify?.project(project);
    const names = project.environments.map((e) => e.config.name);
    const classesOf = (stack: string) =>
      project.environments.find((e) => e.config.name === envOfStack(names, stack))?.config.drift.classes ?? [];
    const stacks = driftStacks(project.environments, name);
    const detect = async (list: readonly string[]) =>
      (await detectDrift(root, list, engine, (title, fn) => progress.step(title, () => fn()))).map((r) =>
        classifyDrift(r, classesOf(r.stack)),
      );
    const results = await detect(stacks);
    const command = `envctl drift${name ? ` ${name}` : ""}${heal ? ` --heal ${heal}` : ""}`;
    const emit = (
      env: string,
      event: "drift-found" | "drift-cleared",
      reason: string,
      evidence: string | null,
      severity?: NotifySeverity,
    ) =>
      d.notify?.notifier.send(
        eventPayload({
          event,
          environment: env,
          at: d.now().toISOString(),
          by: d.notify.actor,
          command,
          reason,
          evidence,
          link: d.notify.link ?? null,
          ...(severity ? { severity } : {}),
        }),
      );

    // The history and the notifications, per environment checked.
    for (const env of [...new Set(stacks.map((s) => envOfStack(names, s)!))]) {
      const own = results.filter((r) => envOfStack(names, r.stack) === env);
      const drifted = own.filter((r) => r.status === "drifted");
      const severity = worst(drifted.map((r) => r.severity!));
      const before = readNotes(project.root, env, "drift").at(-1);
      appendNote(project.root, env, {
        kind: "drift",
        at: d.now().toISOString(),
        by: d.notify?.actor ?? "envctl",
        command,
        drifted: drifted.map((r) => ({ stack: r.stack, severity: r.severity, attributes: listOf(r) })),
        severity,
      });
      if (severity)
        emit(
          env,
          "drift-found",
          `${drifted.length} stack(s) of ${env} drifted (worst: ${severity}): ${drifted.map((r) => `${r.stack} (${r.severity})`).join(", ")}`,
          drifted.flatMap(listOf).slice(0, 20).join("; "),
          NOTIFY_SEVERITY[severity],
        );
      else if (before && Array.isArray(before.drifted) && before.drifted.length > 0)
        emit(env, "drift-cleared", `the stacks of ${env} are in sync again`, null);
    }

    let remaining = results;
    if (heal) {
      const plan = healPlan(results, heal);
      for (const k of plan.keep)
        progress.info(
          `${k.stack}: not healed: drift above ${heal} (${k.above.join(", ")}) needs the usual approved deploy`,
        );
      if (plan.heal.length === 0) {
        progress.info(`${name}: nothing to heal at or below ${heal}`);
      } else {
        const e = project.environments.find((x) => x.config.name === name)!;
        // A heal re-applies stacks: a change of the environment, under its approvals like any other.
        await d.approve(name!, `drift ${name} --heal ${heal}`, {
          summary: `envctl drift ${name} --heal ${heal}: re-apply ${plan.heal.join(", ")} to undo drift at or below ${heal}`,
          stacks: [...plan.heal],
        });
        if (e.config.tier === "production" && !o.yes) {
          if (!d.confirm)
            throw new UserError(`drift: healing production re-applies ${plan.heal.join(", ")}: pass --yes to confirm`);
          if (
            !(await d.confirm(
              `Re-apply ${plan.heal.join(", ")} of ${name} (production) to heal drift at or below ${heal}?`,
            ))
          )
            throw new UserError("cancelled, nothing changed");
        }
        const healed = results.filter((r) => plan.heal.includes(r.stack));
        let outcome: "healed" | "still drifted" | "failed" = "healed";
        let error: string | undefined;
        // A heal deploys what the release file says: never beside another envctl's deploy, never over a deploy that did not finish.
        const pending = loadRelease(project.root, name!).pending;
        if (pending)
          throw new UserError(
            `drift: ${name}: the deploy of ` +
              `${pending.stacks.join(", ")} by ` +
              `'${pending.command}' did not finish; run 'envctl reconcile ${name}' first (it deploys the file, which heals its stacks too)`,
          );
        try {
          await withLock(
            project.root,
            name!,
            0,
            () => progress.step(`heal ${plan.heal.join(" ")}`, (log) => d.deployer(root).deploy(plan.heal, log)),
            command,
          );
          const after = await detect(plan.heal);
          remaining = results.map((r) => after.find((a) => a.stack === r.stack) ?? r);
          if (after.some((a) => a.status === "drifted")) outcome = "still drifted";
        } catch (err) {
          if (err instanceof LockedError) throw err; // another envctl holds the environment: nothing was healed (exit 5)
          outcome = "failed";
          error = (err as Error).message.slice(0, 500);
        }
        appendNote(project.root, name!, {
          kind: "heal",
          at: d.now().toISOString(),
          by: d.notify?.actor ?? "envctl",
          command,
          maxSeverity: heal,
          stacks: plan.heal,
          attributes: healed.flatMap(listOf),
          outcome,
          ...(error ? { error } : {}),
        });
        progress.info(`${name}: heal of ${plan.heal.join(", ")}: ${outcome}${error ? ` (${error})` : ""}`);
        if (outcome === "healed")
          emit(
            name!,
            "drift-cleared",
            `healed ${plan.heal.join(", ")} (drift at or below ` +
              `${heal})${plan.keep.length ? `; still drifted: ${plan.keep.map((k) => `${k.stack} (${k.severity})`).join(", ")}` : ""}`,
            healed.flatMap(listOf).join("; "),
          );
        if (outcome === "failed")
          throw new UserError(`drift: the heal of ${plan.heal.join(", ")} failed: ${error}`, EXIT.deployFailed);
      }
    }
    d.out(o.json ? JSON.stringify(remaining, null, 2) : formatClassifiedDrift(remaining));
    if (remaining.some((r) => r.status === "drifted")) d.setExit(EXIT.drift);
  });
}
