/** What `envctl config show <env> [--slot]` shows: the file's settings, each slot's, and what differs. */
import type { LoadedEnvironment } from "../../config/load.ts";
import { settingText } from "../../config/settings.ts";
import { slotSettings } from "../../release/model/slots.ts";
import { type ConfigSide, describeKey } from "../../settings/compare.ts";

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
      `${v.environment} (${v.tier}): settings ` +
        `${v.file.checksum ?? "none"} in environments/${v.environment}.ts (what 'envctl stage ${v.environment}' puts into a slot)`,
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
