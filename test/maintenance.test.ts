/**
 * Maintenance mode: the traffic stack's 503 page ahead of the weighted rule as
 * Terraform JSON, the direct listener write of lib/aws/maintenance.ts against a fake ELB client,
 * and `envctl maintenance` in process: the direct write and its read-back before the deploy, only
 * the traffic stack deployed, the fast rules removed after, status and history, and a rollout
 * refused while it is on.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { beforeAll, describe, expect, it } from "vitest";
import { AlbMaintenance } from "../lib/aws/maintenance.ts";
import { MAINTENANCE_PRIORITIES, WEIGHTED_RULE_PRIORITY } from "../lib/constructs/naming.ts";
import type { Maintenance } from "../lib/release/model/maintenance.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";
import { FakeMaintenance } from "./support/fake-maintenance.ts";
import { FakeAlb } from "./support/fakes.ts";
import { resources, type Synthesized, synthRepo, tempProject } from "./support/project.ts";

const PAGE = "<h1>Back at 14:00 UTC</h1>";
const ON: Maintenance = {
  message: PAGE,
  allowCidrs: ["203.0.113.0/24", "198.51.100.7/32"],
  allowHeader: { name: "X-Maintenance-Bypass", secret: { id: "webapp/dev/maintenance-bypass", version: "v-1" } },
  since: "2026-11-22T10:00:00.000Z",
  by: "alice",
};

describe("the traffic stack in maintenance (synthesized Terraform JSON)", () => {
  let on: Synthesized;
  beforeAll(async () => {
    on = await synthRepo({ releases: { dev: { maintenance: ON } } });
  }, 120_000);

  const rules = (s: Synthesized, stack: string) => resources(s.stack(stack), "aws_lb_listener_rule");

  it("puts a fixed-response 503 page ahead of the weighted rule, on the same listener, for every path", () => {
    const all = rules(on, "dev-traffic");
    const weighted = all.find((r) => r.action[0].type === "forward" && r.priority === WEIGHTED_RULE_PRIORITY);
    const page = all.find((r) => r.action[0].type === "fixed-response");
    expect(weighted).toBeDefined();
    expect(page).toMatchObject({
      priority: MAINTENANCE_PRIORITIES.stack.page,
      condition: [{ path_pattern: { values: ["/*"] } }],
      action: [
        {
          type: "fixed-response",
          fixed_response: { status_code: "503", content_type: "text/html", message_body: PAGE },
        },
      ],
      tags: { Name: "dev-maintenance-page" },
    });
    expect(page.priority).toBeLessThan(weighted.priority);
    expect(page.listener_arn).toBe(weighted.listener_arn);
  });

  it("lets the testers' CIDRs through before the page, forwarding with the weighted rule's weights", () => {
    const all = rules(on, "dev-traffic");
    const weighted = all.find((r) => r.priority === WEIGHTED_RULE_PRIORITY);
    const cidr = all.find((r) => r.priority === MAINTENANCE_PRIORITIES.stack.cidr);
    expect(cidr.condition).toEqual([{ source_ip: { values: ["203.0.113.0/24", "198.51.100.7/32"] } }]);
    expect(cidr.priority).toBeLessThan(MAINTENANCE_PRIORITIES.stack.page);
    expect(cidr.action).toEqual(weighted.action);
  });

  it("never puts the bypass header in Terraform: no header rule, and neither the secret's value nor its id in the JSON", () => {
    const all = rules(on, "dev-traffic");
    expect(all.some((r) => JSON.stringify(r.condition).includes("http_header"))).toBe(false);
    for (const text of Object.values(on.text)) {
      expect(text).not.toContain("7f3a9c");
      expect(text).not.toContain("X-Maintenance-Bypass");
    }
  });

  it("leaves the environment stack and the other environments untouched", async () => {
    const off = await synthRepo();
    expect(on.text.dev).toBe(off.text.dev);
    expect(on.text["staging-traffic"]).toBe(off.text["staging-traffic"]);
    expect(rules(off, "dev-traffic").map((r) => r.priority)).toEqual([WEIGHTED_RULE_PRIORITY]);
  }, 120_000);

  it("adds no bypass rule unless one is given", async () => {
    const bare = await synthRepo({ releases: { dev: { maintenance: { ...ON, allowCidrs: [], allowHeader: null } } } });
    expect(
      rules(bare, "dev-traffic")
        .map((r) => r.priority)
        .sort((a, b) => a - b),
    ).toEqual([MAINTENANCE_PRIORITIES.stack.page, WEIGHTED_RULE_PRIORITY]);
  }, 120_000);
});

describe("lib/aws/maintenance.ts: the direct write", () => {
  const LB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dev-alb/1";
  const LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/dev-alb/1/2";
  const TG = (s: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/dev-app-${s}/${s}`;
  function fakeElb() {
    const rules: any[] = [
      {
        RuleArn: "weighted",
        Priority: String(WEIGHTED_RULE_PRIORITY),
        Actions: [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: TG("blue"), Weight: 90 },
                { TargetGroupArn: TG("green"), Weight: 10 },
              ],
            },
          },
        ],
      },
    ];
    const sent: any[] = [];
    const client = {
      send: async (c: any) => {
        sent.push(c);
        if (c instanceof DescribeLoadBalancersCommand) return { LoadBalancers: [{ LoadBalancerArn: LB }] };
        if (c instanceof DescribeListenersCommand) return { Listeners: [{ ListenerArn: LISTENER }] };
        if (c instanceof DescribeRulesCommand) return { Rules: rules.map((r) => ({ ...r })) };
        if (c instanceof CreateRuleCommand) {
          rules.push({
            RuleArn: `r${c.input.Priority}`,
            Priority: String(c.input.Priority),
            Conditions: c.input.Conditions,
            Actions: c.input.Actions,
          });
          return {};
        }
        if (c instanceof ModifyRuleCommand) {
          rules.find((r) => r.RuleArn === c.input.RuleArn).Actions = c.input.Actions;
          return {};
        }
        if (c instanceof DeleteRuleCommand) {
          rules.splice(
            rules.findIndex((r) => r.RuleArn === c.input.RuleArn),
            1,
          );
          return {};
        }
        throw new Error("unexpected command");
      },
    };
    return { client, rules, sent };
  }
  /** The bypass secret as Secrets Manager holds it; `reads` records each read. */
  const secrets = (value = "7f3a9c") => {
    const reads: string[] = [];
    return {
      reads,
      read: async (id: string, version?: string) => {
        reads.push(`${id}@${version ?? "current"}`);
        if (id !== "webapp/dev/maintenance-bypass") throw new Error(`could not read ${id}: ResourceNotFoundException`);
        return { version: "v-1", value };
      },
    };
  };

  it("creates the bypasses, then the page, in the fast band ahead of the weighted rule, and reads them back", async () => {
    const f = fakeElb();
    const s = secrets();
    const m = new AlbMaintenance(f.client, "dev", s);
    await m.on(ON);
    const created: any[] = f.sent.filter((c) => c instanceof CreateRuleCommand).map((c) => c.input);
    expect(created.map((c) => c.Priority)).toEqual([
      MAINTENANCE_PRIORITIES.fast.cidr,
      MAINTENANCE_PRIORITIES.fast.header,
      MAINTENANCE_PRIORITIES.fast.page,
    ]);
    expect(created[0].Conditions).toEqual([{ Field: "source-ip", SourceIpConfig: { Values: ON.allowCidrs } }]);
    expect(created[1].Conditions).toEqual([
      { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Maintenance-Bypass", Values: ["7f3a9c"] } },
    ]);
    // The bypasses forward with the weights the ALB serves now.
    expect(created[0].Actions[0].ForwardConfig.TargetGroups).toEqual([
      { TargetGroupArn: TG("blue"), Weight: 90 },
      { TargetGroupArn: TG("green"), Weight: 10 },
    ]);
    expect(created[2].Actions).toEqual([
      {
        Type: "fixed-response",
        FixedResponseConfig: { StatusCode: "503", ContentType: "text/html", MessageBody: PAGE },
      },
    ]);
    // The header's value came from the secret, at the version the release file records.
    expect(s.reads).toEqual(["webapp/dev/maintenance-bypass@v-1"]);
    const back = await m.read();
    expect(back).toEqual({
      priorities: [40, 41, 42],
      page: { statusCode: "503", body: PAGE, priority: 42 },
      weightedPriority: WEIGHTED_RULE_PRIORITY,
    });
  });

  it("writes nothing when the bypass secret cannot be read, or holds what a header condition cannot match", async () => {
    const f = fakeElb();
    const m = new AlbMaintenance(f.client, "dev", secrets());
    const other = { ...ON, allowHeader: { name: "X-B", secret: { id: "webapp/dev/other", version: "v-1" } } };
    await expect(m.on(other)).rejects.toThrow(/could not read webapp\/dev\/other/);
    expect(f.sent.some((c) => c instanceof CreateRuleCommand || c instanceof DeleteRuleCommand)).toBe(false);
    const { bypassSecrets } = await import("../lib/aws/bypass-secret.ts");
    const sm = (SecretString: string) =>
      bypassSecrets(
        { region: "eu-west-1" } as never,
        { send: async () => ({ VersionId: "v-2", SecretString }) } as never,
      );
    await expect(sm("has a space").read("webapp/dev/x")).rejects.toThrow(
      /secret webapp\/dev\/x must hold 1-128 visible ASCII characters .*its value is not shown/,
    );
    await expect(sm("has a space").read("webapp/dev/x")).rejects.not.toThrow(/has a space/);
    expect(await sm("ok-token").read("webapp/dev/x")).toEqual({ version: "v-2", value: "ok-token" });
  });

  it("removes the fast page and CIDR bypass only (the header bypass stays: the stack has none), or every rule; never the weighted rule", async () => {
    const f = fakeElb();
    const m = new AlbMaintenance(f.client, "dev", secrets());
    await m.on(ON);
    f.rules.push({
      RuleArn: "stack-page",
      Priority: String(MAINTENANCE_PRIORITIES.stack.page),
      Actions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "503", MessageBody: PAGE } }],
    });
    await m.remove("fast");
    expect(f.rules.map((r) => r.RuleArn)).toEqual(["weighted", "r41", "stack-page"]);
    // After a shift, the header bypass follows the weighted rule's new weights.
    f.rules[0].Actions[0].ForwardConfig.TargetGroups = [
      { TargetGroupArn: TG("blue"), Weight: 0 },
      { TargetGroupArn: TG("green"), Weight: 100 },
    ];
    expect(await m.syncBypass()).toBe(true);
    expect(f.rules[1].Actions[0].ForwardConfig.TargetGroups.map((g: any) => g.Weight)).toEqual([0, 100]);
    await m.remove("all");
    expect(f.rules.map((r) => r.RuleArn)).toEqual(["weighted"]);
    expect((await m.read()).page).toBeNull();
  });
});

function harness() {
  const dir = tempProject();
  const log: string[] = [];
  const alb = new FakeAlb();
  const sw = new FakeMaintenance(log);
  const h = envctlInProcess({
    dir,
    runAs: { GITHUB_ACTOR: "alice", CI: "1" },
    deps: () => ({
      deployer: {
        deploy: async (stacks) => {
          log.push(`deploy ${stacks.join(" ")}`);
          for (const s of stacks)
            if (s === "dev-traffic") {
              alb.deployFrom(dir, "dev");
              sw.deployFrom(dir, "dev");
            }
        },
      },
      traffic: () => alb,
      maintenance: () => sw,
    }),
  });
  const { lines, deps } = h;
  const release = () => JSON.parse(readFileSync(join(dir, "environments/releases/dev.json"), "utf8"));
  const audit = () =>
    readFileSync(join(dir, "environments/releases/dev.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
  return {
    dir,
    log,
    lines,
    sw,
    alb,
    deps,
    release,
    audit,
    run: h.run,
    text: h.text,
  };
}

describe("envctl maintenance", () => {
  it("on: writes the page to the listener and reads it back first, then deploys only the traffic stack, then removes the fast rules", async () => {
    const h = harness();
    expect(
      await h.run(
        "maintenance",
        "dev",
        "on",
        "--message",
        PAGE,
        "--allow-cidr",
        "203.0.113.0/24",
        "--allow-header",
        "X-Maintenance-Bypass",
        "--bypass-secret",
        "webapp/dev/maintenance-bypass",
      ),
    ).toBe(0);
    expect(h.log).toEqual(["direct on", "read", "deploy dev-traffic", "sync bypass", "remove fast", "read"]);
    expect(h.sw.stack).toMatchObject({ message: PAGE, allowCidrs: ["203.0.113.0/24"] });
    expect(h.sw.fast).toBeNull();
    // The header bypass is envctl's rule, with the secret's value; the file names the secret only.
    expect(h.sw.header).toEqual({ name: "X-Maintenance-Bypass", value: "7f3a9c" });
    expect(h.release().maintenance).toMatchObject({
      message: PAGE,
      by: "alice (ci)",
      allowHeader: { name: "X-Maintenance-Bypass", secret: { id: "webapp/dev/maintenance-bypass", version: "v-1" } },
    });
    const files = ["dev.json", "dev.audit.jsonl"].map((f) =>
      readFileSync(join(h.dir, "environments/releases", f), "utf8"),
    );
    for (const text of [...files, h.text()]) expect(text).not.toContain("7f3a9c");
    expect(h.audit().at(-1)).toMatchObject({
      outcome: "maintenance-on",
      command:
        "envctl maintenance dev on --message … --allow-cidr 203.0.113.0/24 --allow-header X-Maintenance-Bypass " +
        "--bypass-secret webapp/dev/maintenance-bypass",
    });
    expect(h.text()).toMatch(
      /serves the maintenance page \(503, priority 42, ahead of the weighted rule at 100\); written and read back in \d+ ms/,
    );
    expect(h.text()).toContain("converged: the traffic stack's page serves at priority 52");
    expect(h.text()).toContain("MAINTENANCE since");
  });

  it("status shows it; a rollout refuses to start while it is on; off removes every rule first, then deploys", async () => {
    const h = harness();
    expect(await h.run("maintenance", "dev", "on")).toBe(0);
    h.lines.length = 0;
    expect(await h.run("status", "dev")).toBe(0);
    expect(h.text()).toMatch(/MAINTENANCE since .* by alice \(ci\): users get the 503 page; no bypass/);
    expect(await h.run("status", "dev", "--json")).toBe(0);
    expect(JSON.parse(h.lines.at(-1)!).maintenance).toMatchObject({
      by: "alice (ci)",
      allowCidrs: [],
      allowHeader: null,
    });
    expect(await h.run("stage", "dev", "--version", "1.6.0")).toBe(0);
    h.lines.length = 0;
    expect(await h.run("rollout", "dev")).toBe(1);
    expect(h.text()).toContain("dev is in maintenance");
    expect(h.release().rollout).toBeNull();
    h.log.length = 0;
    expect(await h.run("maintenance", "dev", "off")).toBe(0);
    expect(h.log).toEqual(["remove all", "read", "deploy dev-traffic", "read"]);
    expect(h.release().maintenance).toBeUndefined();
    expect(h.audit().at(-1)).toMatchObject({ outcome: "maintenance-off" });
    h.lines.length = 0;
    expect(await h.run("maintenance", "dev", "off")).toBe(0);
    expect(h.text()).toContain("nothing to change: not in maintenance");
  });

  it("a rollout paused at a manual pause may be put in maintenance, but does not continue until it is off", async () => {
    const h = harness();
    const f = join(h.dir, "environments/dev.ts");
    writeFileSync(
      f,
      readFileSync(f, "utf8").replace(
        /canary: \[[^\]]*\]/,
        'canary: [{ percent: 10, bakeSeconds: 300 }, { pause: "manual" }, { percent: 100, bakeSeconds: 300 }]',
      ),
    );
    expect(await h.run("stage", "dev", "--version", "1.6.0"), h.text()).toBe(0);
    // the canary at 10 % waiting at the pause, as a rollout leaves it
    const r = JSON.parse(readFileSync(join(h.dir, "environments/releases/dev.json"), "utf8"));
    r.slots.green.weight = 10;
    r.slots.blue.weight = 90;
    r.history.find((x: { version: string }) => x.version === "1.6.0").served = true;
    r.rollout = {
      target: "green",
      nextStep: 2,
      steps: [{ percent: 10, bakeSeconds: 300 }, { pause: "manual" }, { percent: 100, bakeSeconds: 300 }],
      before: { blue: 100, green: 0 },
      startedAt: "2026-11-22T10:00:00.000Z",
      paused: true,
      extensions: 0,
    };
    writeFileSync(join(h.dir, "environments/releases/dev.json"), `${JSON.stringify(r, null, 2)}\n`);
    expect(await h.run("maintenance", "dev", "on"), h.text()).toBe(0);
    h.lines.length = 0;
    expect(await h.run("rollout", "dev", "--continue")).toBe(1);
    expect(h.text()).toContain("dev is in maintenance");
    expect(h.text()).toContain("the rollout of green waits (step 2/3)");
    expect(JSON.parse(readFileSync(join(h.dir, "environments/releases/dev.json"), "utf8")).rollout.paused).toBe(true);
  });

  it("a bypass header whose secret cannot be read, or with --no-deploy, is refused with nothing written", async () => {
    const h = harness();
    const before = readFileSync(join(h.dir, "environments/releases/dev.json"), "utf8");
    const args = ["maintenance", "dev", "on", "--allow-header", "X-Maintenance-Bypass", "--bypass-secret"];
    expect(await h.run(...args, "webapp/dev/missing")).toBe(1);
    expect(h.text()).toMatch(/nothing changed: could not read the bypass header's secret webapp\/dev\/missing/);
    h.lines.length = 0;
    expect(await h.run(...args, "webapp/dev/maintenance-bypass", "--no-deploy")).toBe(1);
    expect(h.text()).toMatch(/--allow-header needs the deploy: envctl writes the bypass rule itself/);
    expect(readFileSync(join(h.dir, "environments/releases/dev.json"), "utf8")).toBe(before);
    expect(h.log.filter((l) => l !== "read")).toEqual([]);
  });

  it("a rotated secret is a change (its new version recorded, the rule rewritten); the same one is nothing to change", async () => {
    const h = harness();
    const args = [
      "maintenance",
      "dev",
      "on",
      "--allow-header",
      "X-B",
      "--bypass-secret",
      "webapp/dev/maintenance-bypass",
    ];
    expect(await h.run(...args)).toBe(0);
    h.lines.length = 0;
    expect(await h.run(...args)).toBe(0);
    expect(h.text()).toContain("nothing to change: in maintenance since");
    h.sw.secrets.set("webapp/dev/maintenance-bypass", { version: "v-2", value: "rotated-token" });
    expect(await h.run(...args)).toBe(0);
    expect(h.release().maintenance.allowHeader.secret.version).toBe("v-2");
    expect(h.sw.header).toEqual({ name: "X-B", value: "rotated-token" });
  });

  it("refuses a release file that holds the bypass header's values, naming the rule", async () => {
    const h = harness();
    const r = h.release();
    r.maintenance = { ...ON, allowHeader: { name: "X-B", values: ["leaked"] } };
    writeFileSync(join(h.dir, "environments/releases/dev.json"), `${JSON.stringify(r, null, 2)}\n`);
    expect(await h.run("status", "dev")).not.toBe(0);
    expect(h.text()).toMatch(/maintenance\.allowHeader.*must not hold the header's values: they are secrets/s);
  });

  it("still switches through the deploy when the listener cannot be written directly (and says so)", async () => {
    const h = harness();
    h.sw.fail = true;
    expect(await h.run("maintenance", "dev", "on")).toBe(0);
    expect(h.text()).toContain("could not write maintenance on to the listener directly");
    expect(h.log.filter((l) => l.startsWith("deploy"))).toEqual(["deploy dev-traffic"]);
    expect(h.sw.stack).not.toBeNull();
  });

  it.each([
    [["maintenance", "dev", "sideways"], "maintenance: <state>|--state", /must be on or off/],
    [["maintenance", "dev", "on", "--allow-cidr", "10.0.0.0/33"], "--allow-cidr", /must be a CIDR block/],
    [
      ["maintenance", "dev", "on", "--allow-header", "X-B=7f3a9c", "--bypass-secret", "s"],
      "--allow-header",
      /its value is a secret/,
    ],
    [["maintenance", "dev", "on", "--allow-header", "X-B"], "--bypass-secret", /goes with --allow-header/],
    [["maintenance", "dev", "on", "--bypass-secret", "a b"], "--bypass-secret", /Secrets Manager secret name or ARN/],
    [["maintenance", "dev", "on", "--message", "x".repeat(1025)], "--message", /at most 1024 characters/],
    [["maintenance", "dev", "on", "--message", '${file("/etc/passwd")}'], "--message", /Terraform template sequence/],
    [["maintenance", "dev", "off", "--message", "hi"], "--state", /go with on/],
  ])("refuses %j: exit 1 naming the flag, nothing written or deployed", async (argv, flag, rule) => {
    const h = harness();
    const before = readFileSync(join(h.dir, "environments/releases/dev.json"), "utf8");
    expect(await h.run(...argv)).toBe(1);
    const text = h.text();
    expect(text).toMatch(rule);
    expect(text).toContain(flag.split("|").at(-1)!);
    expect(text).not.toMatch(/internal error|\n\s+at /);
    expect(readFileSync(join(h.dir, "environments/releases/dev.json"), "utf8")).toBe(before);
    expect(h.log).toEqual([]);
  });
});
