/**
 * The RDS half of a data copy on AWS (lib/recovery/data-copy.ts) with a fake RDS client: the
 * snapshot chosen, the copy under the target's key only when the keys differ, the restore request,
 * and the clean-up when the restore ends in a dead end. (Against moto: test/e2e-aws-database.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { COPY_ID_TAG, RdsCopies } from "../lib/recovery/data-copy.ts";

const TARGET = {
  DBInstanceIdentifier: "dev-postgres",
  DBInstanceClass: "db.t4g.micro",
  DBSubnetGroup: { DBSubnetGroupName: "dev-database" },
  VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-dev" }],
  DBParameterGroups: [{ DBParameterGroupName: "dev-postgres16" }],
  KmsKeyId: "arn:aws:kms:eu-west-1:1:key/dev",
  MasterUserSecret: { KmsKeyId: "arn:aws:kms:eu-west-1:1:key/dev" },
  TagList: [
    { Key: "Environment", Value: "dev" },
    { Key: "Owner", Value: "team" },
    { Key: "aws:cloudformation:stack", Value: "x" },
  ],
};

function fakeRds(o: { snapshotKey: string; restoredStatus: string[] }) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const made = new Map<string, object>();
  let statusReads = 0;
  const notFound = () => Object.assign(new Error("not found"), { name: "DBInstanceNotFoundFault" });
  return {
    sent,
    names: () => sent.map((s) => s.name),
    rds: {
      send: async (command: any) => {
        const name = command.constructor.name as string;
        const input = command.input;
        sent.push({ name, input });
        switch (name) {
          case "DescribeDBInstancesCommand": {
            if (input.DBInstanceIdentifier === "dev-postgres") return { DBInstances: [TARGET] };
            const m = made.get(input.DBInstanceIdentifier);
            if (!m) throw notFound();
            const status = o.restoredStatus[Math.min(statusReads++, o.restoredStatus.length - 1)];
            return { DBInstances: [{ ...m, DBInstanceStatus: status, Endpoint: { Address: "h" } }] };
          }
          case "DescribeDBSnapshotsCommand":
            if (input.DBSnapshotIdentifier) return { DBSnapshots: [{ Status: "available" }] };
            return {
              DBSnapshots:
                input.SnapshotType === "awsbackup"
                  ? [
                      {
                        DBSnapshotIdentifier: "awsbackup:job-9",
                        DBInstanceIdentifier: "production-postgres",
                        Status: "available",
                        SnapshotCreateTime: new Date("2026-11-21T03:00:00Z"),
                        Encrypted: true,
                        KmsKeyId: o.snapshotKey,
                      },
                    ]
                  : [
                      {
                        DBSnapshotIdentifier: "rds:production-2026-11-22",
                        DBInstanceIdentifier: "production-postgres",
                        Status: "available",
                        SnapshotCreateTime: new Date("2026-11-22T03:00:00Z"),
                        Encrypted: true,
                        KmsKeyId: o.snapshotKey,
                        SnapshotType: "automated",
                      },
                      {
                        DBSnapshotIdentifier: "newer-but-creating",
                        DBInstanceIdentifier: "production-postgres",
                        Status: "creating",
                        SnapshotCreateTime: new Date("2026-11-22T09:00:00Z"),
                      },
                    ],
            };
          case "RestoreDBInstanceFromDBSnapshotCommand":
            made.set(input.DBInstanceIdentifier, { TagList: input.Tags });
            return {};
          case "DeleteDBInstanceCommand":
            made.delete(input.DBInstanceIdentifier);
            return {};
          default:
            return {};
        }
      },
    },
  };
}

describe("a data copy's restore on AWS", () => {
  it("restores the newest available snapshot into the target's network with its key, tagged; no snapshot copy under the same key", async () => {
    const f = fakeRds({ snapshotKey: TARGET.KmsKeyId, restoredStatus: ["creating", "available"] });
    const lines: string[] = [];
    await new RdsCopies({
      rds: f.rds,
      environment: "dev",
      targetInstance: "dev-postgres",
      sleep: async () => undefined,
    }).restoreLatest("production-postgres", "dev-postgres-copy-1", (l) => lines.push(l));
    expect(f.names()).not.toContain("CopyDBSnapshotCommand");
    const restore = f.sent.find((s) => s.name === "RestoreDBInstanceFromDBSnapshotCommand")!.input;
    expect(restore).toMatchObject({
      DBInstanceIdentifier: "dev-postgres-copy-1",
      DBSnapshotIdentifier: "rds:production-2026-11-22",
      DBSubnetGroupName: "dev-database",
      VpcSecurityGroupIds: ["sg-dev"],
      DBParameterGroupName: "dev-postgres16",
      PubliclyAccessible: false,
      DeletionProtection: false,
      ManageMasterUserPassword: true,
      MasterUserSecretKmsKeyId: TARGET.KmsKeyId,
    });
    expect(restore.Tags).toEqual([
      { Key: "Environment", Value: "dev" },
      { Key: "Owner", Value: "team" },
      { Key: "envstack:copy-of", Value: "production-postgres" },
      { Key: COPY_ID_TAG, Value: "dev-postgres-copy-1" },
    ]);
    expect(lines).toContain("dev-postgres-copy-1: available (0 s)");
  });

  it("copies the snapshot under the target's key first when the keys differ; deletes the copy and that snapshot when the restore dead-ends", async () => {
    const f = fakeRds({
      snapshotKey: "arn:aws:kms:eu-west-1:1:key/production",
      restoredStatus: ["creating", "incompatible-network"],
    });
    const copies = new RdsCopies({
      rds: f.rds,
      environment: "dev",
      targetInstance: "dev-postgres",
      sleep: async () => undefined,
    });
    await expect(copies.restoreLatest("production-postgres", "dev-postgres-copy-2", () => undefined)).rejects.toThrow(
      "dev-postgres-copy-2 ended incompatible-network",
    );
    expect(f.sent.find((s) => s.name === "CopyDBSnapshotCommand")!.input).toMatchObject({
      SourceDBSnapshotIdentifier: "rds:production-2026-11-22",
      TargetDBSnapshotIdentifier: "dev-postgres-copy-2-source",
      KmsKeyId: TARGET.KmsKeyId,
    });
    expect(f.sent.find((s) => s.name === "RestoreDBInstanceFromDBSnapshotCommand")!.input).toMatchObject({
      DBSnapshotIdentifier: "dev-postgres-copy-2-source",
    });
    expect(f.sent.find((s) => s.name === "DeleteDBInstanceCommand")!.input).toEqual({
      DBInstanceIdentifier: "dev-postgres-copy-2",
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
    expect(f.sent.find((s) => s.name === "DeleteDBSnapshotCommand")!.input).toEqual({
      DBSnapshotIdentifier: "dev-postgres-copy-2-source",
    });
  });

  it("refuses a source without an available snapshot, before anything is made", async () => {
    const f = fakeRds({ snapshotKey: TARGET.KmsKeyId, restoredStatus: ["available"] });
    const copies = new RdsCopies({ rds: f.rds, environment: "dev", targetInstance: "dev-postgres" });
    await expect(copies.restoreLatest("staging-postgres", "dev-postgres-copy-3", () => undefined)).rejects.toThrow(
      "staging-postgres has no available snapshot to copy from",
    );
    expect(f.names()).not.toContain("RestoreDBInstanceFromDBSnapshotCommand");
  });
});

describe("the data plane on AWS, by the target's compute", () => {
  it("into an EKS environment restores nothing (no SQL runner there yet)", async () => {
    const { awsDataPlane } = await import("../lib/cli/aws-data-plane.ts");
    const staging = (await import("../environments/staging.ts")).default;
    const plane = awsDataPlane(
      staging,
      staging,
      { region: staging.region, endpoint: "http://127.0.0.1:9" },
      () => undefined,
    );
    await expect(
      plane.restoreLatest("production-postgres", "staging-postgres-copy-1", () => undefined),
    ).rejects.toThrow(
      "data copy into staging: the SQL runner of an EKS environment (a Kubernetes Job running SQL) is not built yet: nothing was restored",
    );
  });
});
