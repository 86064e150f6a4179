/**
 * The restore drill, end to end: the real engine deploys dev's database (and its AWS Backup vault
 * and plan) to the emulator — only those and what they need, `-target`ed, to keep it lean — a
 * snapshot stands in for a recovery point (moto runs no backup jobs), and `envctl restore` puts a
 * copy beside the live database. Needs `npm run setup:engine`; never skipped.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateDBSnapshotCommand, type DBInstance, DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../lib/aws/clients.ts";
import { stackDir } from "../lib/engine/engine.ts";
import { LOG, type LocalLoop, localLoop } from "./support/e2e.ts";

let loop: LocalLoop;
let rds: RDSClient;
let targets: string[];
const describeDb = async (id: string): Promise<DBInstance> =>
  (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0]!;

beforeAll(async () => {
  loop = await localLoop();
  rds = new RDSClient(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }, 3));
}, 120_000);

afterAll(async () => {
  await loop?.stop();
});

describe.sequential("restore drill against the emulator", () => {
  it("deploys dev's database and its backup vault and plan with the real engine", async () => {
    await loop.deploy("bootstrap");
    await loop.synth();
    const d = stackDir(loop.dir, "dev");
    const tf = JSON.parse(readFileSync(join(d, "cdk.tf.json"), "utf8"));
    targets = ["aws_db_instance", "aws_backup_vault", "aws_backup_plan"].map(
      (type) => `${type}.${Object.keys(tf.resource[type])[0]}`,
    );
    await loop.engine.init(d);
    const started = Date.now();
    await loop.engine.ok(d, [
      "apply",
      "-input=false",
      "-auto-approve",
      "-no-color",
      ...targets.map((t) => `-target=${t}`),
    ]);
    console.log(
      `restore drill: targeted apply of dev's database and backup plan ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(await describeDb("dev-postgres")).toMatchObject({
      DBInstanceStatus: "available",
      DBSubnetGroup: { DBSubnetGroupName: "dev-database" },
    });
  }, 900_000);

  it("restores the latest recovery point into a new instance beside the live one, and says what to switch", async () => {
    const before = await describeDb("dev-postgres");
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: "dev-postgres", DBSnapshotIdentifier: "dev-drill-point" }),
    );
    const started = Date.now();
    const r = await loop.envctl("restore", "dev", "--latest", "--as", "dev-postgres-drill");
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `restore drill: envctl restore dev --latest took ${seconds.toFixed(1)} s (wall, including envctl start-up)\n${r.out}`,
    );
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/dev: restored dev-drill-point \(manual, .*\) into dev-postgres-drill in \d+\.\d s/);
    expect(r.out).toMatch(/endpoint: dev-postgres-drill\.\S+:5432/);
    expect(r.out).toContain("live:     dev-postgres (untouched)");

    const restored = await describeDb("dev-postgres-drill");
    expect(restored).toMatchObject({
      DBInstanceStatus: "available",
      DBInstanceClass: before.DBInstanceClass,
      DBSubnetGroup: { DBSubnetGroupName: before.DBSubnetGroup!.DBSubnetGroupName },
      VpcSecurityGroups: before.VpcSecurityGroups!.map((g) =>
        expect.objectContaining({ VpcSecurityGroupId: g.VpcSecurityGroupId }),
      ),
      PubliclyAccessible: false,
    });
    expect(restored.TagList).toEqual(
      expect.arrayContaining([
        { Key: "RestoredFrom", Value: "dev-drill-point" },
        { Key: "Environment", Value: "dev" },
      ]),
    );
    const after = await describeDb("dev-postgres");
    expect(after.Endpoint).toEqual(before.Endpoint);
    expect(after.DBInstanceStatus).toBe("available");
  }, 600_000);

  it("never overwrites: the live name, or a name taken, is refused and changes nothing", async () => {
    for (const name of ["dev-postgres", "dev-postgres-drill"]) {
      const r = await loop.envctl("restore", "dev", "--snapshot", "dev-drill-point", "--as", name);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(
        name === "dev-postgres" ? /is the live database: a restore never overwrites it/ : /exists already/,
      );
    }
  }, 300_000);

  it("leaves the live database as the engine made it: the next plan of it is empty", async () => {
    const d = stackDir(loop.dir, "dev");
    const { json } = await loop.engine.planJson(
      d,
      "after-restore.tfplan",
      targets.map((t) => `-target=${t}`),
    );
    const changes = (json.resource_changes ?? []).filter(
      (c: any) => !c.change.actions.includes("no-op") && !c.change.actions.includes("read"),
    );
    const describe = (c: any) =>
      `${c.address} ${c.change.actions}: ${Object.keys({ ...c.change.before, ...c.change.after })
        .filter((k) => JSON.stringify(c.change.before?.[k]) !== JSON.stringify(c.change.after?.[k]))
        .join(", ")}`;
    expect(changes.map(describe), `see ${LOG}`).toEqual([]);
  }, 600_000);
});
