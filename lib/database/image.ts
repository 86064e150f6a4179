/**
 * The image-command contract (README "Database changes"): what an app image declares, as OCI image
 * labels, for envctl to run its migrations and to gate its traffic.
 *
 * - `envstack.schema.requires`: the lowest schema version the image's app runs on (its expand).
 * - `envstack.schema.supports-up-to`: the highest schema version it still runs on (the contract it survives).
 * - `envstack.migrate.command`: the migration command, a JSON array of arguments, run in the image's
 *   working directory with `DATABASE_URL` and `ENVSTACK_SCHEMA_TO` in its environment (and the slot's
 *   settings, as the app gets them); `${DATABASE_URL}` and `${ENVSTACK_SCHEMA_TO}` in an argument are
 *   replaced by their values. Exit 0: done; anything else: failed.
 *   Default: `["migrate","-path","migrations","-database","${DATABASE_URL}","goto","${ENVSTACK_SCHEMA_TO}"]`
 *   (golang-migrate, migrations in `<workdir>/migrations/<N>_<name>.{up,down}.sql`).
 * - `envstack.schema.read-command`: the command that prints the database's schema version, as
 *   golang-migrate's `version` does (`N`, `N (dirty)`, or `no migration`), run the same way where
 *   envctl cannot query the database itself (a Kubernetes Job on EKS).
 *   Default: `["migrate","-path","migrations","-database","${DATABASE_URL}","version"]`.
 */
import { z } from "zod";

export const DEFAULT_MIGRATE_COMMAND = [
  "migrate",
  "-path",
  "migrations",
  "-database",
  "${DATABASE_URL}",
  "goto",
  "${ENVSTACK_SCHEMA_TO}",
] as const;

export const DEFAULT_SCHEMA_READ_COMMAND = [
  "migrate",
  "-path",
  "migrations",
  "-database",
  "${DATABASE_URL}",
  "version",
] as const;

export const LABELS = {
  requires: "envstack.schema.requires",
  supportsUpTo: "envstack.schema.supports-up-to",
  command: "envstack.migrate.command",
  readCommand: "envstack.schema.read-command",
} as const;

const IntLabel = z
  .string()
  .regex(/^\d{1,15}$/, "must be a whole number (a schema version)")
  .transform(Number);

const LabelsSchema = z.object({
  [LABELS.requires]: IntLabel.optional(),
  [LABELS.supportsUpTo]: IntLabel.optional(),
  [LABELS.command]: z.string().optional(),
  [LABELS.readCommand]: z.string().optional(),
});

export interface ImageContract {
  /** The schema range, when the image declares it. */
  readonly schema?: { readonly requires: number; readonly supportsUpTo: number };
  readonly migrate: readonly string[];
  /** The command printing the schema version (golang-migrate's `version` output). */
  readonly readSchema: readonly string[];
}

/** A label holding a command: a JSON array of non-empty arguments. */
function commandLabel(value: string, label: string, what: string, example: readonly string[]): readonly string[] {
  const argv = z
    .array(z.string().min(1))
    .min(1)
    .safeParse(
      (() => {
        try {
          return JSON.parse(value);
        } catch {
          return undefined;
        }
      })(),
    );
  if (!argv.success)
    throw new Error(`${what}: label ${label} must be a JSON array of arguments, e.g. ${JSON.stringify(example)}`);
  return argv.data;
}

/** The contract of an image from its labels; throws naming the image, the label and the rule. */
export function imageContract(labels: Record<string, string>, what: string): ImageContract {
  const parsed = LabelsSchema.safeParse(labels);
  if (!parsed.success)
    throw new Error(`${what}: ${parsed.error.issues.map((i) => `label ${String(i.path[0])} ${i.message}`).join("; ")}`);
  const l = parsed.data;
  const r = l[LABELS.requires];
  const u = l[LABELS.supportsUpTo];
  if ((r === undefined) !== (u === undefined))
    throw new Error(`${what}: labels ${LABELS.requires} and ${LABELS.supportsUpTo} go together (one is missing)`);
  if (r !== undefined && u !== undefined && u < r)
    throw new Error(`${what}: label ${LABELS.supportsUpTo} (${u}) must be at least ${LABELS.requires} (${r})`);
  const cmd = l[LABELS.command];
  const migrate =
    cmd === undefined ? DEFAULT_MIGRATE_COMMAND : commandLabel(cmd, LABELS.command, what, DEFAULT_MIGRATE_COMMAND);
  const read = l[LABELS.readCommand];
  const readSchema =
    read === undefined
      ? DEFAULT_SCHEMA_READ_COMMAND
      : commandLabel(read, LABELS.readCommand, what, DEFAULT_SCHEMA_READ_COMMAND);
  return {
    ...(r !== undefined && u !== undefined ? { schema: { requires: r, supportsUpTo: u } } : {}),
    migrate,
    readSchema,
  };
}
