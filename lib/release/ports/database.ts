/** The environment's database: its schema version read back, a migration run by a slot's image. (Part of the ports: ./index.ts.) */
import type { Slot } from "../../core/primitives.ts";
import type { SlotSettings } from "../model/slots.ts";

// ----------------------------------------------------------------- database

/** The schema version a database holds (golang-migrate's `schema_migrations`): null when no migration ran. */
export interface SchemaState {
  readonly schema: number | null;
  /** A migration stopped midway (golang-migrate's `dirty` flag). */
  readonly dirty: boolean;
}

/** What runs one migration: the image of a slot (its version, digest and settings) against the environment's database. */
export interface MigrationRequest {
  readonly slot: Slot;
  readonly version: string;
  readonly digest?: string;
  /** The settings the slot runs with (the migration command gets them as the app does). */
  readonly settings?: SlotSettings;
  /** The schema version to migrate to (the command's `${ENVSTACK_SCHEMA_TO}`). */
  readonly to: number;
  /** Stop the command after this long (the result says `timedOut`). */
  readonly timeoutSeconds: number;
  /** Receives the command's output, line by line, as it runs. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface MigrationResult {
  /** The command's exit code; null when it was stopped (timeout, signal) or never started. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** Where it ran: `local process`, `kubernetes job <name>`, `ssm command <id> on <instance>`. */
  readonly where: string;
}

/**
 * The environment's database: its schema version read back, migrations run by the app
 * image's migration command from inside the network (lib/database/local.ts: a local process against
 * the local PostgreSQL; on AWS a Kubernetes Job or an SSM command, README "Database changes").
 */
export interface Database {
  /** The schema version the database holds now; rejects when it cannot be reached (or `signal` stops the read). */
  readSchema(signal?: AbortSignal): Promise<SchemaState>;
  /** Runs the image's migration command to `req.to`, streaming its output; resolves with its exit code. */
  migrate(req: MigrationRequest): Promise<MigrationResult>;
}

// --------------------------------------------------------- one-off jobs

/** One command of the slot's image, run once in the environment's cluster (lib/kube/migration-job.ts). */
export interface JobRequest {
  /** A migration, or a read of the schema version. */
  readonly kind: "migrate" | "schema";
  readonly slot: Slot;
  /** The image the pod runs: `<repository>@<digest>` when known, else `<repository>:<version>`. */
  readonly image: string;
  readonly version: string;
  /** The slot's settings checksum: its ConfigMap `app-config-<slot>-<checksum>` is loaded after the environment's. */
  readonly settingsChecksum?: string;
  /** The command, `${DATABASE_URL}` and `${ENVSTACK_SCHEMA_TO}` still unreplaced. */
  readonly command: readonly string[];
  /** The schema version a migration goes to. */
  readonly to?: number;
  /** `activeDeadlineSeconds`: Kubernetes stops the pod after this long. */
  readonly deadlineSeconds: number;
  /** Each line of the pod's log, as it comes. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface JobOutcome {
  /** The container's exit code; null when it was stopped, timed out, never ran, or its outcome could not be read. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** `kubernetes job <name> in namespace <ns>` (and what went wrong, when something did). */
  readonly where: string;
  /** The pod's log lines; null when the cluster served no log. */
  readonly output: readonly string[] | null;
}

/** What runs a {@link JobRequest}: lib/kube's Job runner, handed to lib/database/cluster.ts by lib/cli. */
export interface JobRunner {
  run(req: JobRequest): Promise<JobOutcome>;
}
