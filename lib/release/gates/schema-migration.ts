/**
 * The schema gates of a migration (`envctl migrate <env> --to N`): what a migration is to the slots
 * (expand or contract), the rollout's plan for it, and whether it may run now (a contract beyond
 * the old slot's range waits until that slot serves 0 % and its rollback window has passed). Pure.
 */
import type { Slot } from "../../core/primitives.ts";
import type { ChangeRecord } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import {
  type GateResult,
  label,
  rangeText,
  recordedSchema,
  refuse,
  runsOn,
  type SchemaReading,
  schemaText,
  schemaTracked,
  servingSlots,
} from "./schema.ts";

/**
 * What a migration from `from` to `to` is to the slots: a `contract` leaves a slot's version that
 * ran on `from` outside its range (the old version's schema goes), an `expand` moves up within
 * every version's range, `down` goes back.
 */
export function migrationKind(
  r: Pick<Release, "slots">,
  from: number | null,
  to: number,
): "expand" | "contract" | "down" {
  const leaves = (["blue", "green"] as const).some(
    (s) => r.slots[s].version !== null && runsOn(r.slots[s], from) && !runsOn(r.slots[s], to),
  );
  if ((from ?? 0) < to) return leaves ? "contract" : "expand";
  return "down";
}

/**
 * What a rollout plan (`rollout --dry-run`) says about the schema: each slot's range and the
 * database's recorded schema, and what the gate will do. Empty when the schema is not tracked.
 */
export function schemaPlan(r: Release, target: Slot, migrateFirst: boolean): string {
  if (!schemaTracked(r)) return "";
  const db = recordedSchema(r);
  const ranges = (["blue", "green"] as const)
    .filter((s) => r.slots[s].version !== null)
    .map((s) => label(r, s))
    .join(", ");
  const need = r.slots[target].schema?.requires;
  const at = db
    ? `schema ${schemaText(db.schema)} (as recorded at ${r.database!.readAt}; read back before any traffic moves)`
    : "a schema envctl has not read yet";
  const then =
    db && need !== undefined && (db.schema ?? 0) < need
      ? migrateFirst
        ? `; the expand to ${need} runs first`
        : `; refused unless the expand to ${need} has run (--migrate runs it first)`
      : "";
  return `; database: ${at}; ${ranges}${then}`;
}

/** When `slot` last stopped serving (its weight went from above 0 to 0), from the history; null when not found. */
export function stoppedServingAt(
  history: readonly Pick<ChangeRecord, "at" | "from" | "to">[],
  slot: Slot,
): Date | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.from.slots[slot].weight > 0 && h.to.slots[slot].weight === 0) return new Date(h.at);
  }
  return null;
}

/** What a migration gate needs beside the release: the database now, the time, the old slot's idle time. */
export interface MigrationGateInput {
  /** The schema read back from the database just before (never the recorded one: the gate runs under the lock). */
  readonly db: SchemaReading;
  readonly to: number;
  readonly now: Date;
  /** How long a slot that stopped serving stays a rollback target (the release policy's rollbackWindowSeconds). */
  readonly rollbackWindowSeconds: number;
  /** When the previous live slot stopped serving (from the history); null: unknown, the window is taken as just started. */
  readonly previousLiveIdleSince: Date | null;
}

/**
 * Whether `envctl migrate <env> --to N` may run now, and which slot's image runs it: the slot whose
 * range reaches furthest and covers both the current and the target version (its image holds both
 * migrations' files).
 */
export function migrationGate(r: Release, g: MigrationGateInput): GateResult & { readonly image?: Slot } {
  const env = r.environment;
  const from = g.db.schema;
  if (g.db.dirty)
    return refuse(
      `${env}: the database is dirty at schema ` +
        `${schemaText(from)}: a migration stopped midway; inspect it and fix it with the migration ` +
        `tool (e.g. 'migrate force ${from ?? 0}') before migrating again`,
    );
  if (from === g.to) return refuse(`${env}: the database is already at schema ${g.to}: nothing to migrate`);
  const kind = migrationKind(r, from, g.to);
  for (const s of servingSlots(r)) {
    const slot = r.slots[s];
    if (!slot.schema)
      return refuse(
        `${env}: ${label(r, s)} serves ${slot.weight} % and declares no schema range: stage its range before migrating the database it uses`,
      );
    if (!runsOn(slot, g.to)) {
      const forward =
        g.to > slot.schema.supportsUpTo
          ? `finish the rollout so that ${s} serves 0 %, wait for its rollback window (${g.rollbackWindowSeconds} s), then migrate`
          : `${s} needs at least ${slot.schema.requires}: migrate to a version inside ${rangeText(slot.schema)}`;
      return refuse(
        `${env}: migrating to schema ${g.to} would break ` +
          `${label(r, s)}, which ${slot.weight > 0 ? `serves ${slot.weight} %` : "is the canary of the rollout in progress"} and ` +
          `runs on ${rangeText(slot.schema)} only: refused; ${forward}`,
      );
    }
  }
  // The previous live slot (weight 0) is the rollback target until its window has passed.
  const prev = r.previousLive;
  if (prev !== null && r.slots[prev].weight === 0 && !runsOn(r.slots[prev], g.to)) {
    const since = g.previousLiveIdleSince ?? g.now;
    const until = new Date(since.getTime() + g.rollbackWindowSeconds * 1000);
    if (g.now < until) {
      return refuse(
        `${env}: ${kind} to schema ${g.to} is beyond what ` +
          `${label(r, prev)} runs on, and ` +
          `${prev} is the rollback target until ` +
          `${until.toISOString()} (rollback window ` +
          `${g.rollbackWindowSeconds} s since it stopped ` +
          `serving${g.previousLiveIdleSince ? ` at ${g.previousLiveIdleSince.toISOString()}` : "; when is unknown, counted from now"}): ` +
          `refused; migrate after ${until.toISOString()}, when a rollback is no longer expected`,
      );
    }
  }
  // The image that runs it: a slot with a version whose range reaches both versions, furthest first.
  const need = Math.max(from ?? 0, g.to);
  const candidates = (["blue", "green"] as const)
    .filter(
      (s) => r.slots[s].version !== null && r.slots[s].schema !== undefined && r.slots[s].schema!.supportsUpTo >= need,
    )
    .sort((a, b) => r.slots[b].schema!.supportsUpTo - r.slots[a].schema!.supportsUpTo || (a === r.live ? -1 : 1));
  const image = candidates[0];
  if (!image)
    return refuse(
      `${env}: no slot's version knows schema ` +
        `${need} (${label(r, "blue")}, ${label(r, "green")}): stage the version whose image carries ` +
        `migration ${need} first ('envctl stage ${env} --version <v> --schema <requires>..<supportsUpTo>')`,
    );
  return { ok: true, image };
}
