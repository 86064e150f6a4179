/**
 * The database schema gates: expand/contract enforced by the release. Both slots of an
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
import type { Release } from "../model/release.ts";
import { otherSlot, type SchemaRange, type SlotState } from "../model/slots.ts";

/** What the database holds: its schema version (null: no migration ran) and whether one stopped midway. */
export interface SchemaReading {
  readonly schema: number | null;
  readonly dirty: boolean;
}

export type GateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export const OK: GateResult = { ok: true };
export const refuse = (reason: string): GateResult => ({ ok: false, reason });

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
export function label(r: Release, slot: Slot): string {
  const s = r.slots[slot];
  return `${slot} (${s.version ?? "empty"}${s.schema ? `, schema ${rangeText(s.schema)}` : ", no schema range declared"})`;
}

export const schemaText = (v: number | null) => (v === null ? "none (no migration ran)" : String(v));

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
export function servingSlots(r: Release, about?: Slot): Slot[] {
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
      `${env}: the database's schema version could not be read, and ` +
        `${label(r, target)} declares the schema it needs: traffic does not move on an unknown ` +
        `schema; check the database ('envctl status ${env}') and try again`,
    );
  if (db.dirty)
    return refuse(
      `${env}: the database is dirty at schema ` +
        `${schemaText(db.schema)}: a migration stopped midway; inspect it, fix it with the migration ` +
        `tool (e.g. 'migrate force ${db.schema ?? 0}'), then 'envctl migrate ${env} --to <N>' before any traffic moves`,
    );
  const t = r.slots[target];
  if (t.version !== null && !t.schema)
    return refuse(
      `${env}: ${label(r, target)} declares no schema range while the database is at schema ` +
        `${schemaText(db.schema)}: stage it with its range ('envctl stage ` +
        `${env} --version ${t.version} --schema <requires>..<supportsUpTo>', the image's envstack.schema.* labels)`,
    );
  for (const s of servingSlots(r, target)) {
    const slot = r.slots[s];
    if (!slot.schema)
      return refuse(
        `${env}: ${label(r, s)} serves ${slot.weight} % but declares no schema range while the ` +
          `database is at schema ${schemaText(db.schema)}: stage its range first`,
      );
  }
  const v = db.schema ?? 0;
  if (t.schema && v < t.schema.requires) {
    const stable = otherSlot(target);
    const st = r.slots[stable];
    const stableOk = st.version === null || (st.schema !== undefined && t.schema.requires <= st.schema.supportsUpTo);
    return refuse(
      stableOk
        ? `${env}: ${label(r, target)} needs schema ` +
            `${t.schema.requires}, the database is at ` +
            `${schemaText(db.schema)}: the expand has not run. Run it before traffic moves: 'envctl ` +
            `migrate ${env} --to ${t.schema.requires}' ` +
            `(${label(r, stable)} runs on it too), or 'envctl rollout ${env} --migrate' to run it as the rollout's first step`
        : `${env}: ${label(r, target)} needs schema ` +
            `${t.schema.requires}, but ${label(r, stable)} runs only up to ` +
            `${st.schema?.supportsUpTo ?? "an undeclared version"}: no schema serves both, so no ` +
            `canary is possible. Release an intermediate version that runs on ` +
            `${st.schema?.supportsUpTo ?? "the current schema"} and ${t.schema.requires} first (expand, then contract in a later release)`,
    );
  }
  if (t.schema && v > t.schema.supportsUpTo) {
    return refuse(
      `${env}: the database is at schema ` +
        `${v}, beyond what ${label(r, target)} runs on: it would fail against the contracted schema. Stage a version whose range includes ${v}`,
    );
  }
  for (const s of servingSlots(r, target)) {
    if (s === target) continue;
    const slot = r.slots[s];
    if (!runsOn(slot, db.schema))
      return refuse(
        `${env}: ${label(r, s)} serves ${slot.weight} % but the database is at schema ` +
          `${schemaText(db.schema)}, outside its range: migrate back into it first ('envctl migrate ` +
          `${env} --to ${slot.schema!.supportsUpTo}') or move its traffic off`,
      );
  }
  return OK;
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
      `${env}: rollback to ${label(r, to)} refused: the database is dirty at schema ` +
        `${schemaText(db.schema)} (a migration stopped midway); fix the migration first`,
    );
  const v = db.schema ?? 0;
  const down = v > s.schema.supportsUpTo ? s.schema.supportsUpTo : s.schema.requires;
  return refuse(
    `${env}: rollback to ${label(r, to)} refused: the database is at schema ` +
      `${v}, ${v > s.schema.supportsUpTo ? "beyond" : "below"} what ` +
      `${r.slots[to].version} runs on, and moving traffic there would break it. Ways out: roll ` +
      `forward (fix the live version, 'envctl stage'/'envctl promote' it into the idle slot and ` +
      `'envctl rollout ${env}'), or, when the ` +
      `${v > s.schema.supportsUpTo ? "contract's down migration" : "expand"} is safe, 'envctl ` +
      `migrate ${env} --to ${down}' first, then 'envctl rollback ${env}'`,
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
        `${env}: slot ${slot} (${b.version}) changes its schema range ` +
          `(${a.schema ? rangeText(a.schema) : "none"} → ` +
          `${b.schema ? rangeText(b.schema) : "none"}) while it serves: the range is the image's (its envstack.schema.* labels); stage a new build instead`,
      );
    }
    if (db === undefined || b.version === null || b.weight === 0) continue;
    if (!b.schema) {
      problems.push(
        `${env}: slot ${slot} (${b.version}) gets ` +
          `${b.weight} % of the traffic but declares no schema range, while ${env}'s database is at schema ${schemaText(db.schema)}: stage it with its range`,
      );
    } else if (!runsOn(b, db.schema)) {
      const moved =
        base?.database && base.database.schema !== db.schema
          ? ` (this change moves the recorded schema ${schemaText(base.database.schema)} → ${schemaText(db.schema)}: only 'envctl migrate' changes it)`
          : "";
      const way =
        (db.schema ?? 0) < b.schema.requires
          ? `run the expand first ('envctl migrate ${env} --to ${b.schema.requires}')`
          : "the schema was contracted beyond it; roll forward instead";
      problems.push(
        `${env}: slot ${slot} (${b.version}, schema ${rangeText(b.schema)}) gets ${b.weight} % of the traffic ` +
          `but ${env}'s database is at schema ${schemaText(db.schema)}${moved}: ${way}`,
      );
    }
  }
  return problems;
}
