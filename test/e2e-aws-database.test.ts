/**
 * Migrations and data copies on AWS, against the emulator acting as AWS (moto through the
 * wrapper and the proxy: `startEmulator`; no engine deploy, no local PostgreSQL). What an EC2
 * environment is made of here is created with the SDK in dev's account: a VPC, subnets, security
 * groups, DB subnet groups, KMS keys, the databases of dev (the target) and of a source, snapshots
 * of the source, and an instance of dev's blue Auto Scaling group (tagged as Auto Scaling tags it).
 *
 * - `envctl migrate dev` sends the stack's document through SSM Run Command to that instance and
 *   honours the invocation: a success records the schema the emulator's stand-in reads back, a
 *   failing invocation (the wrapper's `emulator-exit-<N>` rule, lib/engine/moto/ssm_invocations.py)
 *   is recorded as failed with its exit code and changes nothing.
 * - `data copy` restores the source's latest snapshot, copied under dev's key, into a new instance in
 *   dev's subnet group with dev's security groups, tagged; the masking SQL cannot run on moto (no
 *   engine): the copy fails closed, is deleted with its snapshot, and dev keeps its database.
 *
 * The document and its IAM come from dev's stack, applied (`-target`ed) by the real engine first.
 * Needs `npm run setup:engine`; never skipped.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  CreateDBSubnetGroupCommand,
  type DBInstance,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { GetDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import production from "../environments/production.ts";
import { type AwsClientOptions, awsClientConfig } from "../lib/aws/clients.ts";
import { awsDataPlane } from "../lib/cli/aws-data-plane.ts";
import { stackDir } from "../lib/engine/engine.ts";
import type { Emulator } from "../lib/engine/local.ts";
import { COPY_ID_TAG, copiedSnapshotId, RdsCopies } from "../lib/recovery/data-copy.ts";
import { LOG, type LocalLoop, localLoop } from "./support/e2e.ts";
import { type EnvctlInProcess, envctlInProcess } from "./support/envctl-deps.ts";

const REGION = dev.region;
const ACCOUNT = dev.account.id;
let loop: LocalLoop;
let emulator: Emulator;
let o: AwsClientOptions;
let rds: RDSClient;
let ec2: EC2Client;
const ids = { sgDev: "", sgSource: "", keyDev: "", keySource: "", instance: "" };

/** KMS CreateKey straight to the emulator (no KMS client among the dependencies): the key's ARN. */
async function createKey(description: string): Promise<string> {
  const r = await fetch(emulator.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "TrentService.CreateKey",
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261205/${REGION}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ Description: description }),
  });
  if (!r.ok) throw new Error(`CreateKey: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
}

const describeDb = async (id: string): Promise<DBInstance | undefined> => {
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  } catch {
    return undefined;
  }
};

beforeAll(async () => {
  loop = await localLoop();
  emulator = loop.emulator;
  o = { region: REGION, endpoint: emulator.endpoint, account: { id: ACCOUNT } };
  rds = new RDSClient(awsClientConfig(o, 3));
  ec2 = new EC2Client(awsClientConfig(o, 3));
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ["a", "b"].map(
      async (az, i) =>
        (
          await ec2.send(
            new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: `${REGION}${az}` }),
          )
        ).Subnet!.SubnetId!,
    ),
  );
  for (const [name, key] of [
    ["dev-database", "sgDev"],
    ["production-database", "sgSource"],
  ] as const)
    ids[key] = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpc })))
      .GroupId!;
  for (const name of ["dev-database", "production-database"])
    await rds.send(
      new CreateDBSubnetGroupCommand({ DBSubnetGroupName: name, DBSubnetGroupDescription: name, SubnetIds: subnets }),
    );
  ids.keyDev = await createKey("dev-database");
  ids.keySource = await createKey("production-database");
  for (const [name, env, sg, key] of [
    ["dev-postgres", "dev", ids.sgDev, ids.keyDev],
    ["production-postgres", "production", ids.sgSource, ids.keySource],
  ] as const)
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: name,
        DBInstanceClass: "db.t4g.micro",
        Engine: "postgres",
        DBName: "app",
        MasterUsername: "app_admin",
        ManageMasterUserPassword: true,
        AllocatedStorage: 20,
        StorageEncrypted: true,
        KmsKeyId: key,
        DBSubnetGroupName: `${env}-database`,
        VpcSecurityGroupIds: [sg],
        Tags: [{ Key: "Environment", Value: env }],
      }),
    );
  for (const id of ["production-older", "production-latest"]) {
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: "production-postgres", DBSnapshotIdentifier: id }),
    );
    await new Promise((r) => setTimeout(r, 1100)); // distinct creation times
  }
  // An instance of dev's blue Auto Scaling group, tagged as Auto Scaling tags its instances.
  ids.instance = (
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnets[0],
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: "aws:autoscaling:groupName", Value: "dev-app-blue" },
              { Key: "Environment", Value: "dev" },
              { Key: "Version", Value: "1.5.0" },
            ],
          },
        ],
      }),
    )
  ).Instances![0]!.InstanceId!;
}, 120_000);

afterAll(async () => {
  await loop?.stop();
});

describe.sequential("the environment stack writes the document and its IAM", () => {
  it("a targeted apply of dev's document and policies by the real engine to the emulator", async () => {
    await loop.deploy("bootstrap");
    await loop.synth();
    const d = stackDir(loop.dir, "dev");
    const tf = JSON.parse(readFileSync(join(d, "cdk.tf.json"), "utf8"));
    const policies = Object.entries(tf.resource.aws_iam_role_policy as Record<string, { name: string }>)
      .filter(([, p]) => ["dev-read-database-secret", "dev-envctl-database"].includes(p.name))
      .map(([id]) => `aws_iam_role_policy.${id}`);
    expect(policies).toHaveLength(2);
    const targets = [`aws_ssm_document.${Object.keys(tf.resource.aws_ssm_document)[0]}`, ...policies];
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
      `e2e-aws-database: targeted apply of dev's database document and policies ${((Date.now() - started) / 1000).toFixed(1)} s (log: ${LOG})`,
    );
    // Read back as written: a second plan of the same resources changes nothing.
    const again = await loop.engine.planJson(
      d,
      "second.tfplan",
      targets.map((t) => `-target=${t}`),
    );
    expect(
      again.json.resource_changes?.filter(
        (c: { change: { actions: string[] } }) => c.change.actions.join() !== "no-op",
      ),
    ).toEqual([]);
    const ssm = new SSMClient(
      awsClientConfig({ region: REGION, endpoint: emulator.endpoint, account: { id: ACCOUNT } }, 3),
    );
    const doc = await ssm.send(new GetDocumentCommand({ Name: "dev-envctl-database" }));
    expect(JSON.parse(doc.Content!).parameters.databaseSecretArn.allowedPattern).toMatch(/^\^arn:aws/);
  }, 900_000);
});

/** envctl in process on the local target without a local PostgreSQL: its AWS runners, against the emulator. */
function envctl(extra: Parameters<typeof envctlInProcess>[0] = {}): EnvctlInProcess {
  return envctlInProcess({
    ...extra,
    env: {
      ENVSTACK_TARGET: "local",
      ENVSTACK_AWS_ENDPOINT: emulator.endpoint,
      ENVSTACK_LOCAL_POSTGRES: undefined,
      ENVSTACK_LOCAL_IMAGES: undefined,
    },
  });
}

function setBlue(dir: string, version: string): void {
  const file = join(dir, "environments/releases/dev.json");
  const r = JSON.parse(readFileSync(file, "utf8"));
  r.slots.blue = { ...r.slots.blue, version, schema: { requires: 0, supportsUpTo: 5 } };
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}
const release = (dir: string) => JSON.parse(readFileSync(join(dir, "environments/releases/dev.json"), "utf8"));

describe.sequential("migrations on EC2 through SSM Run Command (the emulator acting as AWS)", () => {
  let e: EnvctlInProcess;

  it("sends the document to the slot's instance, honours a successful invocation and records the schema read back", async () => {
    e = envctl();
    setBlue(e.dir, "1.5.0");
    const code = await e.run("migrate", "dev", "--to", "1");
    expect(code, e.text()).toBe(0);
    expect(e.text()).toMatch(
      new RegExp(
        `ssm command [0-9a-f-]{36} on ${ids.instance}: migrate with ${dev.image.repository.replace(/[.]/g, "\\.")}:1\\.5\\.0`,
      ),
    );
    expect(e.text()).toContain("moto runs nothing, reported Success");
    expect(release(e.dir).database).toMatchObject({ schema: 1, dirty: false });
  }, 120_000);

  it("honours a failing invocation: its exit code, recorded as failed, the schema unchanged", async () => {
    setBlue(e.dir, "1.6.0-emulator-exit-3");
    const before = e.lines.length;
    const code = await e.run("migrate", "dev", "--to", "2");
    const text = e.lines.slice(before).join("\n");
    expect(code, text).toBe(10);
    expect(text).toContain("emulator: exit 3 (the emulator-exit rule, nothing ran)");
    expect(text).toMatch(/\(ssm command [0-9a-f-]{36} on i-\w+\): exit 3[,;].*the database reads back schema 1/);
    expect(release(e.dir).database).toMatchObject({ schema: 1 });
  }, 120_000);
});

describe.sequential("data copies on AWS (the emulator acting as AWS)", () => {
  it("restores the source's latest snapshot, under the target's key, into the target's subnet group with its security groups, tagged", async () => {
    const lines: string[] = [];
    const copies = new RdsCopies({ rds, environment: "dev", targetInstance: "dev-postgres", pollMs: 50 });
    await copies.restoreLatest("production-postgres", "dev-postgres-copy-lib", (l) => lines.push(l));
    const copy = (await describeDb("dev-postgres-copy-lib"))!;
    expect(copy).toMatchObject({
      DBInstanceStatus: "available",
      DBSubnetGroup: { DBSubnetGroupName: "dev-database" },
      VpcSecurityGroups: [{ VpcSecurityGroupId: ids.sgDev }],
      KmsKeyId: ids.keyDev,
      StorageEncrypted: true,
      DeletionProtection: false,
    });
    expect(Object.fromEntries((copy.TagList ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      "envstack:copy-of": "production-postgres",
      [COPY_ID_TAG]: "dev-postgres-copy-lib",
      Environment: "dev",
    });
    const copied = (
      await rds.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: copiedSnapshotId("dev-postgres-copy-lib") }),
      )
    ).DBSnapshots![0]!;
    expect(copied).toMatchObject({ KmsKeyId: ids.keyDev });
    expect(lines.join("\n")).toContain("latest snapshot of production-postgres: production-latest");
    // The stack's own database is never deleted by a copy's clean-up; the copy is, with its snapshot.
    await expect(copies.drop("dev-postgres")).rejects.toThrow(/not a data copy/);
    await copies.drop("dev-postgres-copy-lib");
    expect(await describeDb("dev-postgres-copy-lib")).toBeUndefined();
    await expect(
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: copiedSnapshotId("dev-postgres-copy-lib") })),
    ).rejects.toThrow();
  }, 120_000);

  it("envctl data copy: the masking cannot run on the emulator, so the copy fails closed and is deleted; dev keeps its database", async () => {
    const sourceInDevAccount = { ...production, account: dev.account, region: dev.region };
    const e = envctlInProcess({
      env: { ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: emulator.endpoint, ENVSTACK_LOCAL_POSTGRES: undefined },
      deps: (f) => ({ dataPlane: () => awsDataPlane(sourceInDevAccount, dev, o, (l) => f.lines.push(l)) }),
    });
    const spec = join(e.dir, "mask.json");
    writeFileSync(spec, JSON.stringify({ tables: { users: { id: "keep", email: "fake-email" } } }));
    const code = await e.run("data", "copy", "production", "dev", "--mask", spec, "--yes");
    const text = e.text();
    expect(code, text).toBe(10);
    const copy = /into (dev-postgres-copy-\d{12}) \(subnet group dev-database, security groups /.exec(text);
    expect(copy, text).not.toBeNull();
    const name = copy![1]!;
    expect(text).toContain(`copy production-latest into ${copiedSnapshotId(name)} under dev's key ${ids.keyDev}`);
    expect(text).toContain(`(subnet group dev-database, security groups ${ids.sgDev})`);
    expect(text).toMatch(/its relations could not be listed from the catalogs: .*holds no result line/);
    expect(text).toContain(`the copy ${name} was dropped, dev still uses dev-postgres`);
    expect(await describeDb(name)).toBeUndefined();
    await expect(
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: copiedSnapshotId(name) })),
    ).rejects.toThrow();
    expect(release(e.dir).database?.instance).toBeUndefined();
  }, 120_000);

  it("envctl data copy between accounts is refused before anything is made", async () => {
    const e = envctl();
    const code = await e.run("data", "copy", "production", "dev", "--yes");
    expect(code, e.text()).toBe(1);
    expect(e.text()).toContain("on AWS a copy stays in one account and region");
  }, 60_000);
});
