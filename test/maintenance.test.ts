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
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { beforeAll, describe, expect, it } from "vitest";
import { AlbMaintenance } from "../lib/aws/maintenance.ts";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { MAINTENANCE_PRIORITIES, WEIGHTED_RULE_PRIORITY } from "../lib/constructs/naming.ts";
import type { Maintenance } from "../lib/release/model/maintenance.ts";
import type { MaintenanceRules, MaintenanceSwitch } from "../lib/release/ports/index.ts";
import { FakeAlb, FakeClock, FakeWorkloads } from "./support/fakes.ts";
import { resources, type Synthesized, synthRepo, tempProject } from "./support/project.ts";

const PAGE = "<h1>Back at 14:00 UTC</h1>";
const ON: Maintenance = {
  message: PAGE,
  allowCidrs: ["203.0.113.0/24", "198.51.100.7/32"],
  allowHeader: { name: "X-Maintenance-Bypass", values: ["7f3a9c"] },
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

  it("lets the testers through before the page: their CIDRs and their header forward with the weighted rule's weights", () => {
    const all = rules(on, "dev-traffic");
    const weighted = all.find((r) => r.priority === WEIGHTED_RULE_PRIORITY);
    const cidr = all.find((r) => r.priority === MAINTENANCE_PRIORITIES.stack.cidr);
    const header = all.find((r) => r.priority === MAINTENANCE_PRIORITIES.stack.header);
    expect(cidr.condition).toEqual([{ source_ip: { values: ["203.0.113.0/24", "198.51.100.7/32"] } }]);
    expect(header.condition).toEqual([
      { http_header: { http_header_name: "X-Maintenance-Bypass", values: ["7f3a9c"] } },
    ]);
    for (const bypass of [cidr, header]) {
      expect(bypass.priority).toBeLessThan(MAINTENANCE_PRIORITIES.stack.page);
      expect(bypass.action).toEqual(weighted.action);
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

  it("creates the bypasses, then the page, in the fast band ahead of the weighted rule, and reads them back", async () => {
    const f = fakeElb();
    const m = new AlbMaintenance(f.client, "dev");
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
    const back = await m.read();
    expect(back).toEqual({
      priorities: [40, 41, 42],
      page: { statusCode: "503", body: PAGE, priority: 42 },
      weightedPriority: WEIGHTED_RULE_PRIORITY,
    });
  });

  it("removes the fast band only, or every maintenance rule; never the weighted rule", async () => {
    const f = fakeElb();
    const m = new AlbMaintenance(f.client, "dev");
    await m.on(ON);
    f.rules.push({
      RuleArn: "stack-page",
      Priority: String(MAINTENANCE_PRIORITIES.stack.page),
      Actions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "503", MessageBody: PAGE } }],
    });
    await m.remove("fast");
    expect(f.rules.map((r) => r.RuleArn)).toEqual(["weighted", "stack-page"]);
    await m.remove("all");
    expect(f.rules.map((r) => r.RuleArn)).toEqual(["weighted"]);
    expect((await m.read()).page).toBeNull();
  });
});

/** The listener's maintenance rules, in memory; records every call in `log`. */
class FakeMaintenance implements MaintenanceSwitch {
  fast: Maintenance | null = null;
  stack: Maintenance | null = null;
  fail = false;
  constructor(readonly log: string[]) {}
  async read(): Promise<MaintenanceRules> {
    this.log.push("read");
    const band = (m: Maintenance | null, b: "fast" | "stack") =>
      m
        ? [
            ...(m.allowCidrs.length ? [MAINTENANCE_PRIORITIES[b].cidr] : []),
            ...(m.allowHeader ? [MAINTENANCE_PRIORITIES[b].header] : []),
            MAINTENANCE_PRIORITIES[b].page,
          ]
        : [];
    const pageOf = this.fast ? { m: this.fast, p: 42 } : this.stack ? { m: this.stack, p: 52 } : null;
    return {
      priorities: [...band(this.fast, "fast"), ...band(this.stack, "stack")],
      page: pageOf ? { statusCode: "503", body: pageOf.m.message, priority: pageOf.p } : null,
      weightedPriority: WEIGHTED_RULE_PRIORITY,
    };
  }
  async on(m: Maintenance): Promise<void> {
    if (this.fail) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    this.log.push("direct on");
    this.fast = m;
  }
  async remove(which: "fast" | "all"): Promise<void> {
    this.log.push(`remove ${which}`);
    this.fast = null;
    if (which === "all") this.stack = null;
  }
  /** What the traffic stack's deploy does to the listener: its rules follow the release file. */
  deployFrom(dir: string, env: string): void {
    const r = JSON.parse(readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8"));
    this.stack = r.maintenance ?? null;
  }
}

function harness() {
  const dir = tempProject();
  const log: string[] = [];
  const lines: string[] = [];
  const alb = new FakeAlb();
  const sw = new FakeMaintenance(log);
  const clock = new FakeClock();
  const deps: Deps = {
    cwd: dir,
    env: { ...process.env, GITHUB_ACTOR: "alice", CI: "1" },
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
    workloads: (e) => new FakeWorkloads(dir, e.name),
    maintenance: () => sw,
    progress: new PlainProgress((l) => lines.push(l), clock.now),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    clock,
  };
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
    run: (...a: string[]) => main(["node", "envctl", ...a], deps),
    text: () => lines.join("\n"),
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
        "X-Maintenance-Bypass=7f3a9c",
      ),
    ).toBe(0);
    expect(h.log).toEqual(["direct on", "read", "deploy dev-traffic", "remove fast", "read"]);
    expect(h.sw.stack).toMatchObject({
      message: PAGE,
      allowCidrs: ["203.0.113.0/24"],
      allowHeader: { name: "X-Maintenance-Bypass", values: ["7f3a9c"] },
    });
    expect(h.sw.fast).toBeNull();
    expect(h.release().maintenance).toMatchObject({ message: PAGE, by: "alice (ci)" });
    expect(h.audit().at(-1)).toMatchObject({
      outcome: "maintenance-on",
      command:
        "envctl maintenance dev on --message … --allow-cidr 203.0.113.0/24 --allow-header X-Maintenance-Bypass=…",
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
    [["maintenance", "dev", "on", "--allow-header", "novalue"], "--allow-header", /must be Name=value/],
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
