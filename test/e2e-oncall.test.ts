/**
 * The on-call loop end to end: OpenTofu + the real AWS provider deploy dev
 * to moto; then
 * - maintenance on and off: the page is on the listener, read back, ahead of the weighted rule, and
 *   the engine's plan of the traffic stack is empty afterwards;
 * - drift made behind the engine's back (a security-group rule added with the EC2 API, a tag added
 *   to the weighted listener rule with the ELB API) is reported as critical and low, and
 *   `--heal low` repairs only the tag's stack;
 * - notifications reach a local HTTP receiver with a valid HMAC signature (checked here with
 *   node:crypto alone);
 * - a receiver that never answers adds no more than 100 ms to a gate-triggered rollback's time to
 *   mitigate (the ALB's write and read-back, which envctl prints).
 * The playground's dev uses short windows (useShortWindows). Never skipped: needs `npm run setup:engine`.
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../lib/aws/clients.ts";
import type { Slot } from "../lib/config/schema.ts";
import { MAINTENANCE_PRIORITIES, WEIGHTED_RULE_PRIORITY } from "../lib/constructs/naming.ts";
import { readWeights, users, useShortWindows } from "../lib/demo/demo.ts";
import { SyntheticAlbTraffic } from "../lib/demo/synthetic-traffic.ts";
import { stackDir } from "../lib/engine/engine.ts";
import { DELIVERY_HEADER } from "../lib/notify/deliver.ts";
import { type HealthStandIn, healthStandIn, type LocalLoop, localLoop, rolloutUnderTraffic } from "./support/e2e.ts";

const KEY = "e2e-signing-key";
const PAGE = "<h1>dev is down for maintenance</h1>";

let loop: LocalLoop;
let smoke: HealthStandIn;
let traffic: SyntheticAlbTraffic;
let receiver: { url: string; got: { headers: IncomingMessage["headers"]; body: string; at: number }[]; server: Server };
let hanging: { url: string; got: number; server: Server };

const history = () =>
  readFileSync(join(loop.dir, "environments/releases/dev.audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const release = () => JSON.parse(readFileSync(join(loop.dir, "environments/releases/dev.json"), "utf8"));
const elb = () =>
  new ElasticLoadBalancingV2Client(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }, 3));
const events = () =>
  receiver.got.map(
    (r) => JSON.parse(r.body) as { event: string; severity: string; reason: string; evidence: string | null },
  );

/** The HMAC a receiver computes over `<timestamp>.<raw body>` with the shared key. */
function signedWith(r: { headers: IncomingMessage["headers"]; body: string }, key: string): boolean {
  const expected = Buffer.from(
    `sha256=${createHmac("sha256", key)
      .update(`${String(r.headers["x-envstack-timestamp"])}.${r.body}`)
      .digest("hex")}`,
  );
  const given = Buffer.from(String(r.headers["x-envstack-signature"]));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Every rule of dev's listener: priority, type of its first action, and the rule itself. */
async function listenerRules(): Promise<{ priority: string; type: string; rule: any }[]> {
  const c = elb();
  const lbs = await c.send(new DescribeLoadBalancersCommand({ Names: ["dev-alb"] }));
  const listeners = await c.send(
    new DescribeListenersCommand({ LoadBalancerArn: lbs.LoadBalancers![0]!.LoadBalancerArn }),
  );
  const all = [];
  for (const l of listeners.Listeners ?? []) {
    const rules = await c.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }));
    all.push(
      ...(rules.Rules ?? [])
        .filter((r) => r.Priority !== "default")
        .map((r) => ({ priority: r.Priority!, type: r.Actions?.[0]?.Type ?? "", rule: r })),
    );
  }
  return all.sort((a, b) => Number(a.priority) - Number(b.priority));
}

/** The engine's plan of a stack after a fresh synth: true when it would change something. */
async function planChanges(stack: string): Promise<boolean> {
  await loop.synth();
  const d = stackDir(loop.dir, stack);
  await loop.engine.init(d);
  return (await loop.engine.planJson(d, `${stack}-check.tfplan`)).changed;
}

beforeAll(async () => {
  smoke = await healthStandIn();
  const got: { headers: IncomingMessage["headers"]; body: string; at: number }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiver = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
  const hang = createServer(() => {
    hanging.got++; /* never answers */
  });
  await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
  hanging = { url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/hook`, got: 0, server: hang };

  loop = await localLoop();
  useShortWindows(loop.dir, smoke.url);
  // Two signed webhooks, URLs and key from the environment: one for everything, one (`slow`) for gate failures only.
  loop.edit("dev.ts", (t) =>
    t.replace(
      'name: "dev",',
      `name: "dev",
  notify: {
    targets: [
      { kind: "webhook", name: "oncall", url: { env: "ONCALL_WEBHOOK_URL" }, signingKey: { env: "ONCALL_WEBHOOK_KEY" } },
      { kind: "webhook", name: "slow", url: { env: "SLOW_WEBHOOK_URL" }, signingKey: { env: "ONCALL_WEBHOOK_KEY" }, events: ["gate-failed"] },
    ],
    timeoutMs: 1000, attempts: 2, backoffMs: 100,
  },`,
    ),
  );
  // envctl reads them from its environment (loop.env is what every command runs with).
  Object.assign(loop.env, {
    ONCALL_WEBHOOK_URL: receiver.url,
    ONCALL_WEBHOOK_KEY: KEY,
    ENVSTACK_RUN_URL: "https://ci.example/runs/e2e",
  });
  await loop.deploy("bootstrap", "dev", "dev-traffic");
  traffic = new SyntheticAlbTraffic(loop.emulator.endpoint, "dev");
  expect((await loop.envctl("stage", "dev", "--version", "1.6.0")).status).toBe(0);
}, 1_200_000);

afterAll(async () => {
  await loop?.stop();
  smoke?.close();
  for (const s of [receiver?.server, hanging?.server]) {
    s?.closeAllConnections();
    s?.close();
  }
});

describe.sequential("the on-call loop against the engine and the emulator", () => {
  it("maintenance on: the page is written and read back ahead of the weighted rule, then converges into the traffic stack with an empty plan; a rollout refuses to start", async () => {
    // The bypass header's value lives in Secrets Manager only: envctl copies it to the listener itself.
    const sm = new SecretsManagerClient(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }, 3));
    await sm.send(new CreateSecretCommand({ Name: "webapp/dev/maintenance-bypass", SecretString: "e2e-token" }));
    const r = await loop.envctl(
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
    );
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(
      /dev: the listener serves the maintenance page \(503, priority 42, ahead of the weighted rule at 100\); written and read back in \d+ ms/,
    );
    expect(r.out).toContain("dev: converged: the traffic stack's page serves at priority 52");
    const rules = await listenerRules();
    const p = MAINTENANCE_PRIORITIES.stack;
    const header = MAINTENANCE_PRIORITIES.fast.header;
    expect(rules.filter((x) => Number(x.priority) >= 40).map((x) => [Number(x.priority), x.type])).toEqual([
      [header, "forward"],
      [p.cidr, "forward"],
      [p.page, "fixed-response"],
      [WEIGHTED_RULE_PRIORITY, "forward"],
    ]);
    const page = rules.find((x) => Number(x.priority) === p.page)!.rule;
    expect(page.Actions[0].FixedResponseConfig).toMatchObject({ StatusCode: "503", MessageBody: PAGE });
    expect(rules.find((x) => Number(x.priority) === p.cidr)!.rule.Conditions[0].SourceIpConfig.Values).toEqual([
      "203.0.113.0/24",
    ]);
    expect(rules.find((x) => Number(x.priority) === header)!.rule.Conditions[0].HttpHeaderConfig).toMatchObject({
      HttpHeaderName: "X-Maintenance-Bypass",
      Values: ["e2e-token"],
    });
    expect(await planChanges("dev-traffic")).toBe(false);
    expect(release().maintenance).toMatchObject({ message: PAGE, allowCidrs: ["203.0.113.0/24"] });
    // Neither the release file, nor the synthesized traffic stack, nor its state holds the value.
    const state = (await loop.engine.ok(stackDir(loop.dir, "dev-traffic"), ["state", "pull"])).stdout;
    expect(state).toContain("maintenance-page");
    const synthesized = readFileSync(join(stackDir(loop.dir, "dev-traffic"), "cdk.tf.json"), "utf8");
    for (const text of [
      readFileSync(join(loop.dir, "environments/releases/dev.json"), "utf8"),
      synthesized,
      state,
      r.out,
    ])
      expect(text).not.toContain("e2e-token");
    expect(
      history()
        .filter((h) => !h.kind)
        .at(-1),
    ).toMatchObject({ outcome: "maintenance-on" });

    const live = await loop.envctl("status", "dev", "--live");
    expect(live.out).toMatch(
      /MAINTENANCE since .* users get the 503 page; bypass: CIDRs 203\.0\.113\.0\/24; header X-Maintenance-Bypass/,
    );
    expect(live.out).not.toContain("maintenance rules unknown");
    expect(live.out).not.toContain("serves no maintenance page");
    const refused = await loop.envctl("rollout", "dev", "--rps", "5000", "--error-rate", "0.5");
    expect(refused.status).toBe(1);
    expect(refused.out).toContain("dev is in maintenance");
  }, 600_000);

  it("maintenance off: every maintenance rule goes at once, the deploy follows, and the plan is empty again", async () => {
    const r = await loop.envctl("maintenance", "dev", "off");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(
      /dev: the listener serves the weighted rule again \(no maintenance rule\); written and read back in \d+ ms/,
    );
    expect((await listenerRules()).filter((x) => Number(x.priority) >= 40).map((x) => Number(x.priority))).toEqual([
      WEIGHTED_RULE_PRIORITY,
    ]);
    expect(await planChanges("dev-traffic")).toBe(false);
    expect(release().maintenance).toBeUndefined();
    expect(
      history()
        .filter((h) => !h.kind)
        .at(-1),
    ).toMatchObject({ outcome: "maintenance-off" });
  }, 600_000);

  it("notifications of maintenance reached the local receiver, signed, and are in the history", () => {
    const got = events();
    expect(got.map((e) => e.event)).toEqual(expect.arrayContaining(["maintenance-on", "maintenance-off"]));
    expect(receiver.got.length).toBeGreaterThan(0);
    for (const r of receiver.got) expect(signedWith(r, KEY)).toBe(true);
    for (const r of receiver.got) expect(signedWith(r, "not the key")).toBe(false);
    expect(JSON.parse(receiver.got.find((r) => JSON.parse(r.body).event === "maintenance-on")!.body)).toMatchObject({
      environment: "dev",
      severity: "warning",
      link: "https://ci.example/runs/e2e",
      versions: { live: "blue" },
    });
    const deliveries = history().filter((h) => h.kind === "notification" && h.target === "oncall");
    expect(deliveries.filter((d) => d.event.startsWith("maintenance")).map((d) => [d.event, d.outcome])).toEqual([
      ["maintenance-on", "delivered"],
      ["maintenance-off", "delivered"],
    ]);
  });

  it("drift made behind the engine's back is classed: a security-group rule critical, a tag low; --heal low repairs only the tag's stack", async () => {
    const ec2 = new EC2Client(awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint }, 3));
    const sg = (
      await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["dev-database"] }] }))
    ).SecurityGroups![0]!;
    const ssh = {
      GroupId: sg.GroupId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.9.9.0/24" }] }],
    };
    await ec2.send(new AuthorizeSecurityGroupIngressCommand(ssh));
    const weighted = (await listenerRules()).find((x) => Number(x.priority) === WEIGHTED_RULE_PRIORITY)!.rule;
    await elb().send(
      new AddTagsCommand({ ResourceArns: [weighted.RuleArn], Tags: [{ Key: "ChangedBy", Value: "someone-by-hand" }] }),
    );
    try {
      const found = await loop.envctl("drift", "dev", "--json");
      expect(found.status, found.out).toBe(2);
      // stdout's JSON among stderr's progress lines: from its "[" line to its closing "]" line
      const json = JSON.parse(found.out.slice(found.out.indexOf("[\n"), found.out.lastIndexOf("\n]") + 2));
      const byStack = Object.fromEntries(json.map((s: any) => [s.stack, s]));
      expect(byStack.dev.severity).toBe("critical");
      expect(byStack.dev.resources.flatMap((r: any) => r.classes)).toEqual(
        expect.arrayContaining([expect.objectContaining({ attribute: "ingress", severity: "critical" })]),
      );
      expect(byStack["dev-traffic"].severity).toBe("low");
      expect(
        byStack["dev-traffic"].resources.flatMap((r: any) => r.classes.map((c: any) => [c.attribute, c.severity])),
      ).toEqual([["tags", "low"]]);
      const text = await loop.envctl("drift", "dev");
      expect(text.out).toMatch(/~ aws_security_group\.\S+\.ingress: critical/);
      expect(text.out).toMatch(/~ aws_lb_listener_rule\.\S+\.tags: low/);

      const healed = await loop.envctl("drift", "dev", "--heal", "low");
      expect(healed.status, healed.out).toBe(2); // the security group's drift remains
      expect(healed.out).toMatch(/dev: not healed: drift above low \(aws_security_group\.\S+\.ingress \(critical\)/);
      expect(healed.out).toContain("dev: heal of dev-traffic: healed");
      expect(healed.out).toMatch(/dev-traffic: in sync/);
      expect(healed.out).toMatch(/dev: drifted \(worst: critical\)/);
      const tags = await elb().send(new DescribeTagsCommand({ ResourceArns: [weighted.RuleArn] }));
      expect(tags.TagDescriptions![0]!.Tags!.map((t) => t.Key)).not.toContain("ChangedBy");
      const after = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] })))
        .SecurityGroups![0]!;
      expect(after.IpPermissions!.some((p) => p.FromPort === 22)).toBe(true);
      expect(
        history()
          .filter((h) => h.kind === "heal")
          .at(-1),
      ).toMatchObject({ stacks: ["dev-traffic"], maxSeverity: "low", outcome: "healed" });
      const drift = events().filter((e) => e.event.startsWith("drift"));
      expect(drift.map((e) => [e.event, e.severity])).toEqual(
        expect.arrayContaining([
          ["drift-found", "critical"],
          ["drift-cleared", "info"],
        ]),
      );
    } finally {
      await ec2.send(new RevokeSecurityGroupIngressCommand(ssh));
    }
  }, 900_000);

  it("a receiver that never answers adds no more than 100 ms to a gate-triggered rollback's time to mitigate", async () => {
    const failing = (w: Record<Slot, number>) => users(w, { canary: "green", canaryErrorRate: 0.025 });
    const mitigated = (out: string) => {
      const m = /dev: ALB now serves blue 100 \/ green 0 \(gate: [^\n]*; written and read back in (\d+) ms\)/.exec(out);
      expect(m, out.slice(-4000)).not.toBeNull();
      return Number(m![1]);
    };
    // Baseline: the slow target has no URL (its delivery fails at once, without a connection).
    delete loop.env.SLOW_WEBHOOK_URL;
    const base = await rolloutUnderTraffic(loop, traffic, failing);
    expect(base.status, base.out).toBe(3);
    const baseline = mitigated(base.out);
    // The same with a receiver that accepts the connection and never answers.
    loop.env.SLOW_WEBHOOK_URL = hanging.url;
    const slow = await rolloutUnderTraffic(loop, traffic, failing);
    delete loop.env.SLOW_WEBHOOK_URL;
    expect(slow.status, slow.out).toBe(3);
    const withHanging = mitigated(slow.out);
    console.log(`time to mitigate: ${baseline} ms without, ${withHanging} ms with a receiver that never answers`);
    expect(withHanging - baseline).toBeLessThanOrEqual(100);
    expect(hanging.got).toBeGreaterThanOrEqual(1);
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 100, green: 0 });
    const gate = history().filter((h) => h.kind === "notification" && h.event === "gate-failed");
    expect(gate.filter((d) => d.target === "slow").map((d) => [d.outcome, d.error])).toEqual([
      ["failed", "environment variable SLOW_WEBHOOK_URL is not set"],
      ["failed", "timed out"],
    ]);
    expect(gate.filter((d) => d.target === "oncall").map((d) => d.outcome)).toEqual(["delivered", "delivered"]);
    // Delivery is at least once: a retry after a slow answer repeats the delivery id, and a
    // receiver deduplicates by it. Two gate failures, two deliveries.
    const received = receiver.got.filter((r) => JSON.parse(r.body).event === "gate-failed");
    const delivery = (r: { headers: IncomingMessage["headers"] }) => r.headers[DELIVERY_HEADER.toLowerCase()];
    const sent = [...new Map(received.map((r) => [String(delivery(r)), r])).values()];
    expect(received.every((r) => typeof delivery(r) === "string")).toBe(true);
    expect(sent).toHaveLength(2);
    for (const r of sent) expect(signedWith(r, KEY)).toBe(true);
    expect(JSON.parse(sent[1]!.body)).toMatchObject({
      severity: "critical",
      weights: { blue: 100, green: 0 },
      evidence: expect.stringMatching(/errors vs stable/),
    });
  }, 900_000);
});
