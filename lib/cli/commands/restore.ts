/**
 * `envctl restore <env> --snapshot <id>|--latest [--as <name>]`: the environment's database from
 * a snapshot or AWS Backup recovery point, into a new instance beside the live one (never over
 * it); waits for it and prints what to switch and the time it took. Exit 0 restored, 1 refused
 * (nothing changed), 9 the restore did not finish (the new instance is left for inspection).
 */
import type { Command } from "commander";
import { z } from "zod";
import type { Project } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { databaseIdentifier } from "../../constructs/naming.ts";
import type { RdsLike, RestoreOptions } from "../../recovery/restore.ts";
import type { Approval } from "../../release/ports/index.ts";
import { readTarget, type Target } from "../../stacks/target.ts";
import { environmentAws } from "../compose.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import { UserError } from "../report.ts";

export interface RestoreDeps {
  readonly load: () => Promise<Project>;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly now: () => Date;
  readonly actor: string;
  /** RDS client of a region. @default the SDK's (the emulator's endpoint on the local target) */
  readonly rds?: (region: string) => RdsLike | Promise<RdsLike>;
  /** Wait options. @default 15 s polls, 2 h timeout */
  readonly wait?: RestoreOptions;
  /**
   * The environment's approvals for this change (the release context's approve port): refuses
   * (nothing written) unless they are met; environments that require none pass at once.
   */
  readonly approve: (env: string, command: string, what: Approval) => Promise<void>;
  /** Announces the restore (the `restore` event) once its project is loaded. @default none */
  readonly notify?: (
    project: Project,
    env: string,
    reason: string,
    evidence: string | null,
    severity?: "info" | "warning" | "critical",
  ) => void;
}

const Options = z
  .object({
    snapshot: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9:._-]+$/, "must be a snapshot identifier or ARN")
      .optional(),
    latest: z.boolean().optional(),
    as: z.string().optional(),
    timeout: z.coerce
      .number({ error: "must be a number of minutes" })
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
  })
  .refine((o) => (o.snapshot !== undefined) !== (o.latest === true), {
    message: "name exactly one of --snapshot <id> and --latest",
    path: ["snapshot"],
  });

export function registerRestoreCommand(program: Command, d: RestoreDeps): void {
  examples(
    program
      .command("restore")
      .argument("<env>")
      .description(
        "restore the environment's database from a snapshot or recovery point into a NEW instance beside the live one; prints what to switch",
      )
      .option("--snapshot <id>", "snapshot identifier, or AWS Backup recovery point ARN (arn:aws:rds:…:snapshot:…)")
      .option("--latest", "the newest available snapshot or recovery point of the live database")
      .option("--as <name>", "identifier of the new instance (default <live>-restore-<yyyymmddhhmm>)")
      .option("--timeout <minutes>", "stop waiting after this long (the new instance is left as it is)", "120")
      .option("--json", "machine-readable result"),
    [
      ["envctl restore production --latest", "the newest recovery point into production-postgres-restore-<time>"],
      [
        "envctl restore staging --snapshot rds:staging-postgres-2026-11-20-03-00 --as staging-postgres-drill",
        "one snapshot, a chosen name",
      ],
    ],
  ).action(
    async (name: string, o: { snapshot?: string; latest?: boolean; as?: string; timeout?: string; json?: boolean }) => {
      const parsed = Options.safeParse(o);
      if (!parsed.success)
        throw new UserError(
          `restore: ${parsed.error.issues.map((i) => `--${String(i.path[0] ?? "snapshot")} ${i.message}`).join("; ")}`,
        );
      const project = await d.load();
      const env = project.environments.find((e) => e.config.name === name)?.config;
      if (!env)
        throw new UserError(
          `restore: unknown environment ${name} (known: ${project.environments.map((e) => e.config.name).join(", ")})`,
        );
      const [r, reads] = await Promise.all([
        import("../../recovery/restore.ts"),
        import("../../recovery/rds-reads.ts"),
      ]);
      const rds = d.rds ? await d.rds(env.region) : await sdkClient(env, readTarget(d.env, project.root));
      const live = databaseIdentifier(env.name);
      const source = parsed.data.snapshot ? { snapshot: parsed.data.snapshot } : { latest: true as const };
      // The change as the command line names it (a --latest snapshot, an --as name), so that its id stays the same until it runs.
      const asked = `${parsed.data.snapshot ? `--snapshot ${parsed.data.snapshot}` : "--latest"}${parsed.data.as ? ` --as ${parsed.data.as}` : ""}`;
      await d.approve(env.name, `restore ${env.name} ${asked}`, {
        summary: `envctl restore ${env.name} ${asked}: restore ${live} from ${parsed.data.snapshot ?? "its newest snapshot"} into a new instance beside it`,
        stacks: [],
      });
      try {
        const liveDb = await reads.readLive(rds, live, env.name);
        const target = parsed.data.as ?? r.defaultTargetName(live, d.now());
        const plan = r.planRestore({
          environment: env.name,
          live: liveDb,
          snapshots: await reads.readSnapshots(rds, source, live),
          source,
          as: target,
          existing: new Set((await reads.instanceExists(rds, target)) ? [target] : []),
          now: d.now(),
          actor: d.actor,
        });
        const say = o.json ? undefined : (line: string) => d.err(line);
        d.notify?.(
          project,
          env.name,
          `restore of ${live} from ${plan.snapshot.id} into ${plan.target} started (the live database is untouched)`,
          null,
          "warning",
        );
        const result = await (async () => {
          try {
            return await r.executeRestore(rds, plan, {
              ...d.wait,
              timeoutMs: (parsed.data.timeout ?? 120) * 60_000,
              say,
            });
          } catch (err) {
            d.notify?.(
              project,
              env.name,
              `restore of ${live} into ${plan.target} did not finish: ${(err as Error).message.slice(0, 300)}`,
              null,
              "critical",
            );
            throw err;
          }
        })();
        d.notify?.(
          project,
          env.name,
          `restore of ${live} finished: ${plan.target} is available (${result.seconds} s); switch the application to it to use it`,
          `${plan.snapshot.id} → ${result.endpoint}:${result.port}`,
          "warning",
        );
        d.out(
          o.json
            ? JSON.stringify(
                {
                  environment: env.name,
                  live,
                  restored: plan.target,
                  snapshot: plan.snapshot.id,
                  endpoint: result.endpoint,
                  port: result.port,
                  secretArn: result.secretArn,
                  seconds: result.seconds,
                },
                null,
                2,
              )
            : r.switchInstructions(result),
        );
      } catch (err) {
        if (err instanceof r.RestoreRefused) throw new UserError(`restore ${env.name}: ${err.message}`);
        if (err instanceof r.RestoreFailed)
          throw new UserError(`restore ${env.name}: ${err.message}`, EXIT.restoreFailed);
        const { describeAwsError } = await import("../../aws/clients.ts");
        throw new UserError(
          `restore ${env.name}: ${describeAwsError(err)}; the live database was not touched`,
          EXIT.restoreFailed,
        );
      }
    },
  );
}

/** RDS of the environment's account; the restore creates an instance: the caller's account is checked first. */
async function sdkClient(env: Environment, target: Target): Promise<RdsLike> {
  const [{ RDSClient }, { awsClientConfig }, { assertAccount }] = await Promise.all([
    import("@aws-sdk/client-rds"),
    import("../../aws/clients.ts"),
    import("../../aws/identity.ts"),
  ]);
  const o = environmentAws(target, env);
  await assertAccount(o);
  return new RDSClient(awsClientConfig(o, 3));
}
