/**
 * `envctl doctor <env>`: in seconds, whether this machine can deploy the environment: the
 * credentials (STS), the deploy role, the account, the region, the account's state bucket and the
 * engine. Each check prints ok or FAIL with how to fix it; any failure exits 1. Read-only.
 */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import type { AwsClientOptions } from "../../aws/clients.ts";
import type { CallerIdentity } from "../../aws/identity.ts";
import { loadProject } from "../../config/load.ts";
import { accountStateBucket } from "../../config/schema/account.ts";
import type { Environment } from "../../config/schema.ts";
import { unknownEnvironmentMessage } from "../../config/suggest.ts";
import { bootstrapStackName } from "../../constructs/naming.ts";
import { RefusedError } from "../../release/model/errors.ts";
import { readTarget } from "../../stacks/target.ts";
import { environmentAws } from "../compose.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import type { Shell } from "../shell.ts";

export interface Check {
  readonly name: "credentials" | "role" | "account" | "region" | "state bucket" | "engine";
  readonly ok: boolean;
  readonly detail: string;
  /** How to fix it (failures only). */
  readonly fix?: string;
}

/** What doctor reads, replaceable in tests. */
export interface DoctorDeps {
  /** STS GetCallerIdentity: `base` with the credentials as they are, else after the deploy role. */
  identity(o: AwsClientOptions, base: boolean): Promise<CallerIdentity>;
  bucket(o: AwsClientOptions, bucket: string): Promise<{ ok: true } | { ok: false; status?: number; error: string }>;
  engine(binary: string): Promise<string>;
}

const realDeps: DoctorDeps = {
  identity: async (o, base) => (await import("../../aws/identity.ts")).callerIdentity(o, base),
  bucket: async (o, b) => (await import("../../aws/state-bucket.ts")).headStateBucket(o, b),
  engine: (binary) =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, ["version"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`'${binary} version' did not answer within 5 s`));
      }, 5000);
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out.split("\n")[0]!.trim());
        else reject(new Error(`'${binary} version' exited ${code}`));
      });
    }),
};

const message = (err: unknown) => (err as Error).message.split("\n")[0]!;

/** The checks, in order; a check whose input failed is reported as not run. */
export async function runDoctor(
  e: Environment,
  o: AwsClientOptions,
  env: NodeJS.ProcessEnv,
  bucket: string | undefined,
  d: DoctorDeps = realDeps,
): Promise<Check[]> {
  const checks: Check[] = [];
  const a = e.account;
  let base: CallerIdentity | undefined;
  try {
    base = await d.identity(o, true);
    checks.push({ name: "credentials", ok: true, detail: `${base.arn} (account ${base.account})` });
  } catch (err) {
    checks.push({
      name: "credentials",
      ok: false,
      detail: `STS GetCallerIdentity failed: ${message(err)}`,
      fix: o.endpoint
        ? "the emulator does not answer: start it (npm run demo / the e2e harness) or check ENVSTACK_AWS_ENDPOINT"
        : "sign in: aws sso login (or set AWS_PROFILE / AWS_ACCESS_KEY_ID); in CI, the OIDC role step must run first",
    });
  }
  let caller = base;
  if (!a.deployRoleArn) {
    checks.push({ name: "role", ok: true, detail: "no deployRoleArn: the credentials are used as they are" });
  } else if (!base) {
    checks.push({
      name: "role",
      ok: false,
      detail: `not tried: no credentials to assume ${a.deployRoleArn} with`,
      fix: "fix the credentials first",
    });
  } else {
    try {
      caller = await d.identity(o, false);
      checks.push({
        name: "role",
        ok: true,
        detail: `assumed ${a.deployRoleArn}${a.externalId ? " (external id)" : ""}: ${caller.arn}`,
      });
    } catch (err) {
      caller = undefined;
      checks.push({
        name: "role",
        ok: false,
        detail: message(err),
        fix:
          `${a.deployRoleArn}'s trust policy must allow ` +
          `${base.arn}${a.externalId ? " with the external id account.externalId" : ""}, and ` +
          `${base.arn} needs sts:AssumeRole${a.sessionTags ? " and sts:TagSession" : ""} on it`,
      });
    }
  }
  if (!caller) {
    checks.push({ name: "account", ok: false, detail: "not checked: no identity", fix: "fix the checks above" });
  } else if (caller.account !== a.id) {
    checks.push({
      name: "account",
      ok: false,
      detail: `${e.name} deploys into account ${a.id}, but the credentials are of account ${caller.account} (${caller.arn})`,
      fix:
        `use credentials of ${a.id}${a.deployRoleArn ? ` or ones allowed to assume ${a.deployRoleArn}` : ""} (e.g. ` +
        `the ${e.name} profile); envctl and the providers refuse ${caller.account} for ${e.name}`,
    });
  } else {
    checks.push({ name: "account", ok: true, detail: `${a.id}, the account of ${e.name}` });
  }
  const ambient = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  checks.push(
    caller || base
      ? {
          name: "region",
          ok: true,
          detail: `${e.region} answers${
            ambient && ambient !== e.region
              ? ` (AWS_REGION is ${ambient}: envctl and the providers use ${e.region}, the environment's)`
              : ""
          }`,
        }
      : {
          name: "region",
          ok: false,
          detail: `${e.region}: STS did not answer there`,
          fix: "check the network (proxy, VPN) and that the region is enabled in the account",
        },
  );
  if (bucket === undefined) {
    checks.push({ name: "state bucket", ok: true, detail: "local state files (ENVSTACK_BACKEND=local): no bucket" });
  } else if (!caller || caller.account !== a.id) {
    checks.push({
      name: "state bucket",
      ok: false,
      detail: `${bucket}: not checked without credentials of ${a.id}`,
      fix: "fix the checks above",
    });
  } else {
    const r = await d.bucket(o, bucket).catch((err) => ({ ok: false as const, error: message(err) }));
    checks.push(
      r.ok
        ? { name: "state bucket", ok: true, detail: `${bucket} is there` }
        : {
            name: "state bucket",
            ok: false,
            detail: `${bucket}: ${r.error}`,
            fix:
              r.error === "does not exist"
                ? `bootstrap the account: ENVSTACK_BACKEND=local npx cdktf deploy ${bootstrapStackName(a.id)} (README: Accounts)`
                : `the role needs s3:ListBucket, s3:GetObject and s3:PutObject on ${bucket}`,
          },
    );
  }
  const binary = env.TERRAFORM_BINARY_NAME || "terraform";
  try {
    checks.push({ name: "engine", ok: true, detail: await d.engine(binary) });
  } catch (err) {
    checks.push({
      name: "engine",
      ok: false,
      detail: `${binary}: ${message(err)}`,
      fix: "install OpenTofu ≥ 1.10 (or Terraform ≥ 1.10) and set TERRAFORM_BINARY_NAME=tofu; locally: npm run setup:engine",
    });
  }
  return checks;
}

export function formatChecks(env: string, checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((c) => [
    `${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}`,
    ...(c.fix ? [`      ${" ".repeat(width)}  fix: ${c.fix}`] : []),
  ]);
  const failed = checks.filter((c) => !c.ok).length;
  return [
    `envctl doctor ${env}`,
    ...lines,
    failed ? `${failed} check(s) failed` : "everything is as the environment expects",
  ].join("\n");
}

export function registerDoctorCommand(program: Command, shell: Shell, deps?: DoctorDeps): void {
  examples(
    program
      .command("doctor")
      .argument("<env>", "environment")
      .description(
        "check in seconds that the credentials, deploy role, account, region, state bucket and " +
          "engine are what <env> expects; prints how to fix what is not (exit 1)",
      )
      .option("--json", "machine-readable output"),
    [["envctl doctor production", "before a deploy from a workstation: right account, role, bucket"]],
  ).action(async (name: string, o: { json?: boolean }) => {
    const project = await loadProject(shell.root(), { focus: [name] });
    const e = project.environments.find((x) => x.config.name === name)?.config;
    if (!e)
      throw new RefusedError(
        unknownEnvironmentMessage(
          name,
          project.environments.map((x) => x.config.name),
        ),
      );
    const target = readTarget(shell.env, project.root);
    const bucket =
      target.backend === "local" ? undefined : (target.stateBucket ?? accountStateBucket(e.project, e.account));
    const started = performance.now();
    const checks = await runDoctor(e, environmentAws(target, e), shell.env, bucket, deps);
    const seconds = (performance.now() - started) / 1000;
    shell.out(
      o.json
        ? JSON.stringify({ environment: name, ok: checks.every((c) => c.ok), seconds, checks }, null, 2)
        : `${formatChecks(name, checks)} (${seconds.toFixed(1)} s)`,
    );
    if (!checks.every((c) => c.ok)) shell.setExit(EXIT.invalid);
  });
}
