/**
 * `envctl config diff` as a pure function: two environments' settings (values) and secrets
 * (presence and last-changed date only, never values), the keys one has and the other lacks, and
 * what blocks: a key the target's tier requires, missing or (for a secret) without a value; with
 * `failOnMissing`, any key of the source the target lacks (a promotion would be refused).
 */

import type { Environment, Tier } from "../config/schema.ts";
import { requiredKeys, SECRETS, SETTINGS, settingText } from "../config/settings.ts";
import type { SettingValue } from "../core/primitives.ts";
import type { SecretStatus } from "./secret-store.ts";

/** A secret's value state as read from Secrets Manager, or why it could not be read. */
export type SecretReading = SecretStatus | { readonly state: "unknown"; readonly reason: string };

/** One environment as the comparison sees it. */
export interface ConfigSide {
  readonly env: Pick<Environment, "name" | "tier" | "app">;
  /** Secret states by name; undefined when not read (offline). */
  readonly secrets?: Readonly<Record<string, SecretReading>>;
}

export type SettingStatus = "same" | "different" | "missing" | "extra";

export interface SettingRow {
  readonly key: string;
  readonly a?: SettingValue;
  readonly b?: SettingValue;
  /** From b's side: `missing` in b, `extra` in b (a lacks it). */
  readonly status: SettingStatus;
  /** b's tier requires the key. */
  readonly requiredInB: boolean;
}

export interface SecretSide {
  readonly declared: boolean;
  /** Undefined when offline or not declared. */
  readonly reading?: SecretReading;
}

export type SecretRowStatus =
  | "present"
  | "missing"
  | "extra"
  | "no value in a"
  | "no value in b"
  | "no value"
  | "unknown"
  | "declared";

export interface SecretRow {
  readonly name: string;
  readonly a: SecretSide;
  readonly b: SecretSide;
  readonly status: SecretRowStatus;
  /** Which side's value changed last, when both have one. */
  readonly newer?: "a" | "b" | "same";
  readonly requiredInB: boolean;
}

export interface ConfigDiff {
  readonly a: string;
  readonly b: string;
  readonly tierB: Tier;
  /** False when secret states were not read (offline): secrets compared by declaration only. */
  readonly online: boolean;
  readonly settings: readonly SettingRow[];
  readonly secrets: readonly SecretRow[];
  /** Why the comparison fails (exit non-zero), each naming environment, key and rule. */
  readonly blocking: readonly string[];
}

export interface DiffOptions {
  /** Also block on any key of a that b lacks (what a promotion a → b refuses). @default false */
  readonly failOnMissing?: boolean;
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

export function configDiff(a: ConfigSide, b: ConfigSide, opts: DiffOptions = {}): ConfigDiff {
  const required = requiredKeys(b.env.tier);
  const reqSettings = new Set(required.settings);
  const reqSecrets = new Set(required.secrets);
  const blocking: string[] = [];
  const bName = b.env.name;

  const settings: SettingRow[] = sorted([
    ...Object.keys(a.env.app.settings),
    ...Object.keys(b.env.app.settings),
    ...required.settings,
  ]).flatMap((key) => {
    const av = a.env.app.settings[key];
    const bv = b.env.app.settings[key];
    if (av === undefined && bv === undefined && !reqSettings.has(key)) return [];
    const status: SettingStatus =
      bv === undefined ? "missing" : av === undefined ? "extra" : av === bv ? "same" : "different";
    const requiredInB = reqSettings.has(key);
    if (status === "missing" && requiredInB)
      blocking.push(`${bName}: app.settings.${key} is missing: required in the ${b.env.tier} tier`);
    else if (status === "missing" && opts.failOnMissing && av !== undefined)
      blocking.push(
        `${bName}: app.settings.${key} is missing: ${a.env.name} has it, so a promotion ${a.env.name} → ${bName} is refused`,
      );
    return [
      { key, ...(av !== undefined ? { a: av } : {}), ...(bv !== undefined ? { b: bv } : {}), status, requiredInB },
    ];
  });

  const declaredA = new Set(a.env.app.secrets.map((s) => s.name));
  const declaredB = new Set(b.env.app.secrets.map((s) => s.name));
  const online = a.secrets !== undefined && b.secrets !== undefined;
  const secrets: SecretRow[] = sorted([...declaredA, ...declaredB, ...required.secrets]).map((name) => {
    const sa: SecretSide = {
      declared: declaredA.has(name),
      ...(declaredA.has(name) && a.secrets?.[name] ? { reading: a.secrets[name] } : {}),
    };
    const sb: SecretSide = {
      declared: declaredB.has(name),
      ...(declaredB.has(name) && b.secrets?.[name] ? { reading: b.secrets[name] } : {}),
    };
    const requiredInB = reqSecrets.has(name);
    const row = secretRow(name, sa, sb, online, requiredInB);
    const rule = `app.secrets ${name}`;
    if (!sb.declared && requiredInB) blocking.push(`${bName}: ${rule} is missing: required in the ${b.env.tier} tier`);
    else if (!sb.declared && sa.declared && opts.failOnMissing)
      blocking.push(
        `${bName}: ${rule} is missing: ${a.env.name} has it, so a promotion ${a.env.name} → ${bName} is refused`,
      );
    else if (sb.declared && requiredInB && sb.reading?.state === "unknown")
      blocking.push(
        `${bName}: ${rule} could not be read (${sb.reading.reason}): required in the ${b.env.tier} tier, so it counts as missing`,
      );
    else if (sb.declared && requiredInB && sb.reading && sb.reading.state !== "set")
      blocking.push(
        `${bName}: ${rule} has no value${sb.reading.state === "missing" ? " (the secret does not exist: deploy first)" : ""}: ` +
          `required in the ${b.env.tier} tier; set it with 'envctl secret set ${bName} ${name}'`,
      );
    return row;
  });

  return { a: a.env.name, b: bName, tierB: b.env.tier, online, settings, secrets, blocking };
}

function secretRow(name: string, a: SecretSide, b: SecretSide, online: boolean, requiredInB: boolean): SecretRow {
  const base = { name, a, b, requiredInB };
  if (!b.declared) return { ...base, status: "missing" };
  if (!a.declared) return { ...base, status: "extra" };
  if (!online) return { ...base, status: "declared" };
  const [ra, rb] = [a.reading, b.reading];
  if (ra?.state === "unknown" || rb?.state === "unknown") return { ...base, status: "unknown" };
  const setA = ra?.state === "set";
  const setB = rb?.state === "set";
  if (!setA && !setB) return { ...base, status: "no value" };
  if (!setB) return { ...base, status: "no value in b" };
  if (!setA) return { ...base, status: "no value in a" };
  const la = (ra as SecretStatus).lastChanged ?? "";
  const lb = (rb as SecretStatus).lastChanged ?? "";
  return { ...base, status: "present", newer: la === lb ? "same" : la > lb ? "a" : "b" };
}

// ------------------------------------------------------------------ rendering

const value = (v: SettingValue | undefined) => (v === undefined ? "–" : settingText(v));

function secretCell(s: SecretSide): string {
  if (!s.declared) return "–";
  const r = s.reading;
  if (!r) return "declared";
  if (r.state === "unknown") return "unknown";
  if (r.state === "missing") return "not created";
  if (r.state === "empty") return "no value";
  return `set ${r.lastChanged ?? ""}`.trim();
}

function settingNote(r: SettingRow, d: ConfigDiff): string {
  const req = r.requiredInB ? ` (required in ${d.tierB})` : "";
  switch (r.status) {
    case "same":
      return "";
    case "different":
      return "≠";
    case "missing":
      return `missing in ${d.b}${req}`;
    case "extra":
      return `only in ${d.b}`;
  }
}

function secretNote(r: SecretRow, d: ConfigDiff): string {
  const req = r.requiredInB ? ` (required in ${d.tierB})` : "";
  switch (r.status) {
    case "missing":
      return `missing in ${d.b}${req}`;
    case "extra":
      return `only in ${d.b}`;
    case "no value in b":
      return `no value in ${d.b}${req}`;
    case "no value in a":
      return `no value in ${d.a}`;
    case "no value":
      return `no value in either${req}`;
    case "unknown":
      return `could not read: ${[r.a.reading, r.b.reading].flatMap((x) => (x?.state === "unknown" ? [x.reason] : [])).join("; ")}`;
    case "present":
      return r.newer === "same" || r.newer === undefined ? "" : `changed later in ${r.newer === "a" ? d.a : d.b}`;
    case "declared":
      return "";
  }
}

/** Plain text, columns aligned. */
export function formatDiffText(d: ConfigDiff): string {
  const settings = d.settings.map((r) => [r.key, value(r.a), value(r.b), settingNote(r, d)]);
  const secrets = d.secrets.map((r) => [r.name, secretCell(r.a), secretCell(r.b), secretNote(r, d)]);
  const rows = [["", d.a, d.b, ""], ...settings, ...secrets];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `  ${r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c))
      .join("  ")
      .trimEnd()}`;
  return [
    `config diff ${d.a} → ${d.b}`,
    line(["setting", d.a, d.b, ""]),
    ...(settings.length ? settings.map(line) : ["  (no settings on either side)"]),
    d.online
      ? line(["secret", "", "", "presence and last change; values are never read"])
      : line(["secret", "", "", "declared only (--offline: values' state not read)"]),
    ...(secrets.length ? secrets.map(line) : ["  (no secrets on either side)"]),
    ...d.blocking.map((b) => `blocking: ${b}`),
  ].join("\n");
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/`/g, "'");

/** Markdown for a pull request comment. */
export function formatDiffMarkdown(d: ConfigDiff): string {
  const out = [
    `### ${d.a} → ${d.b}`,
    "",
    `| setting | ${md(d.a)} | ${md(d.b)} | |`,
    "|---|---|---|---|",
    ...d.settings.map((r) => `| \`${r.key}\` | ${md(value(r.a))} | ${md(value(r.b))} | ${md(settingNote(r, d))} |`),
    "",
    `| secret | ${md(d.a)} | ${md(d.b)} | |`,
    "|---|---|---|---|",
    ...d.secrets.map((r) => `| \`${r.name}\` | ${secretCell(r.a)} | ${secretCell(r.b)} | ${md(secretNote(r, d))} |`),
    "",
  ];
  if (!d.online) out.push("_Secrets compared by declaration only (values' state not read)._", "");
  if (d.blocking.length > 0) out.push("**Blocking**:", "", ...d.blocking.map((b) => `- ${md(b)}`), "");
  return out.join("\n");
}

/** Descriptions of the keys (for `config show`). */
export function describeKey(key: string): string {
  return SETTINGS[key]?.description ?? SECRETS[key]?.description ?? "";
}
