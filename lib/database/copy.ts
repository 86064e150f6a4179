/**
 * `envctl data copy <from> <to> --mask <spec>`, `data confirm`, `data seed`: production-like
 * data in lower environments, masked, verified by query, switched to with the old database kept until
 * confirmed. The databases are reached through a {@link DataPlane} (./local.ts on the local target).
 *
 *   1. the source's latest state is restored into a NEW database in the target's network
 *      (`<to>-postgres-copy-<yyyymmddhhmm>`; the live target database is untouched);
 *   2. the masking spec (./masking.ts) is checked against the copy's columns, run in one
 *      transaction inside the copy, and verified there: no masked column may still hold a value the
 *      source held (counted by query against a digest of every original value);
 *   3. the copy's schema version must suit the target's serving slots (lib/release/gates/schema.ts);
 *   4. the target's release file switches `database.instance` to the copy and keeps the old one as
 *      `previousInstance` until `envctl data confirm <to>` drops it.
 *
 * From a higher tier into a lower one, a copy without a complete masking spec is refused, never warned.
 */
import { TIERS } from "../core/primitives.ts";
import { type Context, change, environment, locked } from "../release/command-context.ts";
import { runsOn } from "../release/gates/schema.ts";
import { describeCause, MigrationFailedError, RefusedError } from "../release/model/errors.ts";
import { parseRelease, type Release } from "../release/model/release.ts";
import type { SchemaState } from "../release/ports/index.ts";
import { recordedState, restoreFile } from "../release/served.ts";
import type { Catalog } from "./catalog.ts";
import { displayName, type MaskSpec, planMasking } from "./masking.ts";
import { maskingSql } from "./masking-sql.ts";

/** The databases of a project's environments, as data copies reach them. */
export interface DataPlane {
  /** Restores the source database's latest snapshot into a new database `as` in the target's network. */
  restoreLatest(source: string, as: string, log: (line: string) => void): Promise<void>;
  /** Whether a database of that name exists. */
  exists(instance: string): Promise<boolean>;
  /** Every relation of every schema but the system ones, from the catalogs (./catalog.ts). */
  catalog(instance: string): Promise<Catalog>;
  /** Runs SQL in the database; returns its output (the last query's JSON value, trimmed). */
  run(instance: string, sql: string): Promise<string>;
  readSchema(instance: string): Promise<SchemaState>;
  drop(instance: string): Promise<void>;
}

const instanceOf = (r: Release) => r.database?.instance ?? `${r.environment}-postgres`;
const rank = (tier: string) => TIERS.indexOf(tier as (typeof TIERS)[number]);

function stamp(d: Date): string {
  return d.toISOString().slice(0, 16).replace(/[-:T]/g, "");
}

export interface CopyResult {
  readonly release: Release;
  readonly copy: string;
  readonly previous: string;
  /** `<table>.<column>` → values still equal to a source value after masking (all 0). */
  readonly verified: Record<string, number>;
}

/**
 * Where the source's data is and whether it is masked already, as its history records them (the
 * release file's `database.instance` and `maskedFrom` count only when the history agrees: a
 * `maskedFrom` written into the file by hand removes no spec requirement).
 */
function recordedSource(ctx: Context, from: string, file: Release): { instance: string; maskedFrom?: string } {
  const logged = ctx.store.logged?.(from);
  if (!logged)
    throw new RefusedError(
      `data copy: ${from}'s history cannot be read by this store: refused (a copy's source and masking are taken from the history)`,
    );
  const recorded = recordedState(from, file, logged);
  if ("problem" in recorded)
    throw new RefusedError(`data copy: ${recorded.problem}; nothing was copied. ${restoreFile(from)}`);
  const { instance, maskedFrom } = recorded.state;
  return { instance: instance ?? `${from}-postgres`, ...(maskedFrom ? { maskedFrom } : {}) };
}

export async function copyData(
  ctx: Context,
  plane: DataPlane,
  from: string,
  to: string,
  spec: MaskSpec | undefined,
  salt: string,
): Promise<CopyResult> {
  const source = environment(ctx, from);
  const target = environment(ctx, to);
  if (from === to) throw new RefusedError(`data copy: ${from} → ${to}: source and target are the same environment`);
  const lower = rank(source.tier) > rank(target.tier);
  const { instance: sourceInstance, maskedFrom } = recordedSource(ctx, from, ctx.store.load(from));
  if (lower && !spec && !maskedFrom)
    throw new RefusedError(
      `data copy ${from} → ${to}: ${from} (${source.tier}) data never reaches ` +
        `${to} (${target.tier}) unmasked: refused. Give a masking spec listing every column ('--mask <spec.json>', README "Database changes")`,
    );
  const howMasked = maskedFrom ? ` (it holds ${maskedFrom}'s data masked)` : ", unmasked";
  // Data leaving an environment is a change of that environment: its approvals first, then the target's.
  await ctx.approve(source, {
    summary: `${ctx.command}: copy ${from}'s database (${sourceInstance}) out to ${to}${spec ? ", masked" : howMasked}`,
    stacks: [],
  });
  await ctx.approve(target, {
    summary: `${ctx.command}: restore ${from}'s database into a new database for ${to}${spec ? ", mask it" : ""}, then switch ${to} to it`,
    stacks: [],
  });
  return locked(ctx, to, async () => {
    const current = ctx.store.load(to);
    if (current.database?.previousInstance)
      throw new RefusedError(
        `${to}: the previous data copy is not confirmed yet (${current.database.previousInstance} is kept): 'envctl data confirm ${to}' first`,
      );
    const previous = instanceOf(current);
    const copy = `${to}-postgres-copy-${stamp(ctx.clock.now())}`;
    if (await plane.exists(copy))
      throw new RefusedError(`${to}: a database ${copy} exists already: try again in a minute, or drop it`);
    await ctx.progress.step(`restore ${from}'s latest snapshot (${sourceInstance}) into ${copy}`, (log) =>
      plane.restoreLatest(sourceInstance, copy, log),
    );
    /** Drops the copy and stops: refused (the input does not fit) or failed (exit 10: the masking ran and did not hold). */
    const discard = async (why: string, failed = false): Promise<never> => {
      await plane.drop(copy).catch(() => undefined);
      const message = `data copy ${from} → ${to}: ${why}; the copy ${copy} was dropped, ${to} still uses ${previous}`;
      throw failed ? new MigrationFailedError(to, message) : new RefusedError(message);
    };
    let verified: Record<string, number> = {};
    let maskedNote = maskedFrom
      ? `already masked (${from} holds ${maskedFrom}'s data masked)`
      : "unmasked (same or higher tier)";
    if (spec) {
      let catalog: Catalog;
      try {
        catalog = await plane.catalog(copy);
      } catch (err) {
        return discard(`its relations could not be listed from the catalogs: ${describeCause(err)}`, true);
      }
      const planned = planMasking(spec, catalog, lower);
      if (!planned.plan)
        return discard(
          `the masking spec does not fit the data:\n${planned.problems.map((p) => `  - ${p}`).join("\n")}`,
        );
      const plan = planned.plan;
      let out: { left?: Record<string, number>; rows?: Record<string, number> };
      try {
        out = JSON.parse(
          (await ctx.progress.step(
            `mask ${plan.masked.length} column(s) of ${copy}, refresh ${plan.refresh.length} materialized view(s), verify ${plan.relations.length} relation(s)`,
            () => plane.run(copy, maskingSql(plan, salt)),
          )) || "{}",
        );
      } catch (err) {
        return discard(`masking failed: ${describeCause(err)}`, true);
      }
      verified = out.left ?? {};
      const rows = out.rows ?? {};
      const unread = plan.relations.filter((r) => r.kind !== "f").length - Object.keys(rows).length;
      if (unread !== 0) return discard(`verification failed: ${unread} relation(s) of the copy were not queried`, true);
      const left = Object.entries(verified).filter(([, n]) => n !== 0);
      if (left.length > 0)
        return discard(
          `verification failed: masked data still holds source values (${left.map(([c, n]) => `${c}: ${n}`).join(", ")})`,
          true,
        );
      const maskedList = plan.masked.map(
        (m) => `${displayName(m.relation.schema, m.relation.name)}.${m.column} (${m.rule})`,
      );
      maskedNote = [
        `masked ${maskedList.join(", ") || "nothing"}; kept ${plan.kept.map((k) => `${k.table}.${k.column}`).join(", ") || "nothing"}; `,
        `refreshed ${plan.refresh.length} materialized view(s); verified by query: 0 source values left in ${plan.masked.length} `,
        `masked column(s), ${Object.keys(verified).length} column(s) checked across ${Object.keys(rows).length} relation(s)`,
      ].join("");
    }
    let schema: SchemaState;
    try {
      schema = await plane.readSchema(copy);
    } catch (err) {
      return discard(`its schema version could not be read: ${describeCause(err)}`, true);
    }
    for (const s of ["blue", "green"] as const) {
      const slot = current.slots[s];
      if (slot.version !== null && slot.weight > 0 && slot.schema && !runsOn(slot, schema.schema)) {
        return discard(
          `the copy is at schema ${schema.schema ?? "none"}, outside what ` +
            `${s} (${slot.version}, schema ${slot.schema.requires}..${slot.schema.supportsUpTo}) runs on: migrate ${from} or ${to} so they agree first`,
        );
      }
    }
    const masked = spec && lower ? from : maskedFrom;
    const next = parseRelease({
      ...current,
      database: {
        schema: schema.schema,
        dirty: schema.dirty,
        readAt: ctx.clock.now().toISOString(),
        instance: copy,
        previousInstance: previous,
        ...(masked ? { maskedFrom: masked } : {}),
      },
    });
    const release = ctx.store.commit(current, next, {
      change: change(ctx),
      outcome: "data-copied",
      note: [
        `${to} switched from ${previous} to ${copy}, a copy of ${from}'s ${sourceInstance}: ${maskedNote}; `,
        `${previous} is kept until 'envctl data confirm ${to}'`,
      ].join(""),
    });
    return { release, copy, previous, verified };
  });
}

/** Drops the database a copy switched away from: the copy is confirmed. */
export async function confirmCopy(ctx: Context, plane: DataPlane, env: string): Promise<Release> {
  const e = environment(ctx, env);
  return locked(ctx, env, async () => {
    const current = ctx.store.load(env);
    const prev = current.database?.previousInstance;
    if (!prev) throw new RefusedError(`${env}: no data copy awaits confirmation`);
    // The database dropped is the one the history recorded, never a name only the file holds.
    const recorded = recordedState(env, current, ctx.store.logged?.(env) ?? []);
    if ("problem" in recorded || recorded.state.previousInstance !== prev) {
      throw new RefusedError(
        [
          `data confirm ${env}: `,
          "problem" in recorded
            ? recorded.problem
            : `its history does not record ${prev} as the database ${env} used before its copy`,
          `; nothing was dropped. ${restoreFile(env)}`,
        ].join(""),
      );
    }
    await ctx.approve(e, {
      summary: `${ctx.command}: drop ${prev}, the database ${env} used before its data copy`,
      stacks: [],
    });
    await plane.drop(prev);
    const { previousInstance: _p, ...database } = current.database!;
    return ctx.store.commit(current, parseRelease({ ...current, database }), {
      change: change(ctx),
      outcome: "data-confirmed",
      note: `${prev} dropped; ${env} keeps ${database.instance}`,
    });
  });
}

/** Runs a seed script in the environment's database (never production): test data for previews and test environments. */
export async function seedData(
  ctx: Context,
  plane: DataPlane,
  env: string,
  script: string,
  name: string,
): Promise<Release> {
  const e = environment(ctx, env);
  if (e.tier === "production")
    throw new RefusedError(`${env} is a production environment: seed scripts are for test environments and previews`);
  return locked(ctx, env, async () => {
    const current = ctx.store.load(env);
    const instance = instanceOf(current);
    await ctx.progress.step(`seed ${instance} with ${name}`, () => plane.run(instance, script));
    const schema = await plane.readSchema(instance);
    const next = parseRelease({
      ...current,
      database: {
        ...(current.database ?? {}),
        schema: schema.schema,
        dirty: schema.dirty,
        readAt: ctx.clock.now().toISOString(),
      },
    });
    return ctx.store.commit(current, next, {
      change: change(ctx),
      outcome: "data-seeded",
      note: `${instance} seeded with ${name}`,
    });
  });
}
