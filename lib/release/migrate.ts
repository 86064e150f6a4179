/**
 * Database changes released with the code: `envctl migrate <env> --to N` and the schema
 * gates of rollout, shift and rollback, through the {@link Database} port (lib/release/ports/index.ts).
 *
 * A migration holds the environment's lock for its whole run, snapshots production first, streams
 * the command's output, honours its exit code, ends at its timeout, reads the schema back and
 * records the change (outcome `migrated`, `migration-failed` or `migration-timed-out`, the schema
 * before and after) in the history. The gates themselves are pure (./schema-gates.ts).
 */
import type { Slot } from "../core/primitives.ts";
import { type Context, change, environment, locked } from "./command-context.ts";
import { takeSnapshot } from "./commands.ts";
import { refusePending } from "./deploy-protocol.ts";
import { recordedSchema, rollbackGate, rolloutGate, type SchemaReading, schemaTracked } from "./gates/schema.ts";
import { migrationGate, migrationKind, stoppedServingAt } from "./gates/schema-migration.ts";
import { describeCause, MigrationFailedError, RefusedError } from "./model/errors.ts";
import { parseRelease, type Release } from "./model/release.ts";
import { otherSlot } from "./model/slots.ts";
import type { Database, ReleaseEnvironment, SchemaState } from "./ports/index.ts";

export interface MigrateOptions {
  /** The schema version to migrate to. */
  readonly to: number;
  /** Stop the migration command after this long. @default 600 */
  readonly timeoutSeconds?: number;
}

/** The environment's database (the instance its release file names), or a refusal when envctl has none. */
export function databaseOf(ctx: Context, e: ReleaseEnvironment, r: Release): Database {
  if (!ctx.database)
    throw new RefusedError(
      `${e.name}: envctl has no database adapter for this target: migrations and the schema gates need one (README "Database changes")`,
    );
  return ctx.database(e, r.database?.instance);
}

/** The schema read back from the database; undefined when it cannot be read (the caller says so and fails closed). */
export async function readBack(
  ctx: Context,
  e: ReleaseEnvironment,
  r: Release,
  signal?: AbortSignal,
): Promise<{ reading?: SchemaState; error?: string }> {
  if (!ctx.database) return { error: "no database adapter for this target" };
  try {
    return { reading: await ctx.database(e, r.database?.instance).readSchema(signal) };
  } catch (err) {
    return { error: describeCause(err) };
  }
}

const schemaText = (v: number | null | undefined) => (v === null || v === undefined ? "none" : String(v));

/**
 * Migrates the environment's database to schema `to` with the image of the slot the gate picks.
 * Refuses (nothing runs) what the gate refuses; a failed, stopped or timed-out command is recorded
 * with the schema the database reads back after it, then throws {@link MigrationFailedError}.
 */
export async function migrate(ctx: Context, env: string, opts: MigrateOptions): Promise<Release> {
  const e = environment(ctx, env);
  const timeoutSeconds = opts.timeoutSeconds ?? 600;
  const first = ctx.store.load(env);
  refusePending(first);
  const db = databaseOf(ctx, e, first);
  if (ctx.options.dryRun) {
    const now = await db.readSchema().catch((err: unknown) => {
      throw new RefusedError(`${env}: cannot read the database's schema version (${describeCause(err)})`);
    });
    const gate = migrationGate(first, gateInput(ctx, e, first, now, opts.to));
    ctx.out(
      gate.ok
        ? `would migrate ${env} from schema ` +
            `${schemaText(now.schema)} to ` +
            `${opts.to} (${migrationKind(first, now.schema, opts.to)}) with ` +
            `${gate.image}'s image ${first.slots[gate.image!].version}${e.tier === "production" ? ", after a snapshot" : ""}`
        : `would refuse: ${gate.reason}`,
    );
    return first;
  }
  await ctx.approve(e, {
    summary: `${ctx.command}: migrate the database of ${env} to schema ${opts.to}${e.tier === "production" ? " (snapshot first)" : ""}`,
    stacks: [],
  });
  return locked(ctx, env, async () => {
    const current = ctx.store.load(env);
    refusePending(current);
    let before: SchemaState;
    try {
      before = await db.readSchema();
    } catch (err) {
      throw new RefusedError(
        `${env}: cannot read the database's schema version (${describeCause(err)}): nothing was migrated`,
      );
    }
    const gate = migrationGate(current, gateInput(ctx, e, current, before, opts.to));
    if (!gate.ok) throw new RefusedError(gate.reason);
    const slot = gate.image!;
    const s = current.slots[slot];
    const kind = migrationKind(current, before.schema, opts.to);
    if (e.tier === "production") await takeSnapshot(ctx, e, "pre-migrate");
    ctx.progress.info(
      `${env}: migrating the database from schema ` +
        `${schemaText(before.schema)} to ${opts.to} (${kind}) with ${slot}'s image ${s.version} (timeout ${timeoutSeconds} s)`,
    );
    const t0 = performance.now();
    let result: { exitCode: number | null; timedOut: boolean; where: string };
    try {
      result = await db.migrate({
        slot,
        version: s.version!,
        ...(s.digest ? { digest: s.digest } : {}),
        ...(s.settings ? { settings: s.settings } : {}),
        to: opts.to,
        timeoutSeconds,
        log: (line) => ctx.progress.info(`  ${slot}| ${line}`),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } catch (err) {
      result = { exitCode: null, timedOut: false, where: `not started: ${describeCause(err)}` };
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    let after: SchemaState | undefined;
    try {
      after = await db.readSchema();
    } catch {
      after = undefined;
    }
    const ok = result.exitCode === 0 && after !== undefined && after.schema === opts.to && !after.dirty;
    const state = after
      ? `the database reads back schema ${schemaText(after.schema)}${after.dirty ? " (dirty: the migration stopped midway)" : ""}`
      : "the database could not be read back (recorded as dirty)";
    const how = result.timedOut
      ? `timed out after ${timeoutSeconds} s and was stopped`
      : result.exitCode === null
        ? "was stopped before it finished"
        : `exit ${result.exitCode}`;
    const note =
      `schema ${schemaText(before.schema)} → ` +
      `${opts.to} (${kind}) by ${slot}'s image ${s.version} (${result.where}): ${how}${seconds > 0 ? `, ${seconds} s` : ""}; ${state}`;
    const next = parseRelease({
      ...current,
      database: {
        ...(current.database ?? {}),
        schema: after ? after.schema : before.schema,
        dirty: after ? after.dirty : true,
        readAt: ctx.clock.now().toISOString(),
      },
    });
    const outcome = ok ? "migrated" : result.timedOut ? "migration-timed-out" : "migration-failed";
    const written = ctx.store.commit(current, next, { change: change(ctx), outcome, note });
    if (!ok) {
      const fix =
        after?.dirty || !after
          ? `inspect the database, repair it with the migration tool (e.g. 'migrate force ` +
            `${after?.schema ?? before.schema ?? 0}' once the partial change is undone), then run ` +
            `'envctl migrate ${env} --to ${opts.to}' again; rollouts are refused while it is dirty`
          : `fix the migration and run 'envctl migrate ${env} --to ${opts.to}' again`;
      throw new MigrationFailedError(env, `${env}: migration ${note}; ${fix}`);
    }
    ctx.progress.info(`${env}: database at schema ${opts.to} (${kind} done, ${note.split(": ").slice(1).join(": ")})`);
    return written;
  });
}

function gateInput(ctx: Context, e: ReleaseEnvironment, r: Release, db: SchemaState, to: number) {
  const prev = r.previousLive;
  return {
    db,
    to,
    now: ctx.clock.now(),
    rollbackWindowSeconds: e.release.rollbackWindowSeconds,
    previousLiveIdleSince: prev === null ? null : stoppedServingAt(ctx.store.history?.(e.name) ?? [], prev),
  };
}

/**
 * Before traffic moves onto `target` (a rollout's start, continue or resume; a shift): the database's
 * schema must be inside the range of every slot that will serve. With `migrateFirst` (`rollout
 * --migrate`), a missing expand that the stable slot also runs on is run first, as the rollout's
 * step before traffic moves. Not gated when the schema is not tracked.
 */
export async function schemaGateForTraffic(
  ctx: Context,
  e: ReleaseEnvironment,
  r: Release,
  target: Slot,
  migrateFirst = false,
): Promise<Release> {
  if (!schemaTracked(r)) return r;
  const read = await readBack(ctx, e, r);
  let gate = rolloutGate(r, target, read.reading);
  if (gate.ok) return r;
  const need = r.slots[target].schema?.requires;
  const stable = r.slots[otherSlot(target)];
  const expandable =
    read.reading !== undefined &&
    !read.reading.dirty &&
    need !== undefined &&
    (read.reading.schema ?? 0) < need &&
    (stable.version === null ||
      (stable.schema !== undefined && need <= stable.schema.supportsUpTo && need >= stable.schema.requires));
  if (migrateFirst && expandable) {
    ctx.progress.info(
      `${e.name}: ${target} (${r.slots[target].version}) needs schema ` +
        `${need}; the database is at ${schemaText(read.reading!.schema)}: running the expand before any traffic moves`,
    );
    const migrated = await migrate(ctx, e.name, { to: need });
    const again = await readBack(ctx, e, migrated);
    gate = rolloutGate(migrated, target, again.reading);
    if (gate.ok) return migrated;
  }
  throw new RefusedError(`${gate.reason}${read.error ? ` (database: ${read.error})` : ""}; no traffic was moved`);
}

/** How long a rollback waits for the database's schema before it judges by the recorded one. */
export const ROLLBACK_READ_SECONDS = 15;

/** A rollback (or a shift) back onto `to`: refused when the schema is outside what `to` runs on. */
export async function schemaGateForRollback(ctx: Context, e: ReleaseEnvironment, r: Release, to: Slot): Promise<void> {
  if (!schemaTracked(r)) return;
  // The database read back when it answers in time; else what envctl recorded (a rollback never waits on a database that
  // does not answer, nor long on a slow read: on EKS the read is a Job).
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ROLLBACK_READ_SECONDS * 1000);
  const read = ctx.database ? await readBack(ctx, e, r, stop.signal) : {};
  clearTimeout(timer);
  if (stop.signal.aborted)
    ctx.progress.info(
      `${e.name}: the database's schema: no answer within ${ROLLBACK_READ_SECONDS} s; judged by the schema envctl recorded`,
    );
  const reading: SchemaReading | undefined = read.reading ?? recordedSchema(r);
  const gate = rollbackGate(r, to, reading);
  if (!gate.ok) throw new RefusedError(gate.reason);
}
