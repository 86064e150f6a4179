/** `envctl status [env]`: the release files (lib/cli/views/status.ts); `--live` and `--watch`: beside what runs (./status-live.ts). */

import type { Command } from "commander";
import { z } from "zod";
import { lazyAlarms, lazyMaintenance, lazyTraffic } from "../../aws/lazy.ts";
import type { LoadedEnvironment } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { unknownEnvironmentMessage } from "../../config/suggest.ts";
import { TierSchema } from "../../core/primitives.ts";
import { lazyKubeWorkloads } from "../../kube/workloads.ts";
import { describeCause, RefusedError } from "../../release/model/errors.ts";
import { readAudit } from "../../release/store/index.ts";
import { readSchedule } from "../../release/store/schedule.ts";
import type { LiveSources } from "../../review/live.ts";
import { parseArgs } from "../args.ts";
import { databasePort } from "../compose.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { interruptOn } from "../signals.ts";
import {
  DETAILED_UP_TO,
  formatStatus,
  formatStatusSummary,
  lastAnalysisOf,
  type SchemaReadBack,
  statusOf,
} from "../views/status.ts";
import { common } from "./options.ts";
import { type LiveDeps, statusLive, statusWatch } from "./status-live.ts";

/** The database's schema read back now, where envctl reaches the database and the environment tracks a schema. */
async function schemaReadBack(shell: Shell, root: string, e: LoadedEnvironment): Promise<SchemaReadBack | undefined> {
  const r = e.release;
  if (r.database === undefined && r.slots.blue.schema === undefined && r.slots.green.schema === undefined)
    return undefined;
  // Without AWS options: on AWS a read is an SSM command on an instance (docker pull, psql), too heavy for a status view.
  const port = databasePort(shell.deps, shell.env, root, () => e.config).database;
  if (!port) return undefined;
  try {
    const s = await port(e.config, r.database?.instance).readSchema();
    return { ...s, at: shell.clock.now().toISOString() };
  } catch (err) {
    return { error: describeCause(err) };
  }
}

export function registerStatusCommand(program: Command, shell: Shell): void {
  const { deps, out, clock } = shell;
  examples(
    common(
      program
        .command("status")
        .argument("[env]", "one environment (default: all)")
        .description("live slot, versions, weights, rollout step, last change and analysis; --live: beside what runs")
        .option(
          "--live",
          "also read what runs: the ALB's weights, target health per slot, the gate's alarms; " +
            "differences marked (exit 2 when what runs differs from the file or cannot be read)",
        )
        .option(
          "--watch [seconds]",
          "--live, again every <seconds> (default 5) until Ctrl-C: redrawn on a terminal, only changes otherwise",
        )
        .option("--tier <tier>", "only the environments of this tier (development, staging, production)"),
      false,
    ),
    [
      ["envctl status", "every environment, from the release files (a summary first above 12)"],
      ["envctl status --tier production", "the production tier only"],
      ["envctl status production --json", "one environment, machine-readable"],
      ["envctl status production --live", "the file beside the ALB, target health and alarms"],
      ["envctl status staging --watch 10", "follow a rollout (e.g. one CI runs)"],
    ],
  ).action(
    async (name: string | undefined, o: Common & { live?: boolean; watch?: boolean | string; tier?: string }) => {
      const { tier } = parseArgs("status", { tier: TierSchema.optional() }, { tier: o.tier });
      const project = await shell.load();
      const envs = (name ? project.environments.filter((e) => e.config.name === name) : project.environments).filter(
        (e) => tier === undefined || e.config.tier === tier,
      );
      if (name && envs.length === 0)
        throw new RefusedError(
          unknownEnvironmentMessage(
            name,
            project.environments.map((e) => e.config.name),
          ),
        );
      if (o.live || o.watch !== undefined) {
        const interval =
          o.watch === undefined || o.watch === true
            ? 5
            : parseArgs(
                "status",
                {
                  watch: z.coerce
                    .number({ error: "must be a number" })
                    .int("must be whole seconds")
                    .min(1, "must be ≥ 1"),
                },
                { watch: o.watch },
              ).watch;
        const aws = shell.awsOptions(project.root);
        const kube = shell.kubeTargets(project.root);
        const sources = new Map<string, LiveSources>();
        const live: LiveDeps = {
          root: project.root,
          environments: envs,
          sources: (e: Environment) =>
            sources.get(e.name) ??
            sources
              .set(e.name, {
                traffic: deps.traffic?.(e) ?? lazyTraffic(e.name, aws(e)),
                alarms: deps.alarms?.(e) ?? lazyAlarms(aws(e)),
                // The listener's maintenance rules: the injected reader, else the ALB's (not when a test injected only a fake ALB).
                ...(deps.maintenance
                  ? { maintenance: deps.maintenance(e) }
                  : deps.traffic
                    ? {}
                    : { maintenance: lazyMaintenance(e.name, aws(e)) }),
                // EKS: each slot's Deployment from the cluster (the injected reader, else the API server's).
                ...(e.compute.kind === "eks"
                  ? { workloads: deps.workloads?.(e) ?? lazyKubeWorkloads(e.name, kube(e)) }
                  : {}),
              })
              .get(e.name)!,
          now: clock.now,
        };
        const output = {
          json: o.json === true,
          out,
          write: deps.write ?? ((t: string) => process.stdout.write(t)),
          tty: deps.tty ?? process.stdout.isTTY === true,
        };
        if (o.watch === undefined) {
          shell.setExit(await statusLive(live, output, name !== undefined));
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
      const views = await Promise.all(
        envs.map(async (e) =>
          statusOf(
            e,
            lastAnalysisOf(readAudit(project.root, e.config.name)),
            await schemaReadBack(shell, project.root, e),
            { now: clock.now(), scheduled: readSchedule(project.root, e.config.name).changes },
          ),
        ),
      );
      const text = name || views.length <= DETAILED_UP_TO ? formatStatus(views) : formatStatusSummary(views);
      out(o.json ? JSON.stringify(name ? views[0] : views, null, 2) : text);
    },
  );
}
