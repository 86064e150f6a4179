/**
 * `envctl notify <env> <event> --reason <text>`: sends one release event to the environment's
 * targets, for what happens outside envctl (a pipeline's database migration, most often), and
 * prints how each delivery ended. A failed delivery is reported, never an error: notifications
 * never fail a pipeline.
 */
import type { Command } from "commander";
import { z } from "zod";
import { loadProject } from "../../config/load.ts";
import { unknownEnvironmentMessage } from "../../config/suggest.ts";
import { RefusedError } from "../../release/model/errors.ts";
import { eventPayload, NotifyEventSchema, NotifySeveritySchema } from "../../release/model/events.ts";
import { readNotes } from "../../release/store/index.ts";
import { currentActor } from "../actor.ts";
import { parseArgs } from "../args.ts";
import { examples } from "../help.ts";
import type { Shell } from "../shell.ts";

export function registerNotifyCommand(program: Command, shell: Shell): void {
  examples(
    program
      .command("notify")
      .argument("<env>", "environment")
      .argument("<event>", "the event, e.g. migration")
      .description(
        "send one release event to the environment's notification targets (for what happens outside " +
          "envctl, e.g. a database migration) and print how each delivery ended",
      )
      .requiredOption("--reason <text>", "what happened, in one line")
      .option("--evidence <text>", "the detail behind it (a migration's id, a log line)")
      .option("--severity <level>", "info, warning or critical (default: the event's own)")
      .option("--json", "machine-readable output"),
    [
      [
        "envctl notify production migration --reason 'schema 42 applied' --evidence 'flyway V42__orders_index'",
        "tell on-call a migration ran",
      ],
    ],
  ).action(
    async (
      name: string,
      event: string,
      o: { reason: string; evidence?: string; severity?: string; json?: boolean },
    ) => {
      const args = parseArgs(
        "notify",
        {
          event: NotifyEventSchema,
          reason: z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters"),
          evidence: z.string().max(2000, "must be at most 2000 characters").optional(),
          severity: NotifySeveritySchema.optional(),
        },
        { event, reason: o.reason, evidence: o.evidence, severity: o.severity },
      );
      const project = await loadProject(shell.root(), { focus: [name] });
      const e = project.environments.find((x) => x.config.name === name);
      if (!e)
        throw new RefusedError(
          unknownEnvironmentMessage(
            name,
            project.environments.map((x) => x.config.name),
          ),
        );
      shell.notifyProject(project);
      const since = shell.clock.now().toISOString();
      const command = `envctl notify ${name} ${args.event}`;
      const release = e.release;
      shell.notifier.send(
        eventPayload({
          event: args.event,
          environment: name,
          at: since,
          by: currentActor(shell.env),
          command,
          reason: args.reason,
          release,
          evidence: args.evidence ?? null,
          link: shell.runLink() ?? null,
          ...(args.severity ? { severity: args.severity } : {}),
        }),
      );
      await shell.settleNotifications();
      const deliveries = readNotes(project.root, name, "notification").filter(
        (n) => n.at >= since && n.event === args.event,
      );
      const targets = e.config.notify.targets.length;
      shell.out(
        o.json
          ? JSON.stringify({ environment: name, event: args.event, deliveries }, null, 2)
          : targets === 0
            ? `${name}: no notification targets (notify.targets in environments/${name}.ts)`
            : deliveries.map((d) => `${d.target}: ${d.outcome}${d.error ? ` (${d.error})` : ""}`).join("\n") ||
              `${name}: no target takes ${args.event}`,
      );
    },
  );
}
