/**
 * `envctl maintenance <env> on|off`: the 503 page ahead of the weighted rule, switched like a
 * rollback (lib/release/maintenance.ts): written to the listener at once, read back, then the
 * release file and the traffic stack; testers bypass it by CIDR or header.
 */
import type { Command } from "commander";
import { z } from "zod";
import { DEFAULT_MAINTENANCE_MESSAGE, maintenance } from "../../release/maintenance.ts";
import { HeaderNameSchema, MaintenanceSchema } from "../../release/model/maintenance.ts";
import { parseArgs } from "../args.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { common } from "./options.ts";

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `Name=value` (or `Name: value`): a header that bypasses the page. */
const HeaderArg = z
  .array(z.string().regex(/^[^=:\s]+\s*[=:]\s*\S.*$/, "must be Name=value, e.g. X-Maintenance-Bypass=7f3a9c"))
  .max(5, "may be given at most 5 times (the ALB's condition values per rule)")
  .transform((list) =>
    list.map((h) => {
      const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(h)!;
      return { name: m[1]!, value: m[2]!.trim() };
    }),
  )
  .superRefine((list, ctx) => {
    const names = new Set(list.map((h) => h.name.toLowerCase()));
    if (names.size > 1)
      ctx.addIssue({
        code: "custom",
        message: `must name one header (found ${[...names].join(", ")}): give several values of it instead`,
      });
    for (const h of list) {
      const n = HeaderNameSchema.safeParse(h.name);
      if (!n.success) ctx.addIssue({ code: "custom", message: `${h.name}: ${n.error.issues[0]!.message}` });
    }
  });

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
        .option(
          "--allow-header <name=value>",
          "a header that bypasses the page (repeatable for more values of one header, at most 5)",
          collect,
        ),
    ),
    [
      [
        "envctl maintenance production on --yes --message 'Back at 14:00 UTC' --allow-cidr 203.0.113.0/24",
        "the page for everyone but the office",
      ],
      ["envctl maintenance staging on --allow-header X-Maintenance-Bypass=7f3a9c", "testers send the header"],
      ["envctl maintenance production off --yes", "the weighted rule serves again"],
    ],
  ).action(
    async (
      name: string,
      state: string,
      o: Common & { message?: string; allowCidr?: string[]; allowHeader?: string[] },
    ) => {
      const args = parseArgs(
        "maintenance",
        {
          state: z.enum(["on", "off"], { error: "must be on or off" }),
          message: Shape.message.optional(),
          allowCidr: Shape.allowCidrs.unwrap().optional(),
          allowHeader: HeaderArg.transform((l) => ({ name: l[0]?.name ?? "", values: l.map((h) => h.value) }))
            .pipe(Shape.allowHeader.unwrap().unwrap())
            .optional(),
        },
        { state, message: o.message, allowCidr: o.allowCidr, allowHeader: o.allowHeader },
      );
      if (args.state === "off" && (args.message !== undefined || args.allowCidr || args.allowHeader)) {
        parseArgs(
          "maintenance",
          { state: z.literal("on", { error: "--message, --allow-cidr and --allow-header go with on" }) },
          { state: "off" },
        );
      }
      const flags = [
        ...(args.message !== undefined ? ["--message …"] : []),
        ...(args.allowCidr ?? []).map((c) => `--allow-cidr ${c}`),
        ...(args.allowHeader ? [`--allow-header ${args.allowHeader.name}=…`] : []),
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
              allowHeader: args.allowHeader ?? null,
            },
      );
      shell.report(ctx, name, o);
    },
  );
}
