/**
 * `npm run demo`: the whole loop against the emulator, no AWS account needed. On a throw-away
 * copy of the project (your release files stay untouched): start moto → deploy the state
 * backend (bootstrap) → deploy dev and dev-traffic through `cdktf deploy` with OpenTofu →
 * stage a new version into the idle slot → `envctl rollout dev` with a short bake → read the
 * ALB rule's weights back with the AWS SDK → destroy → stop moto.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DescribeRulesCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { slotOfTargetGroupArn } from "../constructs/load-balancer.ts";
import { awsClientConfig } from "../aws/clients.ts";
import { engineEnv, localTargetEnv, readManifest, startEmulator } from "./local.ts";

const REPO = resolve(import.meta.dirname, "../..");
const say = (s: string) => process.stdout.write(`\n=== ${s}\n`);

/** A copy of the project to play in: environments copied, code linked. */
export function playground(): string {
  const dir = mkdtempSync(join(tmpdir(), "envstack-demo-"));
  cpSync(join(REPO, "environments"), join(dir, "environments"), { recursive: true });
  for (const f of ["lib", "node_modules", "main.ts", "cdktf.json", "package.json", "tsconfig.json"]) symlinkSync(join(REPO, f), join(dir, f));
  return dir;
}

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, env, stdio: "inherit" });
    child.on("error", rej);
    child.on("close", (code) => res(code ?? 1));
  });
}

/** Weights of the weighted (priority 100) rule of `<env>-alb`, read from the emulator. */
export async function readWeights(endpoint: string, env: string): Promise<Record<string, number>> {
  const elb = new ElasticLoadBalancingV2Client(awsClientConfig({ region: "eu-west-1", endpoint }));
  const lbs = await elb.send(new DescribeLoadBalancersCommand({ Names: [`${env}-alb`] }));
  const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbs.LoadBalancers![0]!.LoadBalancerArn }));
  for (const l of listeners.Listeners ?? []) {
    const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }));
    const weighted = rules.Rules?.find((r) => r.Priority === "100");
    const groups = weighted?.Actions?.[0]?.ForwardConfig?.TargetGroups;
    if (groups) {
      return Object.fromEntries(groups.map((g) => [slotOfTargetGroupArn(g.TargetGroupArn ?? "") ?? g.TargetGroupArn!, g.Weight ?? 0]));
    }
  }
  throw new Error(`no weighted rule on ${env}-alb`);
}

async function main(): Promise<number> {
  const manifest = readManifest();
  const dir = playground();
  say(`playground ${dir}; starting the emulator`);
  const emulator = await startEmulator(manifest);
  const base = localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: process.env.CI ?? "1" }));
  const cdktf = join(REPO, "node_modules/.bin/cdktf");
  const envctl = [join(REPO, "lib/cli/envctl.js")];
  try {
    say(`moto on ${emulator.endpoint}; deploying the state bucket and lock table (bootstrap, local state)`);
    if (await run(cdktf, ["deploy", "bootstrap", "--auto-approve", "--skip-provider-lock"], dir, { ...base, ENVSTACK_BACKEND: "local" })) throw new Error("bootstrap deploy failed");
    say("deploying dev and dev-traffic (state in the emulator's S3, locked in its DynamoDB)");
    if (await run(cdktf, ["deploy", "dev", "dev-traffic", "--auto-approve", "--skip-provider-lock"], dir, base)) throw new Error("dev deploy failed");
    console.log("weights after deploy:", await readWeights(emulator.endpoint, "dev"));
    say("staging version 1.6.0 into dev's idle slot");
    if (await run(process.execPath, [...envctl, "stage", "dev", "--version", "1.6.0"], dir, base)) throw new Error("stage failed");
    say("rolling out (bake 5 s per step)");
    const code = await run(process.execPath, [...envctl, "rollout", "dev", "--bake", "5"], dir, base);
    console.log(`envctl rollout exit code: ${code}`);
    console.log("weights read back from the emulator:", await readWeights(emulator.endpoint, "dev"));
    await run(process.execPath, [...envctl, "status", "dev"], dir, base);
    return code;
  } finally {
    say("destroying dev-traffic, dev and bootstrap");
    for (const stack of ["dev-traffic", "dev"]) await run(cdktf, ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"], dir, base);
    await run(cdktf, ["destroy", "bootstrap", "--auto-approve", "--skip-provider-lock"], dir, { ...base, ENVSTACK_BACKEND: "local" });
    await emulator.stop();
    say("emulator stopped");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main().catch((err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    return 1;
  });
}
