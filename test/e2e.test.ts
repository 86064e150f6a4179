/**
 * End to end with the real engine (OpenTofu built from its Go module, the real AWS and
 * Kubernetes providers from the local mirror) against the moto emulator. Needs
 * `npm run setup:engine` (CI runs it); never skipped.
 */

import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../lib/aws/clients.ts";
import { albTraffic } from "../lib/aws/traffic.ts";
import { slotAlarmNames } from "../lib/constructs/monitoring.ts";
import { readWeights } from "../lib/demo/demo.ts";
import { type Engine, stackDir } from "../lib/engine/engine.ts";
import { CDKTF, LOG, type LocalLoop, localLoop } from "./support/e2e.ts";

/** Target health `status --live` reads back from moto for dev's slots (one instance each, registered by the ASGs). */
const LIVE_TARGETS = [
  { healthy: 1, unhealthy: 0, other: 0 },
  { healthy: 1, unhealthy: 0, other: 0 },
];

let loop: LocalLoop;
let dir: string;
let engine: Engine;
const synth = (extra: NodeJS.ProcessEnv = {}) => loop.synth(extra);
const envctl = (...args: string[]) => loop.envctl(...args);
const must = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => loop.must(cmd, args, extra);

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
const markdown = (lines: string[]) =>
  [
    "## Plan summary",
    "",
    "| environment | stack | create | update | replace | delete |",
    "|---|---|---:|---:|---:|---:|",
    ...lines,
    "",
    "",
  ].join("\n");
/** plan-summary's Markdown of a dev-traffic plan that creates or updates the one rule. */
const trafficMarkdown = (createUpdate: string, traffic: string, action: "create" | "update") =>
  markdown([
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
  loop = await localLoop();
  dir = loop.dir;
  engine = loop.engine;
}, 120_000);

afterAll(async () => {
  await loop?.stop();
});

describe.sequential("real engine against the emulator", () => {
  it("1. tofu init && tofu validate pass for every synthesized stack", async () => {
    await synth({ ENVSTACK_BACKEND: "local" });
    const stacks = readdirSync(join(dir, "cdktf.out/stacks")).sort();
    expect(stacks).toEqual(
      expect.arrayContaining([
        "bootstrap-123456789012",
        "bootstrap-222222222222",
        "bootstrap-333333333333",
        "dev",
        "dev-traffic",
        "global",
        "production",
        "production-traffic",
        "production-workloads",
        "staging",
        "staging-traffic",
        "staging-workloads",
      ]),
    );
    for (const stack of stacks) {
      const d = stackDir(dir, stack);
      await engine.ok(d, ["init", "-input=false", "-no-color", "-backend=false"]);
      const v = await engine.run(d, ["validate", "-no-color", "-json"]);
      const result = JSON.parse(v.stdout);
      expect({
        stack,
        valid: result.valid,
        errors: result.diagnostics?.filter((x: any) => x.severity === "error").map((x: any) => x.summary),
      }).toEqual({ stack, valid: true, errors: [] });
    }
  }, 900_000);

  it("2. deploys dev through cdktf deploy with OpenTofu, its CloudWatch alarms included; the rule reads back blue 100 / green 0", async () => {
    await loop.deploy("bootstrap", "dev");
    // the reviewer's view of a real plan that adds the traffic stack
    const added = await planSummaryOf("dev-traffic", "add");
    expect(added.status).toBe(0);
    expect(added.out).toBe(trafficMarkdown("1 | 0", "blue – → 100, green – → 0", "create"));
    await loop.deploy("dev-traffic");
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 100, green: 0 });
    // the alarms the rollout gate reads were made by the provider (CloudWatch over CBOR, through the proxy)
    const cw = new CloudWatchClient(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }));
    const names = [...slotAlarmNames("dev", "blue"), ...slotAlarmNames("dev", "green")];
    const alarms = await cw.send(new DescribeAlarmsCommand({ AlarmNames: names }));
    expect(alarms.MetricAlarms?.map((a) => a.AlarmName).sort()).toEqual([...names].sort());
    expect((await loop.emulator.translated()).PutMetricAlarm).toBeGreaterThanOrEqual(names.length);
    const elb = new ElasticLoadBalancingV2Client(
      awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }),
    );
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
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 75, green: 25 });
    // envctl status --live reads what runs back: the rule's weights and each slot's target health
    const agrees = await envctl("status", "dev", "--live", "--json");
    expect(agrees.status, agrees.out).toBe(0);
    const live = JSON.parse(agrees.out.slice(agrees.out.indexOf("{")));
    expect(live.slotsLive.map((r: any) => [r.slot, r.weight])).toEqual([
      ["blue", { file: 75, alb: 75 }],
      ["green", { file: 25, alb: 25 }],
    ]);
    expect(live.slotsLive.map((r: any) => r.targets)).toEqual(LIVE_TARGETS);
    expect(live.slotsLive.flatMap((r: any) => r.alarms.map((a: any) => a.state))).toEqual(Array(6).fill("OK"));
    // weights changed behind the file's back are marked, exit 2
    await albTraffic("dev", { region: "eu-west-1", endpoint: loop.emulator.endpoint }).write({ blue: 50, green: 50 });
    const differs = await envctl("status", "dev", "--live");
    expect(differs.status).toBe(2);
    expect(differs.out).toContain("≠ green: the ALB serves 50 %, the release file says 25 %");
    // A mitigation never moves traffic while the ALB serves a split nobody recorded: it stops, nothing moved.
    const refused = await envctl("rollback", "dev");
    expect(refused.status, refused.out).toBe(1);
    expect(refused.out).toContain("dev: the ALB serves blue 50 / green 50, which neither");
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 50, green: 50 });
    // The file's weights deployed again (the way forward it names), then the rollback goes.
    expect((await envctl("shift", "dev", "--to", "blue", "--percent", "75")).status).toBe(0);
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 75, green: 25 });
    expect((await envctl("rollback", "dev")).status).toBe(0);
  }, 900_000);

  it("5. a second plan right after apply is empty for every deployed stack", async () => {
    await synth();
    for (const stack of ["dev", "dev-traffic"]) {
      const d = stackDir(dir, stack);
      await engine.init(d);
      const { changed, json } = await engine.planJson(d, "again.tfplan");
      const changes = (json.resource_changes ?? []).filter(
        (c: any) => !c.change.actions.includes("no-op") && !c.change.actions.includes("read"),
      );
      const describe = (c: any) =>
        `${c.address} ${c.change.actions}: ${JSON.stringify(
          Object.fromEntries(
            Object.keys(c.change.after ?? {})
              .filter((k) => JSON.stringify(c.change.before?.[k]) !== JSON.stringify(c.change.after?.[k]))
              .map((k) => [k, [c.change.before?.[k], c.change.after?.[k]]]),
          ),
        )}`;
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
    // the backup selection names the database's ARN: a new database is a new selection, as on AWS
    const selection = `aws_backup_selection.${Object.keys(tf.resource.aws_backup_selection)[0]}`;
    expect(guard.out).toBe(
      `${markdown([
        "| dev | dev | 0 | 0 | 2 | 0 |",
        "",
        "### dev",
        "",
        "#### dev: 2 changes",
        "",
        `- replace: \`${selection}\``,
        `- replace: \`${db}\``,
        "",
        "### Risk",
        "",
        "**BLOCKING**: stateful resources would be replaced or deleted:",
        "",
        `- dev / dev: replace \`${db}\` (aws_db_instance)`,
        "",
        "Other replacements and deletions:",
        "",
        `- dev: replace \`${selection}\``,
      ])}blocked: stateful resources would be replaced or deleted:\n  - dev: replace ${db}\n`,
    );
    await synth(); // restore the real configuration
  }, 900_000);

  it("drift: a target group changed behind the engine's back is reported, exit 2", async () => {
    const elb = new ElasticLoadBalancingV2Client(
      awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }),
    );
    const tgs = await elb.send(new DescribeTargetGroupsCommand({ Names: ["dev-app-green"] }));
    await elb.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: tgs.TargetGroups![0]!.TargetGroupArn,
        HealthCheckPath: "/changed-by-hand",
      }),
    );
    const r = await envctl("drift", "dev", "--json");
    expect(r.status).toBe(2);
    // progress per stack on stderr ("[<time>] ▶ drift 1/2: dev ..."), then the JSON on stdout
    expect(r.out).toMatch(/✔ drift 1\/2: dev \(init, refresh-only plan\) \(\d+\.\d s\)\n.*▶ drift 2\/2: dev-traffic/);
    const report = JSON.parse(r.out.slice(r.out.indexOf("[\n")));
    expect(report).toEqual([
      {
        stack: "dev",
        status: "drifted",
        severity: "high",
        resources: [
          {
            address: expect.stringMatching(/^aws_lb_target_group\.load-balancer_tg-green_[0-9A-F]+$/),
            attributes: ["health_check"],
            classes: [{ attribute: "health_check", severity: "high", rule: "*.health_check" }],
          },
        ],
      },
      { stack: "dev-traffic", status: "in sync", severity: null, resources: [] },
    ]);
  }, 900_000);

  it("6. destroy leaves the emulator without the environment's resources", async () => {
    for (const stack of ["dev-traffic", "dev"])
      await must(CDKTF, [
        "destroy",
        stack,
        "--auto-approve",
        "--skip-provider-lock",
        "--ignore-missing-stack-dependencies",
      ]);
    const elb = new ElasticLoadBalancingV2Client(
      awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }),
    );
    const lbs = await elb.send(new DescribeLoadBalancersCommand({}));
    expect(lbs.LoadBalancers?.filter((l) => l.LoadBalancerName?.startsWith("dev-")) ?? []).toEqual([]);
    const ec2 = new EC2Client(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }));
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:Environment", Values: ["dev"] }] }));
    expect(vpcs.Vpcs ?? []).toEqual([]);
  }, 900_000);
});
