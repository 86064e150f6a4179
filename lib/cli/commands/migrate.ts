/**
 * `envctl migrate <env> --to N`: the environment's database to schema version N, run by the app
 * image's migration command (lib/release/migrate.ts; the gates: lib/release/gates/schema.ts). Exit 0
 * migrated, 1 refused (nothing ran), 5 locked, 10 the command failed or timed out (recorded).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { localImage } from "../../database/local.ts";
import { migrate } from "../../release/migrate.ts";
import type { SchemaRange } from "../../release/model/slots.ts";
import { intArg, parseArgs, SchemaVersionArg } from "../args.ts";
import { examples } from "../help.ts";
import { UserError } from "../report.ts";
import type { Common, Shell } from "../shell.ts";
import { common } from "./options.ts";

/** The longest `--timeout` of a migration: 6 hours. */
const TimeoutArg = intArg(1, 6 * 3600, " seconds");

/** The schema range the local image stand-in of `version` declares (its labels), when there is one. */
export function schemaFromLocalImage(env: NodeJS.ProcessEnv, root: string, version: string): SchemaRange | undefined {
  const images = env.ENVSTACK_LOCAL_IMAGES ?? join(root, "images");
  if (!existsSync(join(images, version, "image.json"))) return undefined;
  try {
    return localImage(images, version).contract.schema;
  } catch (err) {
    throw new UserError(`stage: ${(err as Error).message}`);
  }
}

export function registerMigrateCommand(program: Command, shell: Shell): void {
  examples(
    common(
      program
        .command("migrate")
        .argument("<env>", "environment whose database migrates")
        .description(
          "migrate the environment's database to schema version --to with a slot's image (its " +
            "migration command, from inside the network); holds the environment's lock, snapshots " +
            "production first, streams the output, honours the exit code, records the change; " +
            "refused when a serving slot does not run on the target schema, or the old slot's rollback window has not passed",
        )
        .requiredOption("--to <N>", "the schema version to migrate to (golang-migrate's `goto N`)")
        .option(
          "--timeout <seconds>",
          "stop the migration command after this long (the database's state is read back and recorded)",
          "600",
        ),
    ),
    [
      ["envctl migrate dev --to 2", "the expand: both slots' versions run on schema 2"],
      [
        "envctl migrate production --to 3 --yes",
        "the contract, after the old slot serves 0 % and its rollback window passed; snapshot first",
      ],
      ["envctl migrate staging --to 3 --dry-run", "say what would run, or why it is refused; change nothing"],
    ],
  ).action(async (name: string, o: Common & { to: string; timeout: string }) => {
    const args = parseArgs("migrate", { to: SchemaVersionArg, timeout: TimeoutArg }, { to: o.to, timeout: o.timeout });
    const ctx = await shell.context(o, `migrate ${name} --to ${args.to}`, [name]);
    await migrate(ctx, name, { to: args.to, timeoutSeconds: args.timeout });
    shell.report(ctx, name, o);
  });
}
