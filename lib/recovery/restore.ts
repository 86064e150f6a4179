/**
 * Restoring an environment's database from a snapshot or an AWS Backup recovery point into a NEW
 * instance beside the live one. The live instance is only read, never modified: the restored one
 * gets its own identifier (refused when it is the live one's or already exists), the live one's
 * network, size and settings, and a fresh AWS-managed master secret.
 *
 * Planning is pure ({@link planRestore}); reading and the restore itself go through an
 * injectable RDS client ({@link RdsLike}), so tests drive it with a fake and the drill with moto.
 */

import {
  type DBInstance,
  type DBSnapshot,
  DescribeDBInstancesCommand,
  type DescribeDBSnapshotsCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from "@aws-sdk/client-rds";
import { z } from "zod";
import { isNotFound } from "./rds-reads.ts";

/** The RDS calls a restore makes (the SDK's RDSClient, or a fake). */
export interface RdsLike {
  // Responses as the SDK gives them (DescribeDBInstances, DescribeDBSnapshots, RestoreDBInstanceFromDBSnapshot).
  send(
    command: DescribeDBInstancesCommand | DescribeDBSnapshotsCommand | RestoreDBInstanceFromDBSnapshotCommand,
    // biome-ignore lint/suspicious/noExplicitAny: SDK answers, checked field by field
  ): Promise<any>;
}

/** A refusal: bad input or a state that makes the restore unsafe. Nothing was changed. */
export class RestoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestoreRefused";
  }
}

/** The restore was started but did not finish; the new instance (never the live one) is left as it is. */
export class RestoreFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestoreFailed";
  }
}

/** RDS instance identifiers: 1-63 letters, digits and hyphens, a letter first, no `--`, no trailing `-`. */
export const DbIdentifierSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, "must be 1-63 lower-case letters, digits and hyphens, starting with a letter")
  .refine((s) => !s.includes("--") && !s.endsWith("-"), "must not contain '--' or end with '-'");

/** What is restored from: one snapshot or recovery point, or the newest available one of the live database. */
export type RestoreSource = { readonly snapshot: string } | { readonly latest: true };

export interface SnapshotInfo {
  readonly id: string;
  /** Instance the snapshot was taken of. */
  readonly instance: string;
  readonly createdAt: Date;
  /** `manual`, `automated`, `awsbackup`. */
  readonly type: string;
  readonly status: string;
}

export interface RestorePlan {
  readonly environment: string;
  readonly live: string;
  readonly target: string;
  readonly snapshot: SnapshotInfo;
  /** The one call that creates the new instance. */
  readonly request: RestoreDBInstanceFromDBSnapshotCommandInput;
}

/** `arn:aws:rds:<region>:<account>:snapshot:<id>` (AWS Backup recovery points of RDS are these) or a plain id → the id. */
export function snapshotIdOf(reference: string): string {
  const m = /^arn:aws[a-z-]*:rds:[^:]*:\d*:snapshot:(.+)$/.exec(reference);
  return m ? m[1]! : reference;
}

/** `<live>-restore-<yyyymmddhhmm>`: beside the live one, sortable, valid. */
export function defaultTargetName(live: string, at: Date): string {
  return `${live}-restore-${at
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 12)}`;
}

export function snapshotInfo(s: DBSnapshot): SnapshotInfo {
  return {
    id: s.DBSnapshotIdentifier ?? "?",
    instance: s.DBInstanceIdentifier ?? "?",
    createdAt: s.SnapshotCreateTime ?? new Date(0),
    type: s.SnapshotType ?? "?",
    status: s.Status ?? "?",
  };
}

export interface PlanInput {
  readonly environment: string;
  /** The live instance, as DescribeDBInstances returns it. */
  readonly live: DBInstance;
  /** Candidate snapshots: the one named, or every snapshot of the live instance. */
  readonly snapshots: readonly SnapshotInfo[];
  readonly source: RestoreSource;
  /** Name of the new instance. @default {@link defaultTargetName} */
  readonly as?: string;
  /** Identifiers of instances that exist already (the target must not be one). */
  readonly existing: ReadonlySet<string>;
  readonly now: Date;
  /** Who asked (tags of the new instance). */
  readonly actor: string;
}

/** Decides what to restore where, or refuses; pure. */
export function planRestore(i: PlanInput): RestorePlan {
  const live = i.live.DBInstanceIdentifier!;
  const target = i.as ?? defaultTargetName(live, i.now);
  const name = DbIdentifierSchema.safeParse(target);
  if (!name.success) throw new RestoreRefused(`--as ${target} ${name.error.issues[0]!.message}`);
  if (target === live)
    throw new RestoreRefused(`--as ${target} is the live database: a restore never overwrites it; choose a new name`);
  if (i.existing.has(target))
    throw new RestoreRefused(`an instance named ${target} exists already: choose another --as (nothing was changed)`);

  let snapshot: SnapshotInfo | undefined;
  if ("snapshot" in i.source) {
    const id = snapshotIdOf(i.source.snapshot);
    snapshot = i.snapshots.find((s) => s.id === id);
    if (!snapshot)
      throw new RestoreRefused(`no snapshot or recovery point ${i.source.snapshot} in ${i.environment}'s region`);
    if (snapshot.instance !== live)
      throw new RestoreRefused(
        `${snapshot.id} is a snapshot of ${snapshot.instance}, not of ${i.environment}'s database ${live}`,
      );
    if (snapshot.status !== "available")
      throw new RestoreRefused(`${snapshot.id} is ${snapshot.status}, not available`);
  } else {
    snapshot = [...i.snapshots]
      .filter((s) => s.instance === live && s.status === "available")
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    if (!snapshot) throw new RestoreRefused(`${live} has no available snapshot or recovery point to restore`);
  }

  const l = i.live;
  const liveTags = (l.TagList ?? []).filter(
    (t) => t.Key && !t.Key.startsWith("aws:") && !["RestoredFrom", "RestoredAt", "RestoredBy"].includes(t.Key),
  );
  return {
    environment: i.environment,
    live,
    target,
    snapshot,
    request: {
      DBInstanceIdentifier: target,
      DBSnapshotIdentifier: snapshot.id,
      DBInstanceClass: l.DBInstanceClass,
      DBSubnetGroupName: l.DBSubnetGroup?.DBSubnetGroupName,
      VpcSecurityGroupIds: (l.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).filter(Boolean),
      DBParameterGroupName: l.DBParameterGroups?.[0]?.DBParameterGroupName,
      MultiAZ: l.MultiAZ,
      PubliclyAccessible: false,
      StorageType: l.StorageType,
      Port: l.Endpoint?.Port ?? l.DbInstancePort,
      EnableIAMDatabaseAuthentication: l.IAMDatabaseAuthenticationEnabled,
      EnableCloudwatchLogsExports: l.EnabledCloudwatchLogsExports,
      CopyTagsToSnapshot: true,
      DeletionProtection: l.DeletionProtection,
      AutoMinorVersionUpgrade: l.AutoMinorVersionUpgrade,
      // A password of its own, generated and kept by AWS, encrypted like the live one's.
      ManageMasterUserPassword: true,
      MasterUserSecretKmsKeyId: l.MasterUserSecret?.KmsKeyId,
      Tags: [
        ...liveTags,
        { Key: "RestoredFrom", Value: snapshot.id },
        { Key: "RestoredAt", Value: i.now.toISOString() },
        { Key: "RestoredBy", Value: i.actor },
      ],
    },
  };
}

/** What the restore produced, and what a person switches to use it. */
export interface RestoreResult {
  readonly plan: RestorePlan;
  readonly endpoint: string;
  readonly port: number;
  /** ARN of the restored instance's AWS-managed master secret ("" when RDS reports none). */
  readonly secretArn: string;
  readonly seconds: number;
}

export interface RestoreOptions {
  /** Between status reads, ms. @default 15000 */
  readonly pollMs?: number;
  /** Give up waiting after this long, ms (the instance is left as it is). @default 2 h */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Progress lines (status changes). @default none */
  readonly say?: (line: string) => void;
}

/** Statuses from which an instance never becomes available by itself (a restore's, a data copy's). */
export const DEAD_ENDS = new Set([
  "failed",
  "incompatible-restore",
  "incompatible-parameters",
  "incompatible-network",
  "inaccessible-encryption-credentials",
  "restore-error",
  "deleting",
]);

/** Starts the restore and waits until the new instance is available. */
export async function executeRestore(rds: RdsLike, plan: RestorePlan, o: RestoreOptions = {}): Promise<RestoreResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const deadline = started + (o.timeoutMs ?? 2 * 60 * 60_000);
  try {
    await rds.send(new RestoreDBInstanceFromDBSnapshotCommand(plan.request));
  } catch (err) {
    if ((err as { name?: string }).name === "DBInstanceAlreadyExistsFault")
      throw new RestoreRefused(
        `an instance named ${plan.target} exists already: choose another --as (nothing was changed)`,
      );
    throw err;
  }
  o.say?.(`restoring ${plan.snapshot.id} into ${plan.target}`);
  let last = "";
  for (;;) {
    let db: DBInstance | undefined;
    try {
      db = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: plan.target }))).DBInstances?.[0];
    } catch (err) {
      if (!isNotFound(err)) throw err; // just created: may not be visible yet
    }
    const status = db?.DBInstanceStatus ?? "not visible yet";
    if (status !== last) o.say?.(`${plan.target}: ${status} (${Math.round((now() - started) / 1000)} s)`);
    last = status;
    if (status === "available" && db?.Endpoint?.Address) {
      return {
        plan,
        endpoint: db.Endpoint.Address,
        port: db.Endpoint.Port ?? 5432,
        secretArn: db.MasterUserSecret?.SecretArn ?? "",
        seconds: (now() - started) / 1000,
      };
    }
    if (DEAD_ENDS.has(status))
      throw new RestoreFailed(
        `${plan.target} ended ${status}; the live database ` +
          `${plan.live} was not touched. Inspect it, then delete it: aws rds delete-db-instance --db-instance-identifier ${plan.target} --skip-final-snapshot`,
      );
    if (now() > deadline)
      throw new RestoreFailed(
        `${plan.target} is still ${status} after ` +
          `${Math.round((now() - started) / 60_000)} min; the live database ` +
          `${plan.live} was not touched. Watch it with: aws rds describe-db-instances --db-instance-identifier ${plan.target}`,
      );
    await sleep(o.pollMs ?? 15_000);
  }
}

/** What to do with the restored instance: printed after a restore. */
export function switchInstructions(r: RestoreResult): string {
  const { plan } = r;
  return [
    `${plan.environment}: restored ${plan.snapshot.id} (${plan.snapshot.type}, ` +
      `${plan.snapshot.createdAt.toISOString()}) into ${plan.target} in ${r.seconds.toFixed(1)} s`,
    `  endpoint: ${r.endpoint}:${r.port}`,
    `  secret:   ${r.secretArn || "(none reported)"}  (master password, AWS-managed)`,
    `  live:     ${plan.live} (untouched)`,
    "to use it:",
    `  - repair data: connect to ${r.endpoint} with that secret and copy what the live database lost back into it`,
    `  - or switch the application: rename ` +
      `${plan.live} to ${plan.live}-old and ` +
      `${plan.target} to ${plan.live} (aws rds modify-db-instance --new-db-instance-identifier ... ` +
      `--apply-immediately), then bring it under ${plan.environment}'s stack (docs/operations/recovery.md)`,
    `  - when done: aws rds delete-db-instance --db-instance-identifier ${plan.target} --final-db-snapshot-identifier ${plan.target}-final`,
  ].join("\n");
}
