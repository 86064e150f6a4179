/**
 * `envctl data copy <from> <to> --mask <spec.json>`, `envctl data confirm <env>`, `envctl data seed
 * <env> --script <file.sql>` (lib/database/copy.ts). Exit 0 done, 1 refused (nothing
 * switched), 5 locked, 10 the masking ran and did not hold (the copy is dropped).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import type { Environment } from "../../config/schema.ts";
import { confirmCopy, copyData, type DataPlane, seedData } from "../../database/copy.ts";
import { localDataPlane } from "../../database/local.ts";
import { type MaskSpec, MaskSpecSchema } from "../../database/masking.ts";
import { dbTools } from "../../engine/db-tools.ts";
import { readTarget } from "../../stacks/target.ts";
import { awsDataPlane } from "../aws-data-plane.ts";
import type { CliContext } from "../compose.ts";
import { examples } from "../help.ts";
import { UserError } from "../report.ts";
import type { Common, Shell } from "../shell.ts";

/** The masking spec of `--mask`, validated: every problem at once, each with its field and rule. */
export function readMaskSpec(file: string, shown = file): MaskSpec {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(
      `data copy: --mask ${shown}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `not valid JSON (${(err as Error).message})`}`,
    );
  }
  const parsed = MaskSpecSchema.safeParse(data);
  if (!parsed.success)
    throw new UserError(
      `data copy: --mask ${shown} is not a valid masking ` +
        `spec:\n${parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message.replace(/^Invalid input: /, "")}`).join("\n")}`,
    );
  return parsed.data;
}

/**
 * The databases a data command reaches: the test's; the local PostgreSQL on the local target with
 * ENVSTACK_LOCAL_POSTGRES (pg_dump standing in for the snapshot); otherwise RDS and the target's
 * runner (../aws-data-plane.ts), on AWS or on the emulator acting as AWS.
 */
function dataPlane(shell: Shell, ctx: CliContext, from: string, to = from): DataPlane {
  if (shell.deps.dataPlane) return shell.deps.dataPlane();
  const root = ctx.project.root;
  if (shell.env.ENVSTACK_LOCAL_POSTGRES && readTarget(shell.env, root).kind === "local") {
    const tools = dbTools(shell.env);
    return localDataPlane({ server: shell.env.ENVSTACK_LOCAL_POSTGRES, psql: tools.psql, pgDump: tools.pgDump });
  }
  const target = ctx.environments.get(to) as Environment;
  return awsDataPlane(ctx.environments.get(from) as Environment, target, shell.awsOptions(root)(target), (line) =>
    ctx.progress.info(`  ${line}`),
  );
}

export function registerDataCommands(program: Command, shell: Shell): void {
  const data = examples(
    program.command("data").description("production-like data in lower environments: masked copies, seed scripts"),
    [
      [
        "envctl data copy production staging --mask db/mask.json --yes",
        "production's data into a new database for staging, masked, verified, switched to",
      ],
      ["envctl data confirm staging", "drop the database staging used before the copy"],
      ["envctl data seed preview-42 --script db/seed.sql", "seed data into a preview"],
    ],
  );

  examples(
    data
      .command("copy")
      .argument("<from>", "environment whose database is copied")
      .argument("<to>", "environment switched to the copy")
      .description(
        "restore <from>'s latest snapshot into a new database in <to>'s network, mask it (--mask), " +
          "verify by query that no masked column holds a source value, then switch <to> to it (the " +
          "old database is kept until 'data confirm'); from a higher tier, refused without a complete masking spec",
      )
      .option(
        "--mask <spec.json>",
        [
          'the masking spec: { "tables": { "<schema>.<table>": { "<column>": "hash" | "fake-email" | "null" | "keep" } } }',
          " (public. may be left out; into a lower tier every column of every table of every schema; views are refreshed, never listed)",
        ].join(""),
      )
      .option("-y, --yes", "do not prompt (CI)")
      .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0")
      .option("--json", "machine-readable output"),
    [
      [
        "envctl data copy production staging --mask db/mask.json --yes",
        "production's data into staging, masked and verified",
      ],
      ["envctl data confirm staging", "drop the database staging used before the copy"],
    ],
  ).action(async (from: string, to: string, o: Common & { mask?: string }) => {
    const spec = o.mask ? readMaskSpec(resolve(shell.deps.cwd ?? process.cwd(), o.mask), o.mask) : undefined;
    const ctx = await shell.context(o, `data copy ${from} ${to}${o.mask ? ` --mask ${o.mask}` : ""}`, [from, to]);
    const r = await copyData(ctx, dataPlane(shell, ctx, from, to), from, to, spec, randomBytes(16).toString("hex"));
    shell.out(
      o.json
        ? JSON.stringify(
            {
              environment: to,
              from,
              copy: r.copy,
              previous: r.previous,
              verified: r.verified,
              schema: r.release.database?.schema ?? null,
            },
            null,
            2,
          )
        : `${to} now uses ${r.copy}, a copy of ${from}'s database${
            spec
              ? ` (masked; verified: ${
                  Object.entries(r.verified)
                    .map(([c, n]) => `${c} ${n}`)
                    .join(", ") || "nothing masked"
                } source values left)`
              : ""
          }; ${r.previous} is kept until 'envctl data confirm ${to}'`,
    );
  });

  examples(
    data
      .command("confirm")
      .argument("<env>", "environment switched to a data copy")
      .description("drop the database the environment used before its data copy")
      .option("-y, --yes", "do not prompt (CI)")
      .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0"),
    [["envctl data confirm staging", "the copy stays, the old database goes"]],
  ).action(async (env: string, o: Common) => {
    const ctx = await shell.context(o, `data confirm ${env}`, [env]);
    await confirmCopy(ctx, dataPlane(shell, ctx, env), env);
    shell.report(ctx, env, o);
  });

  examples(
    data
      .command("seed")
      .argument("<env>", "a test environment or preview (never production)")
      .description(
        "run a seed script (SQL) in the environment's database: test data for previews and test environments",
      )
      .requiredOption("--script <file.sql>", "the SQL to run")
      .option("--wait <seconds>", "wait this long for another envctl holding the environment's lock", "0"),
    [["envctl data seed preview-42 --script db/seed.sql", "a preview starts from the seed data"]],
  ).action(async (env: string, o: Common & { script: string }) => {
    const file = resolve(shell.deps.cwd ?? process.cwd(), o.script);
    let sql: string;
    try {
      sql = readFileSync(file, "utf8");
    } catch {
      throw new UserError(`data seed: --script ${o.script}: no such file`);
    }
    const ctx = await shell.context(o, `data seed ${env} --script ${o.script}`, [env]);
    await seedData(ctx, dataPlane(shell, ctx, env), env, sql, basename(file));
    shell.report(ctx, env, o);
  });
}
