/**
 * What a slot of a release file holds: its version (image tag, optional digest), the application
 * settings it was promoted with, the database schema range it runs on, and its traffic weight.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { type SettingValue, SettingValueSchema, type Slot } from "../../core/primitives.ts";

/** Image tag: what a slot runs. */
export const VersionSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a valid image tag");

/** Content digest of an image: the slot runs `<repository>@<digest>` when it is known. */
export const DigestSchema = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, "must be an image digest sha256:<64 lower-case hex digits>");

/** The application settings a slot was promoted with, and their checksum (see {@link settingsChecksum}). */
export const SlotSettingsSchema = z
  .strictObject({
    checksum: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lower-case hex digits"),
    values: z.record(
      z.string().regex(/^[A-Z][A-Z0-9_]{0,127}$/, "must be an UPPER_SNAKE_CASE setting name"),
      SettingValueSchema,
    ),
  })
  .superRefine((s, ctx) => {
    const expected = settingsChecksum(s.values);
    if (s.checksum !== expected)
      ctx.addIssue({
        code: "custom",
        path: ["checksum"],
        message: `does not match the values (expected ${expected}): settings are never edited in place, stage a new slot instead`,
      });
  });
export type SlotSettings = z.infer<typeof SlotSettingsSchema>;

/** First 16 hex digits of the SHA-256 of the settings as canonical JSON (keys sorted). */
export function settingsChecksum(values: Readonly<Record<string, SettingValue>>): string {
  const canonical = JSON.stringify(
    Object.keys(values)
      .sort()
      .map((k) => [k, values[k]]),
  );
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** Settings values with their checksum. */
export function slotSettings(values: Readonly<Record<string, SettingValue>>): SlotSettings {
  const sorted = Object.fromEntries(
    Object.keys(values)
      .sort()
      .map((k) => [k, values[k]!]),
  );
  return { checksum: settingsChecksum(sorted), values: sorted };
}

export const Weight = z.number().int("must be an integer").min(0, "must be 0-100").max(100, "must be 0-100");

/** A database schema version: golang-migrate's integer version (the `schema_migrations` table). */
export const SchemaVersionSchema = z
  .number()
  .int("must be an integer schema version")
  .min(0, "must be 0 or more")
  .max(Number.MAX_SAFE_INTEGER);

/**
 * The schema versions a slot's version works with: the version it needs (`requires`,
 * its expand has run) and the highest it still runs on (`supportsUpTo`, the contract it survives).
 * Declared by the app next to its image (OCI labels `envstack.schema.requires` and
 * `envstack.schema.supports-up-to`, README "Database changes"); staged with the version.
 */
export const SchemaRangeSchema = z
  .strictObject({ requires: SchemaVersionSchema, supportsUpTo: SchemaVersionSchema })
  .refine((r) => r.supportsUpTo >= r.requires, {
    message: "supportsUpTo must be at least requires",
    path: ["supportsUpTo"],
  });
export type SchemaRange = z.infer<typeof SchemaRangeSchema>;

/**
 * The environment's database as envctl last read it back (after `envctl migrate`, `envctl data copy`):
 * the schema version (null: no migration ever ran) and whether a migration stopped midway (dirty).
 * Both slots of an environment share it. The gates of rollout, rollback and release-check judge it.
 */
export const DatabaseStateSchema = z.strictObject({
  schema: SchemaVersionSchema.nullable(),
  dirty: z.boolean().default(false),
  /** When it was read back from the database. */
  readAt: z.iso.datetime(),
  /** The database the slots use: the RDS identifier (locally, a database of that name); absent: `<env>-postgres`. */
  instance: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, "must be a lower-case database identifier")
    .optional(),
  /**
   * The environment whose data this database holds masked (`data copy --mask` from a higher tier, or a
   * copy of such a database): a copy of it into a lower tier needs no spec of its own.
   */
  maskedFrom: z.string().min(1).optional(),
  /** The database `data copy` switched away from, kept until `envctl data confirm`. */
  previousInstance: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, "must be a lower-case database identifier")
    .optional(),
});
export type DatabaseState = z.infer<typeof DatabaseStateSchema>;

export const SlotStateSchema = z.strictObject({
  /** Image tag the slot runs; null when the slot is empty. */
  version: VersionSchema.nullable(),
  /** Image digest of that version, when known. */
  digest: DigestSchema.optional(),
  /** Application settings the slot was promoted with; absent when the environment has none (or the slot is empty). */
  settings: SlotSettingsSchema.optional(),
  /** Integer share of the traffic, 0-100. */
  weight: Weight,
  /** The database schema versions the version works with; absent when the app declares none. */
  schema: SchemaRangeSchema.optional(),
});

export const WeightsSchema = z.strictObject({ blue: Weight, green: Weight }).superRefine((w, ctx) => {
  if (w.blue + w.green !== 100)
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `must sum to 100 (blue ${w.blue} + green ${w.green} = ${w.blue + w.green})`,
    });
});
export type Weights = z.infer<typeof WeightsSchema>;

/** A slot's state, as the release file holds it. */
export type SlotState = z.infer<typeof SlotStateSchema>;

export function otherSlot(slot: Slot): Slot {
  return slot === "blue" ? "green" : "blue";
}

export function weightsOf(r: {
  readonly slots: { readonly blue: { weight: number }; readonly green: { weight: number } };
}): Weights {
  return { blue: r.slots.blue.weight, green: r.slots.green.weight };
}
