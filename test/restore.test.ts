/**
 * envctl restore: pure planning, the wait, and the command, against a fake RDS that records
 * every call (the drill against moto is in test/e2e-recovery.test.ts).
 */

import {
  type DBInstance,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from "@aws-sdk/client-rds";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerRestoreCommand } from "../lib/cli/commands/restore.ts";
import { classify } from "../lib/cli/report.ts";
import { loadProject } from "../lib/config/load.ts";
import {
  defaultTargetName,
  executeRestore,
  planRestore,
  type RdsLike,
  RestoreFailed,
  RestoreRefused,
  type SnapshotInfo,
  snapshotIdOf,
} from "../lib/recovery/restore.ts";
import { RefusedError } from "../lib/release/model/errors.ts";
import { REPO } from "./support/project.ts";

const NOW = new Date("2026-11-23T15:04:05Z");
const LIVE: DBInstance = {
  DBInstanceIdentifier: "dev-postgres",
  DBInstanceClass: "db.t3.micro",
  DBInstanceStatus: "available",
  DBSubnetGroup: { DBSubnetGroupName: "dev-database" },
  VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-db", Status: "active" }],
  DBParameterGroups: [{ DBParameterGroupName: "dev-postgres16" }],
  MultiAZ: false,
  StorageType: "gp3",
  Endpoint: { Address: "dev-postgres.x.eu-west-1.rds.amazonaws.com", Port: 5432 },
  IAMDatabaseAuthenticationEnabled: true,
  EnabledCloudwatchLogsExports: ["postgresql", "upgrade"],
  DeletionProtection: false,
  MasterUserSecret: {
    SecretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:live",
    KmsKeyId: "arn:aws:kms:eu-west-1:1:key/db",
  },
  TagList: [
    { Key: "Environment", Value: "dev" },
    { Key: "Project", Value: "webapp" },
    { Key: "aws:cloudformation:x", Value: "y" },
  ],
};
const snap = (id: string, minutesAgo: number, extra: Partial<SnapshotInfo> = {}): SnapshotInfo => ({
  id,
  instance: "dev-postgres",
  createdAt: new Date(NOW.getTime() - minutesAgo * 60_000),
  type: "automated",
  status: "available",
  ...extra,
});
const SNAPSHOTS = [
  snap("rds:dev-postgres-2026-11-22", 24 * 60),
  snap("awsbackup:job-1", 30, { type: "awsbackup" }),
  snap("in-progress", 5, { status: "creating" }),
  snap("other", 1, { instance: "staging-postgres" }),
];
const plan = (over: Partial<Parameters<typeof planRestore>[0]> = {}) =>
  planRestore({
    environment: "dev",
    live: LIVE,
    snapshots: SNAPSHOTS,
    source: { latest: true },
    existing: new Set(),
    now: NOW,
    actor: "ops",
    ...over,
  });

describe("planning a restore (pure)", () => {
  it("--latest takes the newest available snapshot or recovery point of the live database, into a new name", () => {
    const p = plan();
    expect(p.snapshot.id).toBe("awsbackup:job-1");
    expect(p.target).toBe("dev-postgres-restore-202611231504");
    expect(defaultTargetName("dev-postgres", NOW)).toBe(p.target);
  });

  it("copies the live instance's network, size and settings; gives it its own managed secret; never public", () => {
    expect(plan({ as: "dev-postgres-drill" }).request).toEqual({
      DBInstanceIdentifier: "dev-postgres-drill",
      DBSnapshotIdentifier: "awsbackup:job-1",
      DBInstanceClass: "db.t3.micro",
      DBSubnetGroupName: "dev-database",
      VpcSecurityGroupIds: ["sg-db"],
      DBParameterGroupName: "dev-postgres16",
      MultiAZ: false,
      PubliclyAccessible: false,
      StorageType: "gp3",
      Port: 5432,
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: ["postgresql", "upgrade"],
      CopyTagsToSnapshot: true,
      DeletionProtection: false,
      AutoMinorVersionUpgrade: undefined,
      ManageMasterUserPassword: true,
      MasterUserSecretKmsKeyId: "arn:aws:kms:eu-west-1:1:key/db",
      Tags: [
        { Key: "Environment", Value: "dev" },
        { Key: "Project", Value: "webapp" },
        { Key: "RestoredFrom", Value: "awsbackup:job-1" },
        { Key: "RestoredAt", Value: NOW.toISOString() },
        { Key: "RestoredBy", Value: "ops" },
      ],
    });
  });

  it("--snapshot takes an id or an AWS Backup recovery point ARN", () => {
    expect(snapshotIdOf("arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-1")).toBe("awsbackup:job-1");
    expect(
      plan({ source: { snapshot: "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-1" } }).snapshot.id,
    ).toBe("awsbackup:job-1");
    expect(plan({ source: { snapshot: "rds:dev-postgres-2026-11-22" } }).request.DBSnapshotIdentifier).toBe(
      "rds:dev-postgres-2026-11-22",
    );
  });

  it.each([
    [{ as: "dev-postgres" }, /is the live database: a restore never overwrites it/],
    [{ as: "taken", existing: new Set(["taken"]) }, /an instance named taken exists already/],
    [{ as: "Bad_Name" }, /--as Bad_Name must be 1-63 lower-case letters/],
    [{ as: "two--dashes" }, /must not contain '--'/],
    [{ source: { snapshot: "nope" } }, /no snapshot or recovery point nope/],
    [{ source: { snapshot: "other" } }, /other is a snapshot of staging-postgres, not of dev's database dev-postgres/],
    [{ source: { snapshot: "in-progress" } }, /in-progress is creating, not available/],
    [{ snapshots: [] }, /dev-postgres has no available snapshot/],
  ] as const)("refuses %j", (over, message) => {
    expect(() => plan(over as any)).toThrow(RestoreRefused);
    expect(() => plan(over as any)).toThrow(message);
  });
});

/** A fake RDS: the live instance, snapshots, and a restored instance going through `statuses`. */
function fakeRds(statuses: string[], options: { snapshots?: string[] } = {}) {
  const calls: { name: string; input: any }[] = [];
  const instances = new Map<string, DBInstance>([["dev-postgres", LIVE]]);
  let polls = 0;
  const rds: RdsLike = {
    async send(command: any) {
      calls.push({ name: command.constructor.name, input: command.input });
      if (command instanceof DescribeDBInstancesCommand) {
        const id = command.input.DBInstanceIdentifier!;
        const db = instances.get(id);
        if (!db) throw Object.assign(new Error(`DBInstance ${id} not found`), { name: "DBInstanceNotFoundFault" });
        if (id === "dev-postgres") return { DBInstances: [db] };
        const status = statuses[Math.min(polls++, statuses.length - 1)]!;
        return {
          DBInstances: [
            {
              ...db,
              DBInstanceStatus: status,
              ...(status === "available"
                ? { Endpoint: { Address: `${id}.x.eu-west-1.rds.amazonaws.com`, Port: 5432 } }
                : {}),
            },
          ],
        };
      }
      if (command instanceof DescribeDBSnapshotsCommand) {
        if (command.input.SnapshotType === "awsbackup") return { DBSnapshots: [] };
        return {
          DBSnapshots: (options.snapshots ?? ["rds:dev-postgres-2026-11-22"]).map((id, i) => ({
            DBSnapshotIdentifier: id,
            DBInstanceIdentifier: "dev-postgres",
            SnapshotCreateTime: new Date(NOW.getTime() - (i + 1) * 3_600_000),
            SnapshotType: "automated",
            Status: "available",
          })),
        };
      }
      if (command instanceof RestoreDBInstanceFromDBSnapshotCommand) {
        instances.set(command.input.DBInstanceIdentifier!, {
          DBInstanceIdentifier: command.input.DBInstanceIdentifier,
          MasterUserSecret: { SecretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:restored" },
        });
        return { DBInstance: {} };
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    },
  };
  return { rds, calls };
}

describe("running a restore", () => {
  it("starts it, waits for the new instance and reports endpoint, secret and time", async () => {
    const { rds, calls } = fakeRds(["creating", "backing-up", "available"]);
    let t = 0;
    const lines: string[] = [];
    const r = await executeRestore(rds, plan({ snapshots: [snap("s1", 10)], as: "dev-drill" }), {
      pollMs: 1000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
      say: (l) => lines.push(l),
    });
    expect(r).toMatchObject({
      endpoint: "dev-drill.x.eu-west-1.rds.amazonaws.com",
      port: 5432,
      secretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:restored",
      seconds: 2,
    });
    expect(lines).toEqual([
      "restoring s1 into dev-drill",
      "dev-drill: creating (0 s)",
      "dev-drill: backing-up (1 s)",
      "dev-drill: available (2 s)",
    ]);
    expect(calls.map((c) => c.name)).toEqual([
      "RestoreDBInstanceFromDBSnapshotCommand",
      "DescribeDBInstancesCommand",
      "DescribeDBInstancesCommand",
      "DescribeDBInstancesCommand",
    ]);
  });

  it("fails closed on a dead end and on the timeout, naming the instance it leaves and the untouched live one", async () => {
    const dead = fakeRds(["creating", "incompatible-restore"]);
    await expect(
      executeRestore(dead.rds, plan({ as: "dev-drill" }), { pollMs: 1, sleep: async () => {} }),
    ).rejects.toThrow(/dev-drill ended incompatible-restore; the live database dev-postgres was not touched/);
    const slow = fakeRds(["creating"]);
    let t = 0;
    const p = executeRestore(slow.rds, plan({ as: "dev-drill" }), {
      pollMs: 60_000,
      timeoutMs: 5 * 60_000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    });
    await expect(p).rejects.toThrow(RestoreFailed);
    await expect(p).rejects.toThrow(/still creating after 6 min/);
  });
});

/** The approvals port as the restore command calls it; records each call with the RDS calls made before it. */
type Approvals = (env: string, command: string, what: { summary: string }, callsBefore: number) => Promise<void>;
const asked: { env: string; command: string; summary: string; callsBefore: number }[] = [];
const approveAll: Approvals = async (env, command, what, callsBefore) => {
  asked.push({ env, command, summary: what.summary, callsBefore });
};

describe("envctl restore", () => {
  async function run(args: string[], statuses = ["creating", "available"], approvals = approveAll) {
    const fake = fakeRds(statuses);
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeErr: (t) => err.push(t), writeOut: (t) => out.push(t) });
    registerRestoreCommand(program, {
      load: () => loadProject(REPO),
      env: {},
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      now: () => NOW,
      actor: "ops",
      rds: () => fake.rds,
      wait: { pollMs: 1, sleep: async () => {} },
      approve: (env, command, what) => approvals(env, command, what, fake.calls.length),
    });
    try {
      await program.parseAsync(["node", "envctl", "restore", ...args]);
      return { code: 0, out: out.join("\n"), err: err.join("\n"), calls: fake.calls };
    } catch (e) {
      const { code, text } = classify(e);
      return { code, out: out.join("\n"), err: text, calls: fake.calls };
    }
  }

  it("restores the latest snapshot beside the live database and prints what to switch", async () => {
    const r = await run(["dev", "--latest", "--as", "dev-postgres-drill"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "dev: restored rds:dev-postgres-2026-11-22 (automated, 2026-11-23T14:04:05.000Z) into dev-postgres-drill in ",
    );
    expect(r.out).toContain("endpoint: dev-postgres-drill.x.eu-west-1.rds.amazonaws.com:5432");
    expect(r.out).toContain("secret:   arn:aws:secretsmanager:eu-west-1:1:secret:restored");
    expect(r.out).toContain("live:     dev-postgres (untouched)");
    // Nothing but reads ever names the live instance.
    expect(
      r.calls
        .filter((c) => c.name !== "DescribeDBInstancesCommand" && c.name !== "DescribeDBSnapshotsCommand")
        .map((c) => c.input.DBInstanceIdentifier),
    ).toEqual(["dev-postgres-drill"]);
  });

  it.each([
    [["dev"], /name exactly one of --snapshot <id> and --latest/],
    [["dev", "--latest", "--snapshot", "x"], /name exactly one of/],
    [["qa", "--latest"], /unknown environment qa/],
    [["dev", "--latest", "--as", "dev-postgres"], /restore dev: --as dev-postgres is the live database/],
    [["dev", "--snapshot", "rds;drop"], /--snapshot must be a snapshot identifier or ARN/],
  ])("refuses %j with exit 1 and changes nothing", async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.calls.some((c) => c.name === "RestoreDBInstanceFromDBSnapshotCommand")).toBe(false);
  });

  it("asks the environment's approvals before anything is created, naming the change as the command line does; a refusal creates nothing", async () => {
    asked.length = 0;
    expect((await run(["dev", "--latest", "--as", "dev-postgres-drill"])).code).toBe(0);
    expect(asked).toEqual([
      {
        env: "dev",
        command: "restore dev --latest --as dev-postgres-drill",
        summary:
          "envctl restore dev --latest --as dev-postgres-drill: restore dev-postgres from its newest snapshot into a new instance beside it",
        callsBefore: expect.any(Number),
      },
    ]);
    const refuse: Approvals = async (env) => {
      throw new RefusedError(`${env}: change 0123456789abcdef needs 2 approval(s); nothing was changed`);
    };
    const r = await run(["dev", "--latest", "--as", "dev-postgres-drill"], undefined, refuse);
    expect(r.code).toBe(1);
    expect(r.err).toBe("error: dev: change 0123456789abcdef needs 2 approval(s); nothing was changed");
    expect(r.calls.map((c) => c.name).filter((n) => !n.startsWith("Describe"))).toEqual([]);
  });

  it("exits 9 when the restore does not finish", async () => {
    const r = await run(["dev", "--latest", "--as", "dev-postgres-drill"], ["creating", "failed"]);
    expect(r.code).toBe(9);
    expect(r.err).toMatch(/dev-postgres-drill ended failed; the live database dev-postgres was not touched/);
  });
});
