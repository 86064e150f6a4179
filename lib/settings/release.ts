/**
 * Settings at the release boundary: what a staged or promoted slot carries (the target
 * environment's own values, with their checksum), and the checks that refuse a slot lacking a
 * key — one its tier requires, or one the source ran the promoted version with.
 */

import type { Environment } from "../config/schema.ts";
import { missingRequired } from "../config/settings.ts";
import { RefusedError } from "../release/model/errors.ts";
import type { Release } from "../release/model/release.ts";
import { type SlotSettings, slotSettings } from "../release/model/slots.ts";

/** Setting and secret names. */
export interface Keys {
  readonly settings: readonly string[];
  readonly secrets: readonly string[];
}

/** One key a target lacks, and why it needs it. */
export interface MissingKey {
  readonly kind: "setting" | "secret";
  readonly key: string;
  /** e.g. `required in the production tier`, `staging runs 1.6.0 with it`. */
  readonly reasons: readonly string[];
}

/**
 * The settings a slot staged into (or promoted into) `env` now carries: the environment file's
 * values with their checksum, or null when it has none. Refused when the tier requires a key the
 * file lacks.
 */
export function slotSettingsFor(env: Environment): SlotSettings | null {
  const missing = requiredMissing(env);
  if (missing.length > 0)
    throw new RefusedError(
      `${env.name}: a slot cannot be staged without ` +
        `${describeMissing(missing)}; add ${missing.length === 1 ? "it" : "them"} to environments/${env.name}.ts (app.settings / app.secrets)`,
    );
  return Object.keys(env.app.settings).length === 0 ? null : slotSettings(env.app.settings);
}

function requiredMissing(env: Environment): MissingKey[] {
  const m = missingRequired(env);
  const reason = `required in the ${env.tier} tier`;
  return [
    ...m.settings.map((key) => ({ kind: "setting" as const, key, reasons: [reason] })),
    ...m.secrets.map((key) => ({ kind: "secret" as const, key, reasons: [reason] })),
  ];
}

/**
 * The keys `version` runs with in `source`: the settings of the slot holding it (the live slot
 * first), else the environment file's; the secrets the source declares.
 */
export function sourceKeys(source: Environment, release: Release, version: string): Keys & { from: string } {
  const slots = [release.slots[release.live], ...Object.values(release.slots)].filter(
    (s) => s.version === version && s.settings,
  );
  const slot = slots[0];
  return {
    settings: Object.keys(slot?.settings?.values ?? source.app.settings).sort(),
    secrets: source.app.secrets.map((s) => s.name).sort(),
    from: slot ? `${source.name} runs ${version} with it` : `${source.name} defines it`,
  };
}

/** What `target` lacks for a promotion of `version` from `source`: keys of the source, and keys of its tier. */
export function promotionMissing(
  source: Environment,
  sourceRelease: Release,
  target: Environment,
  version: string,
): MissingKey[] {
  const keys = sourceKeys(source, sourceRelease, version);
  const secrets = new Set(target.app.secrets.map((s) => s.name));
  const byKey = new Map<string, MissingKey>();
  const add = (m: MissingKey) => {
    const id = `${m.kind}:${m.key}`;
    const prev = byKey.get(id);
    byKey.set(id, prev ? { ...prev, reasons: [...prev.reasons, ...m.reasons] } : m);
  };
  for (const key of keys.settings)
    if (!(key in target.app.settings)) add({ kind: "setting", key, reasons: [keys.from] });
  for (const key of keys.secrets) if (!secrets.has(key)) add({ kind: "secret", key, reasons: [keys.from] });
  for (const m of requiredMissing(target)) add(m);
  return [...byKey.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.key.localeCompare(b.key));
}

/** Refuses a promotion into an environment lacking a key (every missing key named at once). */
export function refuseMissingSettings(
  source: Environment,
  sourceRelease: Release,
  target: Environment,
  version: string,
): void {
  const missing = promotionMissing(source, sourceRelease, target, version);
  if (missing.length === 0) return;
  throw new RefusedError(
    `${source.name} → ${target.name} refused: ` +
      `${target.name} lacks ${describeMissing(missing)}; add ` +
      `${missing.length === 1 ? "it" : "them"} to ` +
      `environments/${target.name}.ts (app.settings / app.secrets) with ` +
      `${target.name}'s own values ('envctl config diff ${source.name} ${target.name}' shows every difference)`,
  );
}

export function describeMissing(missing: readonly MissingKey[]): string {
  return missing.map((m) => `${m.kind} ${m.key} (${m.reasons.join("; ")})`).join(", ");
}
