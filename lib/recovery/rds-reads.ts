/** What a restore reads of RDS first: the live instance, whether a name is taken, the snapshots to restore from. */
import {
  type DBInstance,
  type DBSnapshot,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
} from "@aws-sdk/client-rds";
import {
  type RdsLike,
  RestoreRefused,
  type RestoreSource,
  type SnapshotInfo,
  snapshotIdOf,
  snapshotInfo,
} from "./restore.ts";

export function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? "";
  return (
    name === "DBInstanceNotFoundFault" ||
    name === "DBInstanceNotFound" ||
    name === "DBSnapshotNotFoundFault" ||
    name === "DBSnapshotNotFound"
  );
}

/** The live instance, or a refusal naming it. */
export async function readLive(rds: RdsLike, identifier: string, environment: string): Promise<DBInstance> {
  try {
    const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    const db = out.DBInstances?.[0];
    if (db) return db;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  throw new RestoreRefused(
    `${environment}'s database ${identifier} was not found: deploy ${environment} first (a restore puts a copy beside the live database)`,
  );
}

/** Whether an instance of that name exists. */
export async function instanceExists(rds: RdsLike, identifier: string): Promise<boolean> {
  try {
    const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    return (out.DBInstances ?? []).length > 0;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The snapshot named (by id or ARN), or every snapshot of the instance: manual, automated and AWS Backup ones. */
export async function readSnapshots(rds: RdsLike, source: RestoreSource, instance: string): Promise<SnapshotInfo[]> {
  if ("snapshot" in source) {
    try {
      const out = await rds.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotIdOf(source.snapshot) }),
      );
      return (out.DBSnapshots ?? []).map(snapshotInfo);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }
  const all: SnapshotInfo[] = [];
  for (const type of [undefined, "awsbackup"] as const) {
    let marker: string | undefined;
    do {
      const out = (await rds.send(
        new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instance, SnapshotType: type, Marker: marker }),
      )) as { DBSnapshots?: DBSnapshot[]; Marker?: string };
      all.push(...(out.DBSnapshots ?? []).map(snapshotInfo));
      marker = out.Marker;
    } while (marker);
  }
  return [...new Map(all.map((s) => [s.id, s])).values()];
}
