/**
 * `envctl schedule <env> <version> --at <time>`, `schedule list`, `schedule cancel <env> <id>` and
 * `schedule run` (the cron job's): scheduled rollouts within the release calendar
 * (lib/release/schedule.ts; the calendar: lib/release/calendar.ts).
 */
import type { Command } from "commander";
import { z } from "zod";
import { calendarOf } from "../../release/calendar.ts";
import { localTime } from "../../release/gates/calendar.ts";
import { STRATEGIES } from "../../release/model/schedule.ts";
import { quietestAt } from "../../release/rollout/plan-quietest.ts";
import { cancelScheduled, runDue, scheduleChange, scheduledChanges } from "../../release/schedule.ts";
import { parseArgs } from "../args.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { common } from "./options.ts";

const AtArg = z
  .string()
  .regex(
    /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/,
    "must be an ISO 8601 date-time with its offset, e.g. 2026-12-08T02:00:00Z or 2026-12-08T03:00:00+01:00",
  )
  .transform((s) => new Date(s))
  .refine((d) => !Number.isNaN(d.getTime()), "is not a valid date-time");
const VersionArg = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a valid image tag");
const IdArg = z
  .string()
  .regex(/^s-[0-9a-f]{8}$/, "must be a scheduled change id s-<8 hex digits> (see 'envctl schedule list')");

const duration = (s: number) => (s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

export function registerScheduleCommands(program: Command, shell: Shell): void {
  const schedule = examples(
    common(
      program
        .command("schedule")
        .argument("[env]", "environment")
        .argument("[version]", "the version to roll out (promoted from the environment feeding it, or staged)")
        .description(
          "schedule a rollout inside the release calendar: recorded with its estimated duration; its " +
            "approvals are asked for now and bound to the environment's current state",
        )
        .option("--at <time>", "when it starts (ISO 8601 with offset); must fall inside a window it can finish in")
        .option("--strategy <name>", `how it goes live: ${STRATEGIES.join(", ")}`, "canary"),
    ),
    [
      ["envctl schedule production 2.2.0 --at 2026-12-08T02:00:00Z", "tonight at 02:00 UTC, the canary steps"],
      ["envctl schedule list", "what is scheduled, when, how long it takes, the traffic it will see"],
      ["envctl schedule cancel production s-1a2b3c4d", "cancel one that has not started"],
      ["envctl schedule run --yes", "the cron job: start what is due, once"],
    ],
  ).action(
    async (name: string | undefined, version: string | undefined, o: Common & { at?: string; strategy: string }) => {
      const args = parseArgs(
        "schedule",
        {
          env: z.string({ error: "is required: envctl schedule <env> <version> --at <time>" }),
          version: VersionArg,
          at: AtArg,
          strategy: z.enum(STRATEGIES),
        },
        { env: name, version, at: o.at, strategy: o.strategy },
      );
      const ctx = await shell.context(o, `schedule ${args.env} ${args.version} --at ${args.at.toISOString()}`, [
        args.env,
      ]);
      const c = await scheduleChange(ctx, args.env, { version: args.version, at: args.at, strategy: args.strategy });
      const e = ctx.environments.get(args.env);
      shell.out(
        o.json
          ? JSON.stringify(c, null, 2)
          : `${args.env}: ${c.id} scheduled: ${c.version} at ${localTime(calendarOf(e), new Date(c.at))}, about ${duration(c.estimatedSeconds)}`,
      );
    },
  );

  examples(
    schedule
      .command("list")
      .description("scheduled changes of every environment: when, the estimated duration, the quietest hour's traffic")
      .option("--json", "machine-readable output"),
    [
      ["envctl schedule list", "what is scheduled, in each environment's time zone"],
      ["envctl schedule list --json", "machine-readable, with the quietest hour's requests per second"],
    ],
  ).action(async (o: { json?: boolean }) => {
    const ctx = await shell.context({}, "schedule list");
    const rows = await Promise.all(
      scheduledChanges(ctx).map(async ({ env, change }) => ({
        ...change,
        environment: env.name,
        local: localTime(calendarOf(env), new Date(change.at)),
        traffic:
          change.state === "scheduled"
            ? await quietestAt(ctx, env, new Date(change.at), change.estimatedSeconds)
            : null,
      })),
    );
    if (o.json) return shell.out(JSON.stringify(rows, null, 2));
    if (rows.length === 0) return shell.out("nothing scheduled");
    for (const r of rows) {
      const traffic = !r.traffic
        ? ""
        : "rps" in r.traffic
          ? `, quietest hour ${r.traffic.rps.toFixed(1)} req/s`
          : `, traffic unknown: ${r.traffic.unknown}`;
      shell.out(
        `${r.id}  ${r.environment}  ${r.version}  ${r.local}  ${r.state}  about ${duration(r.estimatedSeconds)}${traffic}${r.note ? `  (${r.note})` : ""}`,
      );
    }
  });

  examples(
    common(
      schedule
        .command("cancel")
        .argument("<env>", "environment")
        .argument("<id>", "the scheduled change (s-<8 hex digits>)")
        .description("cancel a scheduled change that has not started"),
    ),
    [["envctl schedule cancel production s-1a2b3c4d", "it will not start; recorded in the schedule"]],
  ).action(async (name: string, id: string, o: Common) => {
    const args = parseArgs("schedule cancel", { id: IdArg }, { id });
    const ctx = await shell.context(o, `schedule cancel ${name} ${args.id}`, [name]);
    const c = await cancelScheduled(ctx, name, args.id);
    shell.out(o.json ? JSON.stringify(c, null, 2) : `${name}: ${c.id} cancelled`);
  });

  examples(
    common(
      schedule
        .command("run")
        .description(
          "start every due scheduled change once; skip (recorded, notified) what lacks approvals or whose window passed",
        ),
    ),
    [["envctl schedule run --yes --wait 60", "what the cron workflow runs every 15 minutes"]],
  ).action(async (o: Common) => {
    const ctx = await shell.context(o, "schedule run");
    const outcomes = await runDue(ctx);
    if (o.json)
      shell.out(
        JSON.stringify(
          outcomes.map(({ release: _, ...x }) => x),
          null,
          2,
        ),
      );
    else if (outcomes.length === 0) shell.out("nothing due");
    else for (const x of outcomes) shell.out(`${x.environment}: ${x.id} ${x.outcome}: ${x.reason}`);
    // A skipped change is one people expected to start: the cron job goes red.
    if (outcomes.some((x) => x.outcome === "skipped")) shell.setExit(EXIT.gateStopped);
  });
}
