/**
 * End to end with the real engine (OpenTofu built from its Go module, the real AWS and
 * Kubernetes providers from the local mirror) against the moto emulator. Needs
 * `npm run setup:engine` (CI runs it); never skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, ModifyTargetGroupCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { readWeights, playground } from "../lib/engine/demo.ts";
import { Engine, stackDir } from "../lib/engine/engine.ts";
import { engineEnv, localTargetEnv, readManifest, registerGateAlarms, startEmulator, type Emulator } from "../lib/engine/local.ts";
import { awsClientConfig } from "../lib/release/gate.ts";
import { REPO } from "./support/project.ts";

const CDKTF = join(REPO, "node_modules/.bin/cdktf");
const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");
const ENVCTL = join(REPO, "lib/cli/envctl.js");
const LOG = process.env.ENVSTACK_E2E_LOG ?? "/tmp/envstack-e2e.log";

let emulator: Emulator;
let dir: string;
let env: NodeJS.ProcessEnv;
let engine: Engine;

/** Runs a command in the playground; its output is also appended to $ENVSTACK_E2E_LOG (default /tmp/envstack-e2e.log). */
/** Asynchronous on purpose: a worker blocked for minutes in spawnSync misses vitest's heartbeats. */
async function sh(cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; out: string }> {
  appendFileSync(LOG, `\n$ ${[cmd, ...args].join(" ")}\n`);
  const start = statSync(LOG).size;
  const fd = openSync(LOG, "a");
  try {
    const status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: dir, env: { ...env, ...extra }, stdio: ["ignore", fd, fd] });
      child.on("error", reject);
      child.on("close", resolve);
    });
    return { status, out: readFileSync(LOG).subarray(start).toString("utf8") };
  } finally {
    closeSync(fd);
  }
}
async function must(cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = await sh(cmd, args, extra);
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(" ")} exited ${r.status}:\n${r.out.slice(-6000)}`);
  return r.out;
}
const synth = (extra: NodeJS.ProcessEnv = {}) => must(process.execPath, [TSX, "main.ts"], extra);
const envctl = (...args: string[]) => sh(process.execPath, [ENVCTL, ...args]);
const DEPLOY_FLAGS = ["--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"];

/** The address of the one weighted listener rule, from the synthesized dev-traffic stack. */
function ruleAddress(): string {
  const tf = JSON.parse(readFileSync(join(stackDir(dir, "dev-traffic"), "cdk.tf.json"), "utf8"));
  const names = Object.keys(tf.resource.aws_lb_listener_rule);
  expect(names).toHaveLength(1);
  return `aws_lb_listener_rule.${names[0]}`;
}
/** `envctl plan-summary` of a real plan of the synthesized stack, saved as <label>/<stack>.json. */
async function planSummaryOf(stack: string, label: string, ...extra: string[]) {
  const d = stackDir(dir, stack);
  await engine.init(d);
  const { json } = await engine.planJson(d, `${label}.tfplan`, extra);
  mkdirSync(join(dir, label), { recursive: true });
  writeFileSync(join(dir, label, `${stack}.json`), JSON.stringify(json));
  return envctl("plan-summary", join(dir, label, `${stack}.json`), "--fail-on", "stateful");
}
/** The whole of envctl plan-summary's Markdown, given the lines after the table header. */
const markdown = (lines: string[]) => [
  "## Plan summary",
  "",
  "| environment | stack | create | update | replace | delete |",
  "|---|---|---:|---:|---:|---:|",
  ...lines,
  "",
  "",
].join("\n");
/** plan-summary's Markdown of a dev-traffic plan that creates or updates the one rule. */
const trafficMarkdown = (createUpdate: string, traffic: string, action: "create" | "update") => markdown([
  `| dev | dev-traffic | ${createUpdate} | 0 | 0 |`,
  "",
  "### dev",
  "",
  "#### dev-traffic: 1 change",
  "",
  `- **traffic**: dev: ${traffic}`,
  `- ${action}: \`${ruleAddress()}\``,
  "",
  "### Risk",
  "",
  "No stateful resource is replaced or deleted.",
]);

beforeAll(async () => {
  const manifest = readManifest();
  emulator = await startEmulator(manifest);
  dir = playground();
  env = localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: "1", USER: "e2e" }));
  engine = new Engine("tofu", env);
}, 120_000);

afterAll(async () => {
  await emulator?.stop();
});

describe.sequential("real engine against the emulator", () => {
  it("1. tofu init && tofu validate pass for every synthesized stack", async () => {
    await synth({ ENVSTACK_BACKEND: "local" });
    const stacks = readdirSync(join(dir, "cdktf.out/stacks")).sort();
    expect(stacks).toEqual(expect.arrayContaining(["bootstrap", "dev", "dev-traffic", "global", "production", "production-traffic", "production-workloads", "staging", "staging-traffic", "staging-workloads"]));
    for (const stack of stacks) {
      const d = stackDir(dir, stack);
      await engine.ok(d, ["init", "-input=false", "-no-color", "-backend=false"]);
      const v = await engine.run(d, ["validate", "-no-color", "-json"]);
      const result = JSON.parse(v.stdout);
      expect({ stack, valid: result.valid, errors: result.diagnostics?.filter((x: any) => x.severity === "error").map((x: any) => x.summary) }).toEqual({ stack, valid: true, errors: [] });
    }
  }, 900_000);

  it("2. deploys dev through cdktf deploy with OpenTofu; the rule reads back blue 100 / green 0", async () => {
    await must(CDKTF, ["deploy", "bootstrap", "--auto-approve", "--skip-provider-lock"], { ENVSTACK_BACKEND: "local" });
    await must(CDKTF, ["deploy", "dev", ...DEPLOY_FLAGS]);
    // the reviewer's view of a real plan that adds the traffic stack
    const added = await planSummaryOf("dev-traffic", "add");
    expect(added.status).toBe(0);
    expect(added.out).toBe(trafficMarkdown("1 | 0", "blue – → 100, green – → 0", "create"));
    await must(CDKTF, ["deploy", "dev-traffic", ...DEPLOY_FLAGS]);
    expect(await readWeights(emulator.endpoint, "dev")).toEqual({ blue: 100, green: 0 });
    await registerGateAlarms(emulator.endpoint, "dev");
    const elb = new ElasticLoadBalancingV2Client(awsClientConfig({ region: "eu-west-1", endpoint: emulator.endpoint }));
    const tgs = await elb.send(new DescribeTargetGroupsCommand({ Names: ["dev-app-blue", "dev-app-green"] }));
    expect(tgs.TargetGroups?.map((t) => t.HealthCheckPath)).toEqual(["/health", "/health"]);
  }, 1_800_000);

  it("3. a shift plans exactly one in-place update of the listener rule and reads back 75 / 25", async () => {
    expect((await envctl("stage", "dev", "--version", "1.6.0")).status).toBe(0);
    expect((await envctl("shift", "dev", "--to", "green", "--percent", "25", "--no-deploy")).status).toBe(0);
    await synth();
    const d = stackDir(dir, "dev-traffic");
    await engine.init(d);
    const { json } = await engine.planJson(d, "shift.tfplan");
    const changes = json.resource_changes.filter((c: any) => !c.change.actions.includes("no-op") && c.mode !== "data");
    expect(changes.map((c: any) => [c.type, c.change.actions])).toEqual([["aws_lb_listener_rule", ["update"]]]);
    // the reviewer's view of that real plan
    writeFileSync(join(dir, "dev-traffic.json"), JSON.stringify(json));
    const summary = await envctl("plan-summary", join(dir, "dev-traffic.json"));
    expect(summary.status).toBe(0);
    expect(summary.out).toBe(trafficMarkdown("0 | 1", "blue 100 → 75, green 0 → 25", "update"));
    // and the same shift through envctl's own deploy
    expect((await envctl("shift", "dev", "--to", "green", "--percent", "25")).status).toBe(0);
    expect(await readWeights(emulator.endpoint, "dev")).toEqual({ blue: 75, green: 25 });
  }, 900_000);

  it("4. a rollout whose gate sees the green alarm in ALARM rolls back by itself", async () => {
    expect((await envctl("rollback", "dev")).status).toBe(0);
    const cw = new CloudWatchClient(awsClientConfig({ region: "eu-west-1", endpoint: emulator.endpoint }));
    await cw.send(new SetAlarmStateCommand({ AlarmName: "dev-app-green-5xx-rate", StateValue: "ALARM", StateReason: "e2e: canary errors" }));
    const r = await envctl("rollout", "dev", "--bake", "1");
    expect(r.out).toContain("rollout rolled back: dev-app-green-5xx-rate in ALARM");
    expect(r.status).toBe(3);
    expect(await readWeights(emulator.endpoint, "dev")).toEqual({ blue: 100, green: 0 });
  }, 900_000);

  it("5. a second plan right after apply is empty for every deployed stack", async () => {
    await synth();
    for (const stack of ["dev", "dev-traffic"]) {
      const d = stackDir(dir, stack);
      await engine.init(d);
      const { changed, json } = await engine.planJson(d, "again.tfplan");
      const changes = (json.resource_changes ?? []).filter((c: any) => !c.change.actions.includes("no-op") && !c.change.actions.includes("read"));
      const describe = (c: any) => `${c.address} ${c.change.actions}: ${JSON.stringify(Object.fromEntries(Object.keys(c.change.after ?? {}).filter((k) => JSON.stringify(c.change.before?.[k]) !== JSON.stringify(c.change.after?.[k])).map((k) => [k, [c.change.before?.[k], c.change.after?.[k]]])))}`;
      appendFileSync(LOG, `\nsecond plan of ${stack}:\n${changes.map(describe).join("\n")}\n`);
      expect({ stack, changes: changes.map(describe) }).toEqual({ stack, changes: [] });
      expect(changed).toBe(false);
    }
  }, 900_000);

  it("plan-summary blocks a real plan that replaces the database (immutable attribute changed)", async () => {
    const file = join(stackDir(dir, "dev"), "cdk.tf.json");
    const tf = JSON.parse(readFileSync(file, "utf8"));
    const [dbName] = Object.keys(tf.resource.aws_db_instance);
    tf.resource.aws_db_instance[dbName!].db_name = "app_renamed"; // forces a new database
    writeFileSync(file, JSON.stringify(tf));
    const guard = await planSummaryOf("dev", "replace", "-lock=false");
    expect(guard.status).toBe(6);
    const db = `aws_db_instance.${dbName}`;
    expect(guard.out).toBe(markdown([
      "| dev | dev | 0 | 0 | 1 | 0 |",
      "",
      "### dev",
      "",
      "#### dev: 1 change",
      "",
      `- replace: \`${db}\``,
      "",
      "### Risk",
      "",
      "**BLOCKING**: stateful resources would be replaced or deleted:",
      "",
      `- dev / dev: replace \`${db}\` (aws_db_instance)`,
    ]) + `blocked: stateful resources would be replaced or deleted:\n  - dev: replace ${db}\n`);
    await synth(); // restore the real configuration
  }, 900_000);

  it("drift: a target group changed behind the engine's back is reported, exit 2", async () => {
    const elb = new ElasticLoadBalancingV2Client(awsClientConfig({ region: "eu-west-1", endpoint: emulator.endpoint }));
    const tgs = await elb.send(new DescribeTargetGroupsCommand({ Names: ["dev-app-green"] }));
    await elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: tgs.TargetGroups![0]!.TargetGroupArn, HealthCheckPath: "/changed-by-hand" }));
    const r = await envctl("drift", "dev", "--json");
    expect(r.status).toBe(2);
    const report = JSON.parse(r.out.slice(r.out.indexOf("[")));
    expect(report).toEqual([
      { stack: "dev", status: "drifted", resources: [{ address: expect.stringMatching(/^aws_lb_target_group\.load-balancer_tg-green_[0-9A-F]+$/), attributes: ["health_check"] }] },
      { stack: "dev-traffic", status: "in sync", resources: [] },
    ]);
  }, 900_000);

  it("6. destroy leaves the emulator without the environment's resources", async () => {
    for (const stack of ["dev-traffic", "dev"]) await must(CDKTF, ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"]);
    const elb = new ElasticLoadBalancingV2Client(awsClientConfig({ region: "eu-west-1", endpoint: emulator.endpoint }));
    const lbs = await elb.send(new DescribeLoadBalancersCommand({}));
    expect(lbs.LoadBalancers?.filter((l) => l.LoadBalancerName?.startsWith("dev-")) ?? []).toEqual([]);
    const ec2 = new EC2Client(awsClientConfig({ region: "eu-west-1", endpoint: emulator.endpoint }));
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:Environment", Values: ["dev"] }] }));
    expect(vpcs.Vpcs ?? []).toEqual([]);
  }, 900_000);
});
