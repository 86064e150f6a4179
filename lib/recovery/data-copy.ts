/**
 * The RDS half of a data copy on AWS (`envctl data copy`, lib/database/copy.ts): the source
 * database's latest available snapshot (manual, automated or AWS Backup) restored into a NEW
 * instance in the target environment's DB subnet group, with the target's security groups, instance
 * class, parameter group and KMS key, and an AWS-managed master secret of its own. A restore keeps
 * the snapshot's key, so a snapshot under another key is first copied under the target's
 * (CopyDBSnapshot). Everything created is tagged (`envstack:copy-of`, `envstack:copy-id`,
 * `Environment`, and the target's own tags) and deleted again when any step fails. Same account and
 * region only (a cross-account copy would need the snapshot shared and its key granted: refused
 * by the caller).
 */
import {
  CopyDBSnapshotCommand,
  type DBInstance,
  type DBSnapshot,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from "@aws-sdk/client-rds";
import { isNotFound } from "./rds-reads.ts";
import { DEAD_ENDS } from "./restore.ts";

/** An RDS client as the copy uses it (the SDK's RDSClient, or a fake). */
export interface RdsSend {
  // biome-ignore lint/suspicious/noExplicitAny: SDK commands and answers, checked field by field
  send(command: any): Promise<any>;
}

export interface RdsCopyOptions {
  readonly rds: RdsSend;
  /** The target environment's name (tags, messages). */
  readonly environment: string;
  /** The target's stack-managed instance: its subnet group, security groups, class, parameter group and key are the copy's. */
  readonly targetInstance: string;
  /** Between status reads, ms. @default 15000 */
  readonly pollMs?: number;
  /** Give up waiting after this long, ms (then the copy is deleted). @default 2 h */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** The tag naming a copy's id: only instances carrying it are ever deleted by a copy's clean-up or confirm. */
export const COPY_ID_TAG = "envstack:copy-id";
export const COPY_OF_TAG = "envstack:copy-of";
/** The snapshot copied under the target's key for a copy `as`. */
export const copiedSnapshotId = (as: string) => `${as}-source`;

export class RdsCopies {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly o: RdsCopyOptions) {
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = o.now ?? Date.now;
  }

  private async instance(id: string): Promise<DBInstance | undefined> {
    try {
      return (await this.o.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async exists(id: string): Promise<boolean> {
    return (await this.instance(id)) !== undefined;
  }

  /** The source's newest available snapshot, of any type; throws when it has none. */
  async latestSnapshot(source: string): Promise<DBSnapshot> {
    const all: DBSnapshot[] = [];
    for (const type of [undefined, "awsbackup"] as const) {
      let marker: string | undefined;
      do {
        const out = await this.o.rds.send(
          new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: source, SnapshotType: type, Marker: marker }),
        );
        all.push(...((out.DBSnapshots ?? []) as DBSnapshot[]));
        marker = out.Marker;
      } while (marker);
    }
    const latest = all
      .filter((s) => s.Status === "available" && s.DBInstanceIdentifier === source)
      .sort((a, b) => (b.SnapshotCreateTime?.getTime() ?? 0) - (a.SnapshotCreateTime?.getTime() ?? 0))[0];
    if (!latest) throw new Error(`${source} has no available snapshot to copy from (manual, automated or AWS Backup)`);
    return latest;
  }

  /** Restores the source's latest snapshot into the new instance `as` in the target's network; deletes what it made when a step fails. */
  async restoreLatest(source: string, as: string, log: (line: string) => void): Promise<void> {
    const target = await this.instance(this.o.targetInstance);
    if (!target)
      throw new Error(
        `${this.o.environment}: its database ${this.o.targetInstance} is not found: the copy takes its network and key from it`,
      );
    const snapshot = await this.latestSnapshot(source);
    const key = target.KmsKeyId;
    const tags = [
      ...(target.TagList ?? []).filter((t) => t.Key && !t.Key.startsWith("aws:") && !t.Key.startsWith("envstack:")),
      { Key: COPY_OF_TAG, Value: source },
      { Key: COPY_ID_TAG, Value: as },
      { Key: "Environment", Value: this.o.environment },
    ];
    const uniqueTags = [...new Map(tags.map((t) => [t.Key, t])).values()];
    log(
      `latest snapshot of ${source}: ${snapshot.DBSnapshotIdentifier} (${snapshot.SnapshotType}, ${snapshot.SnapshotCreateTime?.toISOString() ?? "?"})`,
    );
    let from = snapshot.DBSnapshotIdentifier!;
    try {
      if (snapshot.Encrypted && key && snapshot.KmsKeyId !== key) {
        // A restore keeps the snapshot's key: copy it under the target's first.
        from = copiedSnapshotId(as);
        log(`copy ${snapshot.DBSnapshotIdentifier} into ${from} under ${this.o.environment}'s key ${key}`);
        await this.o.rds.send(
          new CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: snapshot.DBSnapshotArn ?? snapshot.DBSnapshotIdentifier,
            TargetDBSnapshotIdentifier: from,
            KmsKeyId: key,
            Tags: uniqueTags,
          }),
        );
        await this.waitSnapshot(from);
      }
      const request = {
        DBInstanceIdentifier: as,
        DBSnapshotIdentifier: from,
        DBInstanceClass: target.DBInstanceClass,
        DBSubnetGroupName: target.DBSubnetGroup?.DBSubnetGroupName,
        VpcSecurityGroupIds: (target.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).filter(Boolean),
        DBParameterGroupName: target.DBParameterGroups?.[0]?.DBParameterGroupName,
        MultiAZ: target.MultiAZ,
        PubliclyAccessible: false,
        StorageType: target.StorageType,
        EnableIAMDatabaseAuthentication: target.IAMDatabaseAuthenticationEnabled,
        CopyTagsToSnapshot: true,
        // A copy is dropped by `data confirm` or a failed step: never protected against deletion.
        DeletionProtection: false,
        ManageMasterUserPassword: true,
        MasterUserSecretKmsKeyId: target.MasterUserSecret?.KmsKeyId ?? key,
        Tags: uniqueTags,
      };
      log(
        `restore ${from} into ${as} (subnet group ${request.DBSubnetGroupName}, security groups ${request.VpcSecurityGroupIds.join(", ")})`,
      );
      await this.o.rds.send(new RestoreDBInstanceFromDBSnapshotCommand(request));
      await this.waitAvailable(as, log);
    } catch (err) {
      log(`the copy failed: deleting what it made (${as}${from !== snapshot.DBSnapshotIdentifier ? `, ${from}` : ""})`);
      await this.drop(as).catch((e: Error) => log(`could not delete ${as}: ${e.message}`));
      throw err;
    }
  }

  private async waitSnapshot(id: string): Promise<void> {
    const deadline = this.now() + (this.o.timeoutMs ?? 2 * 3600_000);
    for (;;) {
      const s = (await this.o.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })))
        .DBSnapshots?.[0] as DBSnapshot | undefined;
      if (s?.Status === "available") return;
      if (s?.Status === "failed" || this.now() > deadline)
        throw new Error(`the snapshot copy ${id} ended ${s?.Status ?? "unknown"}`);
      await this.sleep(this.o.pollMs ?? 15_000);
    }
  }

  private async waitAvailable(id: string, log: (line: string) => void): Promise<void> {
    const started = this.now();
    const deadline = started + (this.o.timeoutMs ?? 2 * 3600_000);
    let last = "";
    for (;;) {
      const db = await this.instance(id);
      const status = db?.DBInstanceStatus ?? "not visible yet";
      if (status !== last) log(`${id}: ${status} (${Math.round((this.now() - started) / 1000)} s)`);
      last = status;
      if (status === "available" && db?.Endpoint?.Address) return;
      if (DEAD_ENDS.has(status)) throw new Error(`${id} ended ${status}`);
      if (this.now() > deadline)
        throw new Error(`${id} is still ${status} after ${Math.round((this.now() - started) / 60_000)} min`);
      await this.sleep(this.o.pollMs ?? 15_000);
    }
  }

  /**
   * Deletes a copy (and the snapshot copied for it): only an instance tagged as a copy, never the
   * stack's own database (its deletion is the stack's, behind its deletion protection).
   */
  async drop(id: string): Promise<void> {
    const db = await this.instance(id);
    if (db) {
      if (!(db.TagList ?? []).some((t) => t.Key === COPY_ID_TAG))
        throw new Error(
          `${id} is not a data copy (no ${COPY_ID_TAG} tag): envctl deletes only the copies it made; the stack owns ${id}`,
        );
      await this.o.rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
    }
    try {
      await this.o.rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: copiedSnapshotId(id) }));
    } catch (err) {
      if (!isNotFound(err) && (err as { name?: string }).name !== "DBSnapshotNotFound") throw err;
    }
  }
}
