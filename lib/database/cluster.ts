/**
 * The database of an environment whose app runs on Kubernetes (EKS), reached from inside its
 * network by the app's own image: a migration runs the image's migration command as a Job in the
 * environment's namespace, and the schema version is read the same way, by the image's
 * schema-read command (golang-migrate's `version` by default), parsed from the pod's log. The Job
 * runner is lib/kube/migration-job.ts, handed in by lib/cli (this folder does not import lib/kube).
 *
 * Fails closed: a schema that cannot be read (no log, a non-zero exit, output that is no version)
 * is an error, never a guess.
 */
import type { Slot } from "../core/primitives.ts";
import type { Release } from "../release/model/release.ts";
import { otherSlot } from "../release/model/slots.ts";
import type { Database, JobRunner, MigrationRequest, MigrationResult, SchemaState } from "../release/ports/index.ts";
import type { ImageContract } from "./image.ts";
import { redact } from "./redact.ts";

export interface ClusterDatabaseOptions {
  readonly env: string;
  readonly runner: JobRunner;
  /** The image a slot's version runs: `<repository>@<digest>` when known, else `<repository>:<version>`. */
  image(version: string, digest?: string): string;
  /** The image contract of a version, and where it was read from (said in the log). */
  contract(version: string): { readonly contract: ImageContract; readonly from: string };
  /** The environment's release file as it is now (which slot's image reads the schema). */
  release(): Release;
  /** The database instance the release file names, when it names one. */
  readonly instance?: string;
  /** Deadline of a schema read's Job. @default 120 */
  readonly readTimeoutSeconds?: number;
  /** Where a schema read's pod log goes (progress). @default nowhere */
  readonly say?: (line: string) => void;
}

/** golang-migrate's `version` output: `N`, `N (dirty)`, or `error: no migration` (exit 1). Throws when it is none of them. Pure. */
export function parseSchemaOutput(lines: readonly string[], exitCode: number | null): SchemaState {
  for (const line of [...lines].reverse()) {
    const m = /^\s*(?:\S+\s+\S+\s+)?(\d{1,15})( \(dirty\))?\s*$/.exec(line);
    if (m && exitCode === 0) return { schema: Number(m[1]), dirty: m[2] !== undefined };
  }
  if (lines.some((l) => /\bno migration\b/.test(l))) return { schema: null, dirty: false };
  const last = lines.filter((l) => l.trim() !== "").at(-1);
  throw new Error(
    `the schema-read command ${exitCode === null ? "did not finish" : `exited ${exitCode}`} ` +
      `without a version${last ? ` (last line: ${redact(last).slice(0, 200)})` : ""}`,
  );
}

/** The slot whose image reads the schema: the live slot's, else the other one's; throws when no slot holds a version. */
export function readerSlot(r: Release): Slot {
  if (r.slots[r.live].version !== null) return r.live;
  if (r.slots[otherSlot(r.live)].version !== null) return otherSlot(r.live);
  throw new Error("no slot holds a version: no image can read the database's schema");
}

export function clusterDatabase(o: ClusterDatabaseOptions): Database {
  const own = `${o.env}-postgres`;
  const sameInstance = () => {
    if (o.instance !== undefined && o.instance !== own)
      throw new Error(
        `${o.env}: the release file names database ${o.instance}, but the Job reaches the one the workloads stack configures (${own})`,
      );
  };
  return {
    async readSchema(signal?: AbortSignal): Promise<SchemaState> {
      sameInstance();
      const r = o.release();
      const slot = readerSlot(r);
      const s = r.slots[slot];
      const { contract } = o.contract(s.version!);
      const result = await o.runner.run({
        kind: "schema",
        slot,
        image: o.image(s.version!, s.digest),
        version: s.version!,
        ...(s.settings ? { settingsChecksum: s.settings.checksum } : {}),
        command: contract.readSchema,
        deadlineSeconds: o.readTimeoutSeconds ?? 120,
        log: (line) => o.say?.(`schema| ${redact(line)}`),
        ...(signal ? { signal } : {}),
      });
      if (signal?.aborted) throw new Error(`${result.where}: the schema read was stopped`);
      if (result.output === null)
        throw new Error(`${result.where}: no log was served, so the schema version could not be read`);
      if (result.timedOut) throw new Error(`${result.where}: the schema read timed out`);
      try {
        return parseSchemaOutput(result.output, result.exitCode);
      } catch (err) {
        throw new Error(`${result.where}: ${(err as Error).message}`);
      }
    },
    async migrate(req: MigrationRequest): Promise<MigrationResult> {
      sameInstance();
      const { contract, from } = o.contract(req.version);
      req.log(`$ ${contract.migrate.map((a) => redact(a)).join(" ")} (the command of ${from}, as a Kubernetes Job)`);
      const result = await o.runner.run({
        kind: "migrate",
        slot: req.slot,
        image: o.image(req.version, req.digest),
        version: req.version,
        ...(req.settings ? { settingsChecksum: req.settings.checksum } : {}),
        command: contract.migrate,
        to: req.to,
        deadlineSeconds: req.timeoutSeconds,
        log: (line) => req.log(redact(line)),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      return { exitCode: result.exitCode, timedOut: result.timedOut, where: result.where };
    },
  };
}
