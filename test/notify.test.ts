/**
 * Notifications: the payload, the Slack, webhook and SNS deliveries, the webhook's HMAC
 * checked by an independent computation on a real local HTTP receiver, retries with backoff on a
 * virtual clock, timeouts, filters, the bounded wait before envctl exits, the history of every
 * delivery, and a receiver that never answers not delaying a gate-triggered rollback.
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PlainProgress } from "../lib/cli/progress.ts";
import { NotifySchema } from "../lib/config/schema/notify.ts";
import { type NotifyFetch, postWithRetries, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../lib/notify/deliver.ts";
import {
  createNotifier,
  type DeliveryRecord,
  type NotifierDeps,
  nodeFetch,
  settleBound,
} from "../lib/notify/notifier.ts";
import { eventPayload, NOTIFY_EVENTS, type ReleaseEventPayload } from "../lib/release/model/events.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";
import { FakeAlb, FakeClock, metrics } from "./support/fakes.ts";
import { tempProject } from "./support/project.ts";

const KEY = "s3cr3t-signing-key";

const payload = (over: Partial<Parameters<typeof eventPayload>[0]> = {}): ReleaseEventPayload =>
  eventPayload({
    event: "rollback",
    environment: "staging",
    at: "2026-11-22T10:00:30.000Z",
    by: "alice",
    command: "envctl rollback staging",
    reason: "rollback to blue",
    release: {
      live: "blue",
      slots: { blue: { version: "1.4.2", weight: 100 }, green: { version: "1.5.0", weight: 0 } },
    },
    evidence: "errors vs stable: evidence 6.2 ≥ bound 5.5",
    link: "https://ci.example/run/7",
    ...over,
  });

// ------------------------------------------------------------------- receivers

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A local HTTP receiver: `answer` decides the status (null: never answers). */
async function receiver(answer: (n: number) => number | null = () => 200): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      got.push({ headers: req.headers, body, at: performance.now() });
      const status = answer(got.length);
      if (status !== null) res.writeHead(status).end("ok");
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

/** The receiver's check, computed here with node:crypto alone: HMAC-SHA256 over `<timestamp>.<body>`. */
function validSignature(r: Received, key: string): boolean {
  const ts = String(r.headers[TIMESTAMP_HEADER.toLowerCase()]);
  const expected = Buffer.from(`sha256=${createHmac("sha256", key).update(`${ts}.${r.body}`).digest("hex")}`);
  const given = Buffer.from(String(r.headers[SIGNATURE_HEADER.toLowerCase()]));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// ------------------------------------------------------------------ the notifier alone

function notifierWith(targets: unknown[], over: Partial<NotifierDeps> = {}, settings: Record<string, number> = {}) {
  const records: DeliveryRecord[] = [];
  const clock = new FakeClock();
  const sleeps: number[] = [];
  const notify = NotifySchema.parse({ targets, ...settings });
  const n = createNotifier({
    configOf: (env) => (env === "staging" ? { notify, region: "eu-west-1" } : undefined),
    resolve: async (ref) => {
      if ("env" in ref) {
        const v = ({ HOOK_URL: over.fetch ? "https://hooks.example/x" : "", HOOK_KEY: KEY } as Record<string, string>)[
          ref.env
        ];
        if (!v) throw new Error(`environment variable ${ref.env} is not set`);
        return v;
      }
      throw new Error(`no secret ${ref.secret}`);
    },
    fetch: nodeFetch,
    sns: () => ({ publish: async () => undefined }),
    sleep: (ms) => {
      sleeps.push(ms);
      return clock.sleep(ms);
    },
    now: clock.now,
    record: (_env, r) => records.push(r),
    ...over,
  });
  return { n, records, sleeps, clock };
}

describe("the payload", () => {
  it("carries the environment, the versions, the weights, the reason, the evidence and the link", () => {
    expect(payload()).toEqual({
      event: "rollback",
      severity: "critical",
      environment: "staging",
      at: "2026-11-22T10:00:30.000Z",
      by: "alice",
      command: "envctl rollback staging",
      versions: { blue: "1.4.2", green: "1.5.0", live: "blue" },
      weights: { blue: 100, green: 0 },
      reason: "rollback to blue",
      evidence: "errors vs stable: evidence 6.2 ≥ bound 5.5",
      link: "https://ci.example/run/7",
    });
    expect(NOTIFY_EVENTS).toEqual([
      "promotion",
      "rollout-started",
      "step-passed",
      "gate-failed",
      "rollback",
      "abort",
      "paused",
      "migration",
      "restore",
      "drift-found",
      "drift-cleared",
      "maintenance-on",
      "maintenance-off",
      "break-glass",
      "window-hold",
      "schedule-started",
      "schedule-skipped",
    ]);
  });
});

describe("deliveries", () => {
  it("signs the webhook: a receiver verifies the HMAC with the key alone, and a wrong key or a changed body fails it", async () => {
    const rx = await receiver();
    const { n, records } = notifierWith(
      [{ kind: "webhook", name: "pager", url: { env: "HOOK_URL" }, signingKey: { env: "HOOK_KEY" } }],
      {
        resolve: async (ref) => ("env" in ref && ref.env === "HOOK_URL" ? rx.url : KEY),
      },
    );
    n.send(payload());
    expect(await n.settle(5000)).toBe(0);
    expect(rx.got).toHaveLength(1);
    const r = rx.got[0]!;
    expect(JSON.parse(r.body)).toEqual(payload());
    expect(r.headers["x-envstack-event"]).toBe("rollback");
    expect(validSignature(r, KEY)).toBe(true);
    expect(validSignature(r, "another key")).toBe(false);
    expect(validSignature({ ...r, body: r.body.replace("1.4.2", "1.4.3") }, KEY)).toBe(false);
    expect(records).toEqual([
      expect.objectContaining({
        kind: "notification",
        event: "rollback",
        target: "pager",
        targetKind: "webhook",
        outcome: "delivered",
        attempts: 1,
        status: 200,
      }),
    ]);
  });

  it("retries 5xx with exponential backoff (virtual clock), and stops at once on a 4xx", async () => {
    const statuses = [503, 502, 200];
    const calls: string[] = [];
    const fetch: NotifyFetch = async (url) => {
      calls.push(url);
      return { status: statuses.shift()! };
    };
    const { n, records, sleeps, clock } = notifierWith(
      [{ kind: "slack", name: "chat", url: { env: "HOOK_URL" } }],
      { fetch },
      { attempts: 4, backoffMs: 500 },
    );
    const t0 = clock.t;
    n.send(payload());
    await n.settle(5000);
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([500, 1000]);
    expect(clock.t - t0).toBe(1500);
    expect(records[0]).toMatchObject({ outcome: "delivered", attempts: 3, status: 200 });

    const four: NotifyFetch = async () => ({ status: 404 });
    const f = notifierWith(
      [{ kind: "slack", name: "chat", url: { env: "HOOK_URL" } }],
      { fetch: four },
      { attempts: 4 },
    );
    f.n.send(payload());
    await f.n.settle(5000);
    expect(f.records[0]).toMatchObject({ outcome: "failed", attempts: 1, status: 404, error: "HTTP 404" });
    expect(f.sleeps).toEqual([]);
  });

  it("gives each attempt a timeout: a receiver that never answers fails after every attempt timed out", async () => {
    const rx = await receiver(() => null);
    const { n, records } = notifierWith(
      [{ kind: "slack", name: "chat", url: { env: "HOOK_URL" } }],
      { resolve: async () => rx.url },
      { timeoutMs: 100, attempts: 2, backoffMs: 10 },
    );
    const t0 = performance.now();
    n.send(payload());
    expect(await n.settle(5000)).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(rx.got).toHaveLength(2);
    expect(records[0]).toMatchObject({ outcome: "failed", attempts: 2, error: "timed out" });
    expect(JSON.stringify(records)).not.toContain(rx.url);
  });

  it("postWithRetries never throws, and keeps the URL out of its errors", async () => {
    const r = await postWithRetries(
      "http://127.0.0.1:1/secret-token",
      "{}",
      {},
      { timeoutMs: 500, attempts: 2, backoffMs: 1 },
      { fetch: nodeFetch, sleep: async () => undefined },
    );
    expect(r.ok).toBe(false);
    expect(r.attempts).toBe(2);
    expect(r.error).not.toContain("secret-token");
  });

  it("sends Slack a readable message and SNS a subject and the payload", async () => {
    const bodies: string[] = [];
    const published: { topic: string; subject: string; message: string }[] = [];
    const { n, records } = notifierWith(
      [
        { kind: "slack", name: "chat", url: { env: "HOOK_URL" } },
        { kind: "sns", name: "email", topicArn: "arn:aws:sns:eu-west-1:123456789012:oncall" },
      ],
      {
        fetch: async (_u, init) => {
          bodies.push(init.body);
          return { status: 200 };
        },
        sns: () => ({
          publish: async (topic, subject, message) => {
            published.push({ topic, subject, message });
          },
        }),
      },
    );
    n.send(payload());
    await n.settle(5000);
    const text = JSON.parse(bodies[0]!).text as string;
    expect(text).toContain(":rotating_light: *rollback* in *staging* (critical)");
    expect(text).toContain("blue 1.4.2, green 1.5.0 (live: blue)");
    expect(text).toContain("<https://ci.example/run/7|run>");
    expect(published).toEqual([
      {
        topic: "arn:aws:sns:eu-west-1:123456789012:oncall",
        subject: "[critical] staging: rollback",
        message: expect.stringContaining('"weights":{"blue":100,"green":0}'),
      },
    ]);
    expect(records.map((r) => [r.target, r.outcome])).toEqual(
      expect.arrayContaining([
        ["chat", "delivered"],
        ["email", "delivered"],
      ]),
    );
  });

  it("sends a target only its events at or above its minimum severity", async () => {
    const sent: string[] = [];
    const { n } = notifierWith(
      [
        { kind: "slack", name: "all", url: { env: "HOOK_URL" } },
        { kind: "slack", name: "pager", url: { env: "HOOK_URL" }, minSeverity: "critical" },
        { kind: "slack", name: "drift", url: { env: "HOOK_URL" }, events: ["drift-found", "drift-cleared"] },
      ],
      {
        fetch: async (_u, init) => {
          sent.push(JSON.parse(init.body).text.split("\n")[0]);
          return { status: 200 };
        },
      },
    );
    n.send(payload({ event: "promotion" }));
    n.send(payload({ event: "gate-failed" }));
    n.send(payload({ event: "drift-found", severity: "info" }));
    await n.settle(5000);
    expect(sent.sort()).toEqual(
      [
        ":information_source: *drift-found* in *staging* (info)",
        ":information_source: *drift-found* in *staging* (info)",
        ":information_source: *promotion* in *staging* (info)",
        ":rotating_light: *gate-failed* in *staging* (critical)",
        ":rotating_light: *gate-failed* in *staging* (critical)",
      ].sort(),
    );
  });

  it("refuses a plain-HTTP webhook URL other than localhost, without showing it", async () => {
    const calls: string[] = [];
    const { n, records } = notifierWith([{ kind: "slack", name: "chat", url: { env: "HOOK_URL" } }], {
      fetch: async (u) => {
        calls.push(u);
        return { status: 200 };
      },
      resolve: async () => "http://hooks.example/T0/secret-path",
    });
    n.send(payload());
    await n.settle(5000);
    expect(calls).toEqual([]);
    expect(records[0]).toMatchObject({
      outcome: "failed",
      error: "the URL of chat must be https:// (http:// only to localhost)",
    });
    expect(JSON.stringify(records)).not.toContain("secret-path");
  });

  it("records a missing secret as a failed delivery naming the variable, never throwing to the caller", async () => {
    const { n, records } = notifierWith([{ kind: "slack", name: "chat", url: { env: "HOOK_URL" } }]);
    expect(() => n.send(payload())).not.toThrow();
    await n.settle(5000);
    expect(records[0]).toMatchObject({
      outcome: "failed",
      attempts: 0,
      error: "environment variable HOOK_URL is not set",
    });
  });

  it("waits for running deliveries only up to its bound, recording the rest as abandoned", async () => {
    const { n, records } = notifierWith(
      [{ kind: "slack", name: "chat", url: { env: "HOOK_URL" } }],
      { fetch: () => new Promise(() => undefined) },
      { timeoutMs: 30_000 },
    );
    n.send(payload());
    const t0 = performance.now();
    expect(await n.settle(50)).toBe(1);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(records[0]).toMatchObject({ outcome: "abandoned" });
    expect(
      settleBound([
        NotifySchema.parse({
          targets: [{ kind: "sns", name: "a", topicArn: "arn:aws:sns:eu-west-1:123456789012:t" }],
          timeoutMs: 1000,
          attempts: 3,
          backoffMs: 100,
        }),
      ]),
    ).toBe(3000 + 300 + 500);
    expect(settleBound([NotifySchema.parse({})])).toBe(0);
  });
});

describe("the notify section of an environment file", () => {
  it("refuses a URL or key written into the file, and names every problem", () => {
    const r = NotifySchema.safeParse({
      targets: [
        { kind: "slack", name: "chat", url: "https://hooks.slack.com/services/T000/B000/XXXX" },
        { kind: "webhook", name: "chat", url: { env: "HOOK" }, signingKey: "inline-key" },
        { kind: "sns", name: "mail", topicArn: "arn:aws:s3:::bucket", events: ["rolback"] },
      ],
    });
    expect(r.success).toBe(false);
    const problems = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^targets\.0\.url: must be \{ env: "VARIABLE" \} or \{ secret: "secret-name" \}: webhook URLs and signing keys come from the environment or Secrets Manager, never from a committed file/,
        ),
        expect.stringMatching(/^targets\.1\.signingKey: must be \{ env/),
        expect.stringMatching(/^targets\.2\.topicArn: must be an SNS topic ARN/),
        expect.stringMatching(/^targets\.2\.events\.0: must be one of promotion, rollout-started/),
      ]),
    );
  });
});

// ------------------------------------------------------------- envctl, in process

/** staging with a webhook target (events `events`) whose URL and key come from the environment. */
function harness(url: string, events: string[] = [], extra = "") {
  const target = events.length
    ? `{ kind: "webhook", name: "pager", url: { env: "ONCALL_WEBHOOK_URL" }, signingKey: { env: "ONCALL_WEBHOOK_KEY" }, events: ${JSON.stringify(events)}${extra} }`
    : "";
  const dir = tempProject((d) => {
    const f = join(d, "environments/staging.ts");
    if (target)
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace(
          'name: "staging",',
          `name: "staging",\n  notify: { targets: [${target}], timeoutMs: 300, attempts: 2, backoffMs: 10 },`,
        ),
      );
  });
  const alb = new FakeAlb();
  const marks: Record<string, number> = {};
  const h = envctlInProcess({
    dir,
    runAs: { GITHUB_ACTOR: "ci-bot", CI: "1" },
    env: { ONCALL_WEBHOOK_URL: url, ONCALL_WEBHOOK_KEY: KEY, ENVSTACK_RUN_URL: "https://ci.example/run/42" },
    alarmsOf: ["staging"],
    deps: ({ lines, clock }) => ({
      deployer: {
        deploy: async (stacks) => {
          for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, ""));
        },
      },
      traffic: () => alb,
      progress: new PlainProgress((l) => {
        if (l.includes("gate failed:")) marks.gate ??= performance.now();
        lines.push(l);
      }, clock.now),
    }),
  });
  const { cw, lines } = h;
  alb.onWrite = (w) => {
    if (w.blue === 100) marks.alb ??= performance.now();
  };
  const notes = () =>
    readFileSync(join(dir, "environments/releases/staging.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((x) => x.kind === "notification");
  return { dir, alb, cw, lines, marks, notes, run: h.run };
}

/** A failing canary: the gate rolls back at the first poll. */
async function gateRollback(h: ReturnType<typeof harness>) {
  expect(await h.run("promote", "dev", "staging", "--version", "1.5.0")).toBe(0);
  h.cw.traffic = () => metrics({ requests: 500 }, { requests: 500, target5xx: 40 });
  const t0 = performance.now();
  expect(await h.run("rollout", "staging")).toBe(3);
  return { mitigateMs: h.marks.alb! - h.marks.gate!, commandMs: performance.now() - t0 };
}

describe("envctl: notifications of release events", () => {
  it("a gate-triggered rollback reaches the receiver after the ALB is written, signed, with the analysis as evidence; the delivery is in the history", async () => {
    const rx = await receiver();
    const h = harness(rx.url, ["rollout-started", "gate-failed"]);
    await gateRollback(h);
    const events = rx.got.map((r) => JSON.parse(r.body));
    expect(events.map((e) => e.event)).toEqual(["rollout-started", "gate-failed"]);
    const gate = events[1];
    expect(gate).toMatchObject({
      event: "gate-failed",
      severity: "critical",
      environment: "staging",
      by: "ci-bot (ci)",
      command: "envctl rollout staging",
      versions: { blue: "1.4.2", green: "1.5.0", live: "blue" },
      weights: { blue: 100, green: 0 },
      link: "https://ci.example/run/42",
    });
    expect(gate.reason).toMatch(/^gate: errors vs stable/);
    expect(gate.evidence).toMatch(
      /^step 1 \(50 %\): FAIL — errors vs stable: evidence \S+ ≥ bound 286 \(this step: canary 80\/1000 5xx, stable 0\/1000\)/,
    );
    expect(rx.got.every((r) => validSignature(r, KEY))).toBe(true);
    expect(rx.got[1]!.at).toBeGreaterThan(h.marks.alb!);
    expect(h.notes().map((n) => [n.event, n.outcome, n.target])).toEqual([
      ["rollout-started", "delivered", "pager"],
      ["gate-failed", "delivered", "pager"],
    ]);
  });

  it("a receiver that never answers adds no more than 100 ms to the time to mitigate, and is recorded as failed", async () => {
    const baseline = await gateRollback(harness("http://127.0.0.1:1/unused"));
    const rx = await receiver(() => null);
    const h = harness(rx.url, ["gate-failed"]);
    const hanging = await gateRollback(h);
    expect(hanging.mitigateMs - baseline.mitigateMs).toBeLessThanOrEqual(100);
    expect(h.alb.writes.map((w) => w.by)).toEqual(["deploy", "direct", "deploy"]);
    expect(rx.got.length).toBeGreaterThanOrEqual(1);
    expect(rx.got[0]!.at).toBeGreaterThan(h.marks.alb!);
    // envctl waited for the delivery only within its bound (2 attempts × 300 ms + backoff), then exited.
    expect(hanging.commandMs - baseline.commandMs).toBeLessThan(2000);
    expect(h.notes()).toEqual([
      expect.objectContaining({ event: "gate-failed", outcome: "failed", error: "timed out", attempts: 2 }),
    ]);
  });

  it("publishes to SNS in the environment's own account, under its deploy role, never with the ambient credentials", async () => {
    const dir = tempProject((d) => {
      const f = join(d, "environments/staging.ts");
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace(
          'name: "staging",',
          'name: "staging",\n  notify: { targets: [{ kind: "sns", name: "oncall", topicArn: "arn:aws:sns:eu-west-1:210987654321:oncall", events: ["promotion"] }] },',
        ),
      );
    });
    const published: { region: string; account?: string; role?: string; env?: string; topic: string }[] = [];
    const h = envctlInProcess({
      dir,
      runAs: { GITHUB_ACTOR: "ci-bot", CI: "1" },
      deps: () => ({
        sns: (region, aws) => ({
          publish: async (topic) => {
            published.push({
              region,
              account: aws.account?.id,
              role: aws.account?.deployRoleArn,
              env: aws.environment,
              topic,
            });
          },
        }),
      }),
    });
    expect(await h.run("promote", "dev", "staging", "--version", "1.5.0"), h.text()).toBe(0);
    // Deliveries run in the background: wait for this one (under load it may outlast the command).
    await vi.waitFor(() => expect(published).toHaveLength(1), { timeout: 15_000 });
    const staging = (await import("../environments/staging.ts")).default;
    expect(published).toEqual([
      {
        region: staging.region,
        account: staging.account.id,
        role: staging.account.deployRoleArn,
        env: "staging",
        topic: "arn:aws:sns:eu-west-1:210987654321:oncall",
      },
    ]);
  });

  it("envctl promote and rollback notify too, and a failed delivery never fails the command", async () => {
    const h = harness("http://127.0.0.1:1/refused", ["rollback", "abort", "promotion"]);
    expect(await h.run("promote", "dev", "staging", "--version", "1.5.0")).toBe(0);
    expect(await h.run("shift", "staging", "--to", "green", "--percent", "20")).toBe(0);
    expect(await h.run("rollback", "staging")).toBe(0);
    expect(h.alb.weights).toEqual({ blue: 100, green: 0 });
    expect(h.notes().map((n) => [n.event, n.outcome])).toEqual([
      ["promotion", "failed"],
      ["rollback", "failed"],
    ]);
  });

  it("envctl notify sends a pipeline's migration event and prints each delivery; a bad event is refused naming the rule", async () => {
    const rx = await receiver();
    const h = harness(rx.url, ["migration"]);
    expect(
      await h.run(
        "notify",
        "staging",
        "migration",
        "--reason",
        "schema 42 applied",
        "--evidence",
        "flyway V42__orders_index",
      ),
    ).toBe(0);
    expect(h.lines.at(-1)).toBe("pager: delivered");
    expect(JSON.parse(rx.got[0]!.body)).toMatchObject({
      event: "migration",
      severity: "info",
      reason: "schema 42 applied",
      evidence: "flyway V42__orders_index",
      versions: { live: "blue" },
    });
    expect(validSignature(rx.got[0]!, KEY)).toBe(true);
    h.lines.length = 0;
    expect(await h.run("notify", "staging", "migrated", "--reason", "x")).toBe(1);
    expect(h.lines.join("\n")).toMatch(/notify: --event must be one of promotion, rollout-started/);
  });
});
