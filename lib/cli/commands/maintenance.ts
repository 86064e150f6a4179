/**
 * `envctl maintenance <env> on|off`: the 503 page ahead of the weighted rule, switched like a
 * rollback (lib/release/maintenance.ts): written to the listener at once, read back, then the
 * release file and the traffic stack; testers bypass it by CIDR or header.
 */
import type { Command } from "commander";
import { z } from "zod";
import { DEFAULT_MAINTENANCE_MESSAGE, maintenance } from "../../release/maintenance.ts";
import { HeaderNameSchema, MaintenanceSchema, SecretIdSchema } from "../../release/model/maintenance.ts";
import { parseArgs } from "../args.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { common } from "./options.ts";

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The bypass header's name: never its value, which would be in the shell's history and `ps`. */
const HeaderArg = z
  .string()
  .refine((h) => !/[=:]/.test(h), {
    message:
      "must be the header's name only: its value is a secret (keep it in Secrets Manager and name the secret with --bypass-secret)",
  })
  .pipe(HeaderNameSchema);

const Shape = MaintenanceSchema.shape;

export function registerMaintenanceCommand(program: Command, shell: Shell): void {
  examples(
    common(
      program
        .command("maintenance")
        .argument("<env>", "environment")
        .argument("<state>", "on or off")
        .description(
          "maintenance mode: a 503 page ahead of the weighted rule (the traffic stack), written to " +
            "the listener at once and read back, then the traffic stack deployed; testers bypass it " +
            "by CIDR or header; a rollout refuses to start while it is on",
        )
        .option("--message <text>", "the page (text or HTML, at most 1024 characters)")
        .option("--allow-cidr <cidr>", "a source CIDR that bypasses the page (repeatable, at most 5)", collect)
        .option("--allow-header <name>", "a header that bypasses the page (its value: --bypass-secret)")
        .option(
          "--bypass-secret <id>",
          "the Secrets Manager secret holding the bypass header's value (copied to the listener by envctl, never to Terraform)",
        ),
    ),
    [
      [
        "envctl maintenance production on --yes --message 'Back at 14:00 UTC' --allow-cidr 203.0.113.0/24",
        "the page for everyone but the office",
      ],
      [
        "envctl maintenance staging on --allow-header X-Maintenance-Bypass --bypass-secret webapp/staging/maintenance-bypass",
        "testers send the header with the secret's value",
      ],
      ["envctl maintenance production off --yes", "the weighted rule serves again"],
    ],
  ).action(
    async (
      name: string,
      state: string,
      o: Common & { message?: string; allowCidr?: string[]; allowHeader?: string; bypassSecret?: string },
    ) => {
      const args = parseArgs(
        "maintenance",
        {
          state: z.enum(["on", "off"], { error: "must be on or off" }),
          message: Shape.message.optional(),
          allowCidr: Shape.allowCidrs.unwrap().optional(),
          allowHeader: HeaderArg.optional(),
          bypassSecret: SecretIdSchema.optional(),
        },
        { state, message: o.message, allowCidr: o.allowCidr, allowHeader: o.allowHeader, bypassSecret: o.bypassSecret },
      );
      if (args.state === "off" && (args.message !== undefined || args.allowCidr || args.allowHeader)) {
        parseArgs(
          "maintenance",
          { state: z.literal("on", { error: "--message, --allow-cidr and --allow-header go with on" }) },
          { state: "off" },
        );
      }
      if ((args.allowHeader === undefined) !== (args.bypassSecret === undefined)) {
        parseArgs(
          "maintenance",
          { bypassSecret: z.never({ error: "goes with --allow-header: each needs the other" }) },
          { bypassSecret: args.bypassSecret ?? args.allowHeader },
        );
      }
      const flags = [
        ...(args.message !== undefined ? ["--message …"] : []),
        ...(args.allowCidr ?? []).map((c) => `--allow-cidr ${c}`),
        ...(args.allowHeader ? [`--allow-header ${args.allowHeader} --bypass-secret ${args.bypassSecret}`] : []),
      ];
      const ctx = await shell.context(
        o,
        `maintenance ${name} ${args.state}${flags.length ? ` ${flags.join(" ")}` : ""}`,
        [name],
      );
      await maintenance(
        ctx,
        name,
        args.state === "off"
          ? null
          : {
              message: args.message ?? DEFAULT_MAINTENANCE_MESSAGE,
              allowCidrs: args.allowCidr ?? [],
              allowHeader: args.allowHeader ? { name: args.allowHeader, secretId: args.bypassSecret! } : null,
            },
      );
      shell.report(ctx, name, o);
    },
  );
}
