/**
 * `envctl config diff [<a> <b>]` and `envctl config show <env> [--slot blue|green]`: application
 * settings (values) and secrets (presence and last change only) compared across environments,
 * and what each slot runs.
 */
import type { Command } from "commander";
import { z } from "zod";
import { describeAwsError } from "../../aws/clients.ts";
import { ConfigError, zodProblems } from "../../config/errors.ts";
import type { LoadedEnvironment, Project } from "../../config/load.ts";
import { type Environment, SlotSchema } from "../../config/schema.ts";
import { RefusedError } from "../../release/model/errors.ts";
import {
  type ConfigDiff,
  type ConfigSide,
  configDiff,
  formatDiffMarkdown,
  formatDiffText,
  type SecretReading,
} from "../../settings/compare.ts";
import { secretName } from "../../settings/names.ts";
import type { SecretStore } from "../../settings/secret-store.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import { formatShow, showView } from "../views/config-show.ts";

export interface ConfigCommandDeps {
  readonly load: () => Promise<Project>;
  readonly out: (text: string) => void;
  readonly setExit: (code: number) => void;
  /** Secrets Manager of an environment. */
  readonly secrets: (env: Environment) => SecretStore;
}

export function registerConfigCommands(program: Command, d: ConfigCommandDeps): void {
  const config = examples(
    program.command("config").description("application settings and secrets across environments and slots"),
    [
      ["envctl config diff", "every promotion edge"],
      ["envctl config show production", "the file's settings against each slot's"],
    ],
  );

  examples(
    config
      .command("diff")
      .argument("[a]", "source environment")
      .argument("[b]", "target environment")
      .description(
        "settings (values) and secrets (presence, last change) of <a> and <b>; without arguments, " +
          "along every promotion edge. Exits 1 when <b> lacks a key its tier requires",
      )
      .option("--fail-on <what>", "'missing': also exit 1 when <b> lacks any key <a> has (what a promotion refuses)")
      .option("--offline", "compare secrets by declaration only (no AWS calls)")
      .option("--markdown", "Markdown (pull request comments)")
      .option("--json", "machine-readable output"),
    [
      ["envctl config diff staging production", "settings by value, secrets by presence"],
      ["envctl config diff --fail-on missing --markdown", "what the PR check posts; exit 1 on a missing key"],
    ],
  ).action(
    async (
      a: string | undefined,
      b: string | undefined,
      o: { failOn?: string; offline?: boolean; markdown?: boolean; json?: boolean },
    ) => {
      const failOn = option(
        "config diff",
        "fail-on",
        z.enum(["missing"], { error: "must be 'missing'" }).optional(),
        o.failOn,
      );
      if ((a === undefined) !== (b === undefined))
        throw new RefusedError("config diff takes two environments, or none (every promotion edge)");
      const project = await d.load();
      const pairs =
        a !== undefined && b !== undefined ? [[find(project, a), find(project, b)] as const] : edges(project);
      const reader = secretReader(d, o.offline === true);
      const diffs: ConfigDiff[] = [];
      for (const [x, y] of pairs)
        diffs.push(configDiff(await reader(x.config), await reader(y.config), { failOnMissing: failOn === "missing" }));
      if (o.json) d.out(JSON.stringify(a !== undefined ? diffs[0] : diffs, null, 2));
      else if (o.markdown)
        d.out(
          ["## Configuration", "", ...(diffs.length ? diffs.map(formatDiffMarkdown) : ["No promotion edges."])].join(
            "\n",
          ),
        );
      else d.out(diffs.map(formatDiffText).join("\n\n") || "no promotion edges");
      if (diffs.some((x) => x.blocking.length > 0))
        d.setExit(
          EXIT.invalid,
        ) /* something blocks: a required key missing, or, with --fail-on missing, any key of <a> */;
    },
  );

  examples(
    config
      .command("show")
      .argument("<env>")
      .description(
        "the environment's settings (file) against what each slot runs, and its secrets; --slot: one slot's settings",
      )
      .option("--slot <slot>", "blue or green: the settings that slot was promoted with")
      .option("--offline", "do not read the secrets' state (no AWS calls)")
      .option("--json", "machine-readable output"),
    [
      ["envctl config show production", "file against slots, secrets' state"],
      ["envctl config show production --slot green --offline", "what green was promoted with"],
    ],
  ).action(async (name: string, o: { slot?: string; offline?: boolean; json?: boolean }) => {
    const slot = option(
      "config show",
      "slot",
      z.enum(SlotSchema.options, { error: "must be blue or green" }).optional(),
      o.slot,
    );
    const e = find(await d.load(), name);
    const side = await secretReader(d, o.offline === true)(e.config);
    const view = showView(e, side, slot);
    d.out(o.json ? JSON.stringify(view, null, 2) : formatShow(view));
  });
}

/** One validated option; the error names the command and the flag. */
function option<T>(command: string, flag: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(
      zodProblems(command, parsed.error).map((p) => ({ ...p, path: `--${flag}` })),
      "invalid arguments",
    );
  return parsed.data;
}

function find(project: Project, name: string): LoadedEnvironment {
  const e = project.environments.find((x) => x.config.name === name);
  if (!e)
    throw new RefusedError(
      `unknown environment ${name} (known: ${project.environments.map((x) => x.config.name).join(", ")})`,
    );
  return e;
}

/** Every forward promotion edge a → b, in environment order. */
export function edges(project: Project): (readonly [LoadedEnvironment, LoadedEnvironment])[] {
  return project.environments.flatMap((a) =>
    a.config.release.promotesTo.flatMap((t) => {
      const b = project.environments.find((x) => x.config.name === t);
      return b ? [[a, b] as const] : [];
    }),
  );
}

/** Reads each declared secret's state (or records why it could not); nothing when offline. */
function secretReader(d: ConfigCommandDeps, offline: boolean): (e: Environment) => Promise<ConfigSide> {
  const cache = new Map<string, ConfigSide>();
  return async (e) => {
    if (offline) return { env: e };
    const known = cache.get(e.name);
    if (known) return known;
    const store = d.secrets(e);
    const entries = await Promise.all(
      e.app.secrets.map(async (s): Promise<[string, SecretReading]> => {
        try {
          return [s.name, await store.describe(secretName(e.project, e.name, s.name))];
        } catch (err) {
          return [s.name, { state: "unknown", reason: describeAwsError(err) }];
        }
      }),
    );
    const side = { env: e, secrets: Object.fromEntries(entries) };
    cache.set(e.name, side);
    return side;
  };
}
