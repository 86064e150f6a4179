/**
 * End to end, accounts: the real engine (OpenTofu, the AWS provider from the local mirror) and moto
 * with two accounts. moto keeps resources per account: credentials whose access key id is a
 * 12-digit number act as that account, and credentials from STS AssumeRole act in the role's
 * account. dev is account 123456789012 with a deploy role (the providers and envctl assume it);
 * production is 333333333333 without one (the credentials are used as they are), so "dev's
 * credentials" (ENVSTACK_EMULATOR_ACCOUNT=123456789012) reach production's configuration as they
 * would on AWS, and must be refused: by the provider (allowed_account_ids, at plan) and by envctl
 * (before it writes anything), and `envctl doctor` names the wrong account.
 *
 * Deployed: each account's bootstrap (state bucket and its logs) and dev; production is planned
 * only (its EKS stack is beyond the emulator), which is what proves the refusal.
 * Needs `npm run setup:engine`; never skipped.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../lib/aws/clients.ts";
import { CDKTF, type LocalLoop, localLoop } from "./support/e2e.ts";

const DEV = "123456789012";
const PROD = "333333333333";
let loop: LocalLoop;
const seconds: Record<string, number> = {};

/** Runs `fn`, keeping how long it took under `label` (printed at the end). */
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    seconds[label] = Number(((performance.now() - t) / 1000).toFixed(1));
  }
}

/** A client of `account` on the emulator (its access key id is the account). */
const as = (account: string) =>
  awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint, emulatorAccount: account }, 3);
const bucketsOf = async (account: string) =>
  ((await new S3Client({ ...as(account), forcePathStyle: true }).send(new ListBucketsCommand({}))).Buckets ?? [])
    .map((b) => b.Name)
    .sort();
const vpcsOf = async (account: string) =>
  ((await new EC2Client(as(account)).send(new DescribeVpcsCommand({}))).Vpcs ?? [])
    .filter((v) => !v.IsDefault)
    .map((v) => v.Tags?.find((t) => t.Key === "Environment")?.Value);

beforeAll(async () => {
  loop = await localLoop();
  // production without a deploy role: the credentials in hand are what the provider and envctl use.
  loop.edit("production.ts", (t) => t.replace("account: accounts.production,", `account: { id: "${PROD}" },`));
});

afterAll(async () => {
  console.log(`e2e-accounts timings (s): ${JSON.stringify(seconds)}`);
  await loop?.stop();
});

describe("one account per environment, on the engine", () => {
  it("bootstraps each account's state bucket in that account", async () => {
    // One cdktf deploy, both stacks at once: each waits about a minute for moto's lifecycle rules to read back steadily.
    await timed("bootstrap both accounts (in parallel)", () =>
      loop.must(
        CDKTF,
        [
          "deploy",
          `bootstrap-${DEV}`,
          `bootstrap-${PROD}`,
          "--auto-approve",
          "--skip-provider-lock",
          "--parallelism",
          "2",
        ],
        { ENVSTACK_BACKEND: "local" },
      ),
    );
    expect(await bucketsOf(DEV)).toEqual([`webapp-tfstate-${DEV}`, `webapp-tfstate-${DEV}-access-logs`]);
    expect(await bucketsOf(PROD)).toEqual([`webapp-tfstate-${PROD}`, `webapp-tfstate-${PROD}-access-logs`]);
  }, 300_000);

  it("deploys dev into dev's account (through its deploy role), its state in dev's bucket", async () => {
    await timed("deploy dev", () => loop.deploy("dev"));
    expect(await vpcsOf(DEV)).toEqual(["dev"]);
    expect(await vpcsOf(PROD)).toEqual([]);
    const tf = JSON.parse(readFileSync(join(loop.dir, "cdktf.out/stacks/dev/cdk.tf.json"), "utf8"));
    expect(tf.terraform.backend.s3.bucket).toBe(`webapp-tfstate-${DEV}`);
    expect(tf.provider.aws[0]).toMatchObject({
      allowed_account_ids: [DEV],
      assume_role: [{ role_arn: `arn:aws:iam::${DEV}:role/envstack-deploy` }],
    });
  }, 300_000);

  it("the provider refuses to plan production with dev's credentials, before reading or changing anything; with production's it plans", async () => {
    const out = "cdktf.accounts";
    const stack = join(out, "stacks", "production");
    // Local state files: the refusal must come from the provider, not from a backend the wrong account cannot read.
    const wrong = { ENVSTACK_EMULATOR_ACCOUNT: DEV, ENVSTACK_BACKEND: "local", CDKTF_OUTDIR: out };
    await loop.synth(wrong);
    const tfWrong = JSON.parse(readFileSync(join(loop.dir, stack, "cdk.tf.json"), "utf8"));
    expect(tfWrong.provider.aws.map((p: any) => p.allowed_account_ids)).toEqual(tfWrong.provider.aws.map(() => [PROD]));
    await loop.must("tofu", [`-chdir=${stack}`, "init", "-input=false", "-no-color"]);
    const refused = await timed("plan production, dev's credentials (refused)", () =>
      loop.sh("tofu", [`-chdir=${stack}`, "plan", "-input=false", "-no-color", "-lock=false"]),
    );
    expect(refused.status).toBe(1);
    expect(refused.out).toContain(`AWS account ID not allowed: ${DEV}`);
    expect(refused.out).not.toMatch(/Refreshing state|Reading\.\.\./);
    expect(await vpcsOf(PROD)).toEqual([]);

    // The same stack with production's own credentials: the provider accepts the account and plans.
    await loop.synth({ ENVSTACK_BACKEND: "local", CDKTF_OUTDIR: out });
    await loop.must("tofu", [`-chdir=${stack}`, "init", "-input=false", "-no-color"]);
    const planned = await timed("plan production, production's credentials", () =>
      loop.sh("tofu", [`-chdir=${stack}`, "plan", "-input=false", "-no-color", "-lock=false", "-refresh=false"]),
    );
    expect(planned.out).not.toContain("AWS account ID not allowed");
    expect(planned.out).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy/);
    expect(planned.status).toBe(0);
  }, 300_000);

  it("envctl refuses a production change with dev's credentials, naming both accounts, and writes nothing", async () => {
    const file = join(loop.dir, "environments/releases/production.json");
    const before = readFileSync(file, "utf8");
    const r = await timed("envctl promote staging production, dev's credentials (refused)", () =>
      loop.sh(process.execPath, [join(loop.dir, "lib/cli/envctl.js"), "promote", "staging", "production", "--yes"], {
        ENVSTACK_EMULATOR_ACCOUNT: DEV,
      }),
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `refusing to change production: it deploys into account ${PROD}, but the credentials are of account ${DEV}`,
    );
    expect(r.out).toContain("Nothing was changed.");
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("envctl doctor reports the wrong account in seconds, and passes with the right credentials", async () => {
    const wrong = await timed("doctor production, dev's credentials", () =>
      loop.sh(process.execPath, [join(loop.dir, "lib/cli/envctl.js"), "doctor", "production", "--json"], {
        ENVSTACK_EMULATOR_ACCOUNT: DEV,
      }),
    );
    expect(wrong.status).toBe(1);
    const report = JSON.parse(wrong.out.slice(wrong.out.indexOf("{")));
    expect(report.ok).toBe(false);
    expect(report.checks.find((c: any) => c.name === "account")).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        `production deploys into account ${PROD}, but the credentials are of account ${DEV}`,
      ),
      fix: expect.stringContaining(`use credentials of ${PROD}`),
    });
    expect(report.seconds).toBeLessThan(10);

    const right = await timed("doctor production", () => loop.envctl("doctor", "production"));
    expect(right.out).toMatch(/ok\s+account\s+333333333333, the account of production/);
    expect(right.out).toMatch(/ok\s+state bucket\s+webapp-tfstate-333333333333 is there/);
    expect(right.out).toMatch(/ok\s+engine\s+OpenTofu v1\.12/);
    expect(right.status).toBe(0);
    const dev = await timed("doctor dev", () => loop.envctl("doctor", "dev"));
    expect(dev.out).toMatch(
      /ok\s+role\s+assumed arn:aws:iam::123456789012:role\/envstack-deploy: arn:aws:sts::123456789012:assumed-role\/envstack-deploy\//,
    );
    expect(dev.status).toBe(0);
  });
});
