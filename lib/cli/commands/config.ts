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
import { settingText } from "../../config/settings.ts";
import { RefusedError } from "../../release/model/errors.ts";
import { slotSettings } from "../../release/model/slots.ts";
import {
  type ConfigDiff,
  type ConfigSide,
  configDiff,
  describeKey,
  formatDiffMarkdown,
  formatDiffText,
  type SecretReading,
} from "../../settings/compare.ts";
import { secretName } from "../../settings/names.ts";
import type { SecretStore } from "../../settings/secret-store.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";

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
        "settings (values) and secrets (presence, last change) of <a> and <b>; without arguments, along every promotion edge. Exits 1 when <b> lacks a key its tier requires",
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

interface SlotView {
  readonly slot: "blue" | "green";
  readonly version: string | null;
  readonly weight: number;
  readonly checksum: string | null;
  /** Keys whose value in the slot differs from the file (or is only on one side). */
  readonly differsFromFile: readonly string[];
}

export interface ShowView {
  readonly environment: string;
  readonly tier: string;
  /** The environment file's settings: what `envctl stage` / `promote` would put into a slot now. */
  readonly file: {
    readonly checksum: string | null;
    readonly values: Readonly<Record<string, string | number | boolean>>;
  };
  readonly slots: readonly SlotView[];
  /** With --slot: that slot's settings. */
  readonly slot?: {
    readonly slot: "blue" | "green";
    readonly version: string | null;
    readonly checksum: string | null;
    readonly values: Readonly<Record<string, string | number | boolean>>;
  };
  readonly secrets: readonly {
    readonly name: string;
    readonly description: string;
    readonly state: string;
    readonly lastChanged?: string;
    readonly version?: string;
  }[];
}

export function showView(e: LoadedEnvironment, side: ConfigSide, slot?: "blue" | "green"): ShowView {
  const file = e.config.app.settings;
  const fileChecksum = Object.keys(file).length ? slotSettings(file).checksum : null;
  const slots = (["blue", "green"] as const).map((s): SlotView => {
    const st = e.release.slots[s];
    const values = st.settings?.values ?? {};
    const keys = [...new Set([...Object.keys(values), ...Object.keys(file)])].sort();
    return {
      slot: s,
      version: st.version,
      weight: st.weight,
      checksum: st.settings?.checksum ?? null,
      differsFromFile: st.version === null ? [] : keys.filter((k) => values[k] !== file[k]),
    };
  });
  const secrets = e.config.app.secrets.map((s) => {
    const r = side.secrets?.[s.name];
    const state = !r
      ? "declared (not read)"
      : r.state === "unknown"
        ? `unknown: ${r.reason}`
        : r.state === "set"
          ? "set"
          : r.state === "empty"
            ? "no value"
            : "not created";
    return {
      name: s.name,
      description: describeKey(s.name),
      state,
      ...(r && r.state === "set" && r.lastChanged ? { lastChanged: r.lastChanged } : {}),
      ...(r && r.state === "set" && r.currentVersion ? { version: r.currentVersion } : {}),
    };
  });
  const chosen = slot ? e.release.slots[slot] : undefined;
  return {
    environment: e.config.name,
    tier: e.config.tier,
    file: { checksum: fileChecksum, values: file },
    slots,
    ...(slot && chosen
      ? {
          slot: {
            slot,
            version: chosen.version,
            checksum: chosen.settings?.checksum ?? null,
            values: chosen.settings?.values ?? {},
          },
        }
      : {}),
    secrets,
  };
}

export function formatShow(v: ShowView): string {
  const table = (rows: string[][]) => {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    return rows.map(
      (r) =>
        `  ${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd()}`,
    );
  };
  const lines: string[] = [];
  if (v.slot) {
    const s = v.slot;
    lines.push(
      `${v.environment} ${s.slot}: ${s.version ?? "empty"}, settings ${s.checksum ?? "none"} (what the slot runs: the release file)`,
    );
    const keys = Object.keys(s.values).sort();
    if (keys.length)
      lines.push(
        ...table(
          keys.map((k) => [
            k,
            settingText(s.values[k]!),
            v.file.values[k] === s.values[k]
              ? ""
              : `file: ${v.file.values[k] === undefined ? "–" : settingText(v.file.values[k]!)}`,
          ]),
        ),
      );
    else lines.push("  (no settings)");
  } else {
    lines.push(
      `${v.environment} (${v.tier}): settings ${v.file.checksum ?? "none"} in environments/${v.environment}.ts (what 'envctl stage ${v.environment}' puts into a slot)`,
    );
    const keys = Object.keys(v.file.values).sort();
    if (keys.length) lines.push(...table(keys.map((k) => [k, settingText(v.file.values[k]!), describeKey(k)])));
    else lines.push("  (no settings)");
    lines.push("slots");
    lines.push(
      ...table(
        v.slots.map((s) => [
          s.slot,
          s.version ?? "empty",
          `${s.weight} %`,
          s.checksum ?? "no settings",
          s.version === null
            ? ""
            : s.differsFromFile.length
              ? `differs from the file: ${s.differsFromFile.join(", ")}`
              : "= file",
        ]),
      ),
    );
  }
  lines.push("secrets (values are never shown)");
  lines.push(
    ...(v.secrets.length
      ? table(v.secrets.map((s) => [s.name, s.state, s.lastChanged ?? "", s.description]))
      : ["  (none)"]),
  );
  return lines.join("\n");
}
