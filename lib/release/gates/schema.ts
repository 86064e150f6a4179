/**
 * The database schema gates (issue 22): expand/contract enforced by the release. Both slots of an
 * environment share one database; each slot's version declares the schema versions it runs on
 * (`schema: { requires, supportsUpTo }` in the release file). Pure functions of a release, the
 * database's schema version and the time: each refusal names the versions and gives the way forward.
 *
 * - {@link rolloutGate}: a rollout (start, continue, resume) or a shift needs the database's
 *   schema inside the range of every slot that serves or is about to serve. An expand runs first.
 * - {@link migrationGate}: `envctl migrate <env> --to N` may not leave a serving slot outside its
 *   range; a contract beyond the old slot's range waits until that slot serves 0 % and its rollback
 *   window has passed.
 * - {@link rollbackGate}: a rollback is refused when the schema is beyond what the slot it returns
 *   to runs on.
 *
 * An environment whose slots declare no range and whose database envctl never read is not gated
 * (apps without schema management). Once either is known, a missing piece fails closed.
 */
import type { Slot } from "../../core/primitives.ts";
import type { ChangeRecord } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import { otherSlot, type SchemaRange, type SlotState } from "../model/slots.ts";

/** What the database holds: its schema version (null: no migration ran) and whether one stopped midway. */
export interface SchemaReading {
  readonly schema: number | null;
  readonly dirty: boolean;
}

export type GateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: GateResult = { ok: true };
const refuse = (reason: string): GateResult => ({ ok: false, reason });

/** `1..2` */
export function rangeText(r: SchemaRange): string {
  return `${r.requires}..${r.supportsUpTo}`;
}

/** True when the slot's version runs on schema `v` (a slot without a declared range: unknown, false). */
export function runsOn(s: Pick<SlotState, "schema">, v: number | null): boolean {
  if (!s.schema) return false;
  return (v ?? 0) >= s.schema.requires && (v ?? 0) <= s.schema.supportsUpTo;
}

/** "green (1.5.0, schema 2..3)" */
function label(r: Release, slot: Slot): string {
  const s = r.slots[slot];
  return `${slot} (${s.version ?? "empty"}${s.schema ? `, schema ${rangeText(s.schema)}` : ", no schema range declared"})`;
}

const schemaText = (v: number | null) => (v === null ? "none (no migration ran)" : String(v));

/** True when the release or the database says the environment's schema is managed. */
export function schemaTracked(r: Release, db?: SchemaReading): boolean {
  return (
    db !== undefined ||
    r.database !== undefined ||
    r.slots.blue.schema !== undefined ||
    r.slots.green.schema !== undefined
  );
}

/** The database's schema as the release last recorded it, or undefined when never read. */
export function recordedSchema(r: Release): SchemaReading | undefined {
  return r.database ? { schema: r.database.schema, dirty: r.database.dirty } : undefined;
}

/** The slots that serve traffic now or are about to (`about`: the slot a rollout or a shift gives traffic). */
function servingSlots(r: Release, about?: Slot): Slot[] {
  return (["blue", "green"] as const).filter(
    (s) => r.slots[s].version !== null && (r.slots[s].weight > 0 || s === about || r.rollout?.target === s),
  );
}

/**
 * Before traffic moves to `target` (a rollout's canary, a shift's slot): the database's schema must
 * be inside the range of `target` and of every slot that keeps traffic. `db`: the schema read back
 * from the database (undefined: could not be read, fails closed once the schema is tracked).
 */
export function rolloutGate(r: Release, target: Slot, db: SchemaReading | undefined): GateResult {
  if (!schemaTracked(r, db)) return OK;
  const env = r.environment;
  if (db === undefined)
    return refuse(
      `${env}: the database's schema version could not be read, and ${label(r, target)} declares the schema it needs: traffic does not move on an unknown schema; check the database ('envctl status ${env}') and try again`,
    );
  if (db.dirty)
    return refuse(
      `${env}: the database is dirty at schema ${schemaText(db.schema)}: a migration stopped midway; inspect it, fix it with the migration tool (e.g. 'migrate force ${db.schema ?? 0}'), then 'envctl migrate ${env} --to <N>' before any traffic moves`,
    );
  const t = r.slots[target];
  if (t.version !== null && !t.schema)
    return refuse(
      `${env}: ${label(r, target)} declares no schema range while the database is at schema ${schemaText(db.schema)}: stage it with its range ('envctl stage ${env} --version ${t.version} --schema <requires>..<supportsUpTo>', the image's envstack.schema.* labels)`,
    );
  for (const s of servingSlots(r, target)) {
    const slot = r.slots[s];
    if (!slot.schema)
      return refuse(
        `${env}: ${label(r, s)} serves ${slot.weight} % but declares no schema range while the database is at schema ${schemaText(db.schema)}: stage its range first`,
      );
  }
  const v = db.schema ?? 0;
  if (t.schema && v < t.schema.requires) {
    const stable = otherSlot(target);
    const st = r.slots[stable];
    const stableOk = st.version === null || (st.schema !== undefined && t.schema.requires <= st.schema.supportsUpTo);
    return refuse(
      stableOk
        ? `${env}: ${label(r, target)} needs schema ${t.schema.requires}, the database is at ${schemaText(db.schema)}: the expand has not run. Run it before traffic moves: 'envctl migrate ${env} --to ${t.schema.requires}' (${label(r, stable)} runs on it too), or 'envctl rollout ${env} --migrate' to run it as the rollout's first step`
        : `${env}: ${label(r, target)} needs schema ${t.schema.requires}, but ${label(r, stable)} runs only up to ${st.schema?.supportsUpTo ?? "an undeclared version"}: no schema serves both, so no canary is possible. Release an intermediate version that runs on ${st.schema?.supportsUpTo ?? "the current schema"} and ${t.schema.requires} first (expand, then contract in a later release)`,
    );
  }
  if (t.schema && v > t.schema.supportsUpTo) {
    return refuse(
      `${env}: the database is at schema ${v}, beyond what ${label(r, target)} runs on: it would fail against the contracted schema. Stage a version whose range includes ${v}`,
    );
  }
  for (const s of servingSlots(r, target)) {
    if (s === target) continue;
    const slot = r.slots[s];
    if (!runsOn(slot, db.schema))
      return refuse(
        `${env}: ${label(r, s)} serves ${slot.weight} % but the database is at schema ${schemaText(db.schema)}, outside its range: migrate back into it first ('envctl migrate ${env} --to ${slot.schema!.supportsUpTo}') or move its traffic off`,
      );
  }
  return OK;
}

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
      `${env}: the database is dirty at schema ${schemaText(from)}: a migration stopped midway; inspect it and fix it with the migration tool (e.g. 'migrate force ${from ?? 0}') before migrating again`,
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
        `${env}: migrating to schema ${g.to} would break ${label(r, s)}, which ${slot.weight > 0 ? `serves ${slot.weight} %` : "is the canary of the rollout in progress"} and runs on ${rangeText(slot.schema)} only: refused; ${forward}`,
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
        `${env}: ${kind} to schema ${g.to} is beyond what ${label(r, prev)} runs on, and ${prev} is the rollback target until ${until.toISOString()} (rollback window ${g.rollbackWindowSeconds} s since it stopped serving${g.previousLiveIdleSince ? ` at ${g.previousLiveIdleSince.toISOString()}` : "; when is unknown, counted from now"}): refused; migrate after ${until.toISOString()}, when a rollback is no longer expected`,
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
      `${env}: no slot's version knows schema ${need} (${label(r, "blue")}, ${label(r, "green")}): stage the version whose image carries migration ${need} first ('envctl stage ${env} --version <v> --schema <requires>..<supportsUpTo>')`,
    );
  return { ok: true, image };
}

/**
 * A rollback returns 100 % to `to`: refused when the database's schema is outside what `to` runs
 * on (a contract ran after the switch). `db`: the recorded or read-back schema.
 */
export function rollbackGate(r: Release, to: Slot, db: SchemaReading | undefined): GateResult {
  if (db === undefined) return OK; // the schema was never tracked: nothing to protect
  const s = r.slots[to];
  if (!s.schema) return OK; // the app declares no range: the rollback is not the schema's to refuse
  if (runsOn(s, db.schema) && !db.dirty) return OK;
  const env = r.environment;
  if (db.dirty)
    return refuse(
      `${env}: rollback to ${label(r, to)} refused: the database is dirty at schema ${schemaText(db.schema)} (a migration stopped midway); fix the migration first`,
    );
  const v = db.schema ?? 0;
  const down = v > s.schema.supportsUpTo ? s.schema.supportsUpTo : s.schema.requires;
  return refuse(
    `${env}: rollback to ${label(r, to)} refused: the database is at schema ${v}, ${v > s.schema.supportsUpTo ? "beyond" : "below"} what ${r.slots[to].version} runs on, and moving traffic there would break it. Ways out: roll forward (fix the live version, 'envctl stage'/'envctl promote' it into the idle slot and 'envctl rollout ${env}'), or, when the ${v > s.schema.supportsUpTo ? "contract's down migration" : "expand"} is safe, 'envctl migrate ${env} --to ${down}' first, then 'envctl rollback ${env}'`,
  );
}

/**
 * What `envctl release-check` refuses in a pull request's release file (`base` → `head`) under the
 * expand/contract rules: traffic on a slot whose range excludes the database's recorded schema; a
 * schema range edited in place while its slot serves (declared by the image, like its settings);
 * the recorded schema moved by hand beyond what a slot keeping traffic runs on.
 */
export function schemaChangeProblems(base: Release | null, head: Release): string[] {
  const env = head.environment;
  const problems: string[] = [];
  const db = recordedSchema(head);
  for (const slot of ["blue", "green"] as const) {
    const b = head.slots[slot];
    const a = base?.slots[slot];
    if (
      a &&
      a.version === b.version &&
      b.version !== null &&
      (a.weight > 0 || b.weight > 0) &&
      JSON.stringify(a.schema ?? null) !== JSON.stringify(b.schema ?? null)
    ) {
      problems.push(
        `${env}: slot ${slot} (${b.version}) changes its schema range (${a.schema ? rangeText(a.schema) : "none"} → ${b.schema ? rangeText(b.schema) : "none"}) while it serves: the range is the image's (its envstack.schema.* labels); stage a new build instead`,
      );
    }
    if (db === undefined || b.version === null || b.weight === 0) continue;
    if (!b.schema) {
      problems.push(
        `${env}: slot ${slot} (${b.version}) gets ${b.weight} % of the traffic but declares no schema range, while ${env}'s database is at schema ${schemaText(db.schema)}: stage it with its range`,
      );
    } else if (!runsOn(b, db.schema)) {
      const moved =
        base?.database && base.database.schema !== db.schema
          ? ` (this change moves the recorded schema ${schemaText(base.database.schema)} → ${schemaText(db.schema)}: only 'envctl migrate' changes it)`
          : "";
      problems.push(
        `${env}: slot ${slot} (${b.version}, schema ${rangeText(b.schema)}) gets ${b.weight} % of the traffic but ${env}'s database is at schema ${schemaText(db.schema)}${moved}: ${(db.schema ?? 0) < b.schema.requires ? `run the expand first ('envctl migrate ${env} --to ${b.schema.requires}')` : `the schema was contracted beyond it; roll forward instead`}`,
      );
    }
  }
  return problems;
}
