/**
 * The release commands that change an environment: promote, stage, shift, rollback, abort,
 * snapshot, reconcile. Each parses its arguments, builds the release context (lib/cli/compose.ts)
 * and calls the release (lib/release/commands.ts, lib/release/mitigation.ts); the canary is
 * ./rollout.ts.
 */
import type { Command } from "commander";
import { z } from "zod";
import { promote, reconcile, shift, stage, takeSnapshot } from "../../release/commands.ts";
import { abort, rollback } from "../../release/mitigation.ts";
import { DigestSchema, VersionSchema } from "../../release/model/slots.ts";
import { PercentArg, parseArgs, SchemaRangeArg, SlotArg } from "../args.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { schemaFromLocalImage } from "./migrate.ts";
import { breakGlass, common } from "./options.ts";

/** promote, stage, shift. */
export function registerPromotionCommands(program: Command, shell: Shell): void {
  examples(
    common(
      breakGlass(
        program
          .command("promote")
          .argument("<from>", "environment the version comes from")
          .argument("<to>", "environment receiving it (along the promotion graph)")
          .description("put <from>'s live version (or --version) into <to>'s idle slot at weight 0 and deploy it")
          .option("--version <tag>", "a version <from> has run (default: its live version)")
          .option("--snapshot", "snapshot the database first (always on where the environment requires it)")
          .option("--rollback", "allow a rollback-only path (e.g. production → staging)"),
      ),
    ),
    [
      ["envctl promote dev staging", "dev's live version into staging's idle slot, deploy staging's workloads"],
      ["envctl promote staging production --yes", "production: snapshot the database first, no prompt (CI)"],
      ["envctl promote staging production --dry-run", "show the release-file diff, change nothing"],
    ],
  ).action(
    async (from: string, to: string, o: Common & { version?: string; snapshot?: boolean; rollback?: boolean }) => {
      const ctx = await shell.context(o, `promote ${from} ${to}${o.version ? ` --version ${o.version}` : ""}`, [
        from,
        to,
      ]);
      await promote(ctx, from, to, { version: o.version, snapshot: o.snapshot, rollback: o.rollback });
      shell.report(ctx, to, o);
    },
  );

  examples(
    common(
      program
        .command("stage")
        .argument("<env>", "environment (with --version: a graph root, e.g. dev)")
        .description(
          "put a newly built version into the idle slot at weight 0 and deploy it; without " +
            "--version, the live version again with the environment's current settings (a " +
            "settings-only change; when the live slot already runs those settings, nothing changes: it says so and exits 0)",
        )
        .option("--version <tag>", "image tag of the build (only on a graph root, e.g. dev)")
        .option("--digest <sha256>", "the image's digest (sha256:<64 hex>): the slot then runs <repository>@<digest>")
        .option(
          "--schema <range>",
          "the database schema versions the version runs on, <requires>..<supportsUpTo> (the image's " +
            "envstack.schema.* labels; default: read from the local image stand-in when there is one)",
        ),
    ),
    [
      ["envctl stage dev --version 1.6.0", "the new build into dev's idle slot at 0 %"],
      ["envctl stage dev --version 1.6.0 --no-deploy", "only edit the release file (the pipeline deploys)"],
      [
        "envctl stage dev --version 1.6.0 --schema 2..3",
        "it needs schema 2 (its expand) and still runs on 3 (the contract)",
      ],
      [
        "envctl stage staging",
        "staging's live version again with the environment's current settings (nothing to change, exit 0, when the live slot runs them)",
      ],
    ],
  ).action(async (name: string, o: Common & { version?: string; digest?: string; schema?: string }) => {
    const args = parseArgs(
      "stage",
      { version: VersionSchema.optional(), digest: DigestSchema.optional(), schema: SchemaRangeArg.optional() },
      { version: o.version, digest: o.digest, schema: o.schema },
    );
    const ctx = await shell.context(
      o,
      `stage ${name}${
        args.version ? ` --version ${args.version}` : ""
      }${args.digest ? ` --digest ${args.digest}` : ""}${args.schema ? ` --schema ${args.schema.requires}..${args.schema.supportsUpTo}` : ""}`,
    );
    const schema =
      args.schema ?? (args.version ? schemaFromLocalImage(shell.env, ctx.project.root, args.version) : undefined);
    await stage(ctx, name, { ...args, ...(schema ? { schema } : {}) });
    shell.report(ctx, name, o);
  });

  examples(
    common(
      breakGlass(
        program
          .command("shift")
          .argument("<env>", "environment")
          .description("set the traffic weights and deploy the traffic stack")
          .requiredOption("--to <slot>", "slot receiving --percent (blue or green)")
          .requiredOption("--percent <n>", "its share of the traffic, 0-100"),
      ),
    ),
    [
      ["envctl shift staging --to green --percent 25", "green 25 %, blue 75 %; deploys staging-traffic only"],
      ["envctl shift production --to green --percent 50 --no-deploy", "GitOps: edit the file, open a pull request"],
    ],
  ).action(async (name: string, o: Common & { to: string; percent: string }) => {
    const args = parseArgs("shift", { to: SlotArg, percent: PercentArg }, { to: o.to, percent: o.percent });
    const ctx = await shell.context(o, `shift ${name} --to ${args.to} --percent ${args.percent}`, [name]);
    await shift(ctx, name, args.to, args.percent);
    shell.report(ctx, name, o);
  });
}

/** rollback, abort, snapshot, reconcile: listed after rollout. */
export function registerRecoveryCommands(program: Command, shell: Shell): void {
  const { out } = shell;

  examples(
    common(
      program
        .command("rollback")
        .argument("<env>", "environment")
        .description(
          "100 % back to the previous live slot at once: the weights are written to the ALB first, then the file and the traffic stack",
        ),
    ),
    [["envctl rollback production --yes", "all traffic back on the slot that was live before"]],
  ).action(async (name: string, o: Common) => {
    const ctx = await shell.context(o, `rollback ${name}`, [name]);
    await rollback(ctx, name);
    shell.report(ctx, name, o);
  });

  examples(
    common(
      program
        .command("abort")
        .argument("<env>", "environment with a rollout in progress")
        .description("stop a rollout (here or on another machine) and restore the weights it started from, at once"),
    ),
    [["envctl abort production --yes", "stop the rollout, weights back to where it started"]],
  ).action(async (name: string, o: Common) => {
    const ctx = await shell.context(o, `abort ${name}`, [name]);
    await abort(ctx, name);
    shell.report(ctx, name, o);
  });

  examples(
    common(
      program
        .command("snapshot")
        .argument("<env>", "environment")
        .description(
          "snapshot the environment's database now and wait until it is available (pipelines call it before applying a promotion)",
        )
        .option("--reason <word>", "part of the snapshot id", "pre-promote"),
      false,
    ).option("-y, --yes", "do not prompt (CI)"),
    [["envctl snapshot production --yes", "snapshot production-postgres now, wait until available"]],
  ).action(async (name: string, o: Common & { reason: string }) => {
    const { reason } = parseArgs(
      "snapshot",
      { reason: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, "must be a-z, 0-9 and '-', up to 21 chars") },
      { reason: o.reason },
    );
    const ctx = await shell.context(o, `snapshot ${name}`, [name]);
    const e = ctx.environments.get(name);
    await ctx.approve(e, { summary: `snapshot ${name}-postgres`, stacks: [] });
    const id = await takeSnapshot(ctx, e, reason);
    out(
      o.json ? JSON.stringify({ environment: name, snapshot: id }) : `snapshot ${id} of ${name}-postgres is available`,
    );
  });

  examples(
    common(
      program
        .command("reconcile")
        .argument("<env>", "environment whose release file is marked pending")
        .description("finish a deploy that failed: redeploy the file, or --revert to the state before it")
        .option("--revert", "restore and deploy the state before the failed change"),
    ),
    [
      ["envctl reconcile staging", "deploy what the file says again"],
      ["envctl reconcile staging --revert", "restore the state before the failed change and deploy it"],
    ],
  ).action(async (name: string, o: Common & { revert?: boolean }) => {
    const ctx = await shell.context(o, `reconcile ${name}${o.revert ? " --revert" : ""}`, [name]);
    await reconcile(ctx, name, o.revert === true);
    shell.report(ctx, name, o);
  });
}
