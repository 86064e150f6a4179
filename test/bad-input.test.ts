/**
 * The generated bad-input suite: fast-check generates bad environment
 * files, bad release files and bad envctl arguments; every case must be refused with exit 1, a
 * message naming the environment (or file, or command), the field and the rule, no stack
 * trace, and no file changed or deployed. Most cases run in-process through `main(argv, deps)`;
 * a handful through a real subprocess (envctl and synth) prove the same end to end. Commands that
 * would change nothing (a promotion of what the target already runs) are no refusal: exit 0, a
 * message saying why, nothing written.
 */

import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import { POSTGRES_VERSIONS, REDIS_VERSIONS } from "../lib/config/catalogue.ts";
import { mayRunCode } from "../lib/config/import-environment.ts";
import { LOG_RETENTION_DAYS } from "../lib/config/schema.ts";
import { CACHE_HOURLY, EC2_HOURLY, RDS_HOURLY } from "../lib/cost/prices.ts";
import { slotSettings } from "../lib/release/model/slots.ts";
import { type InProcessCli, type InProcessRun, inProcessCli, STACK_TRACE, treeDigest } from "./support/cli.ts";
import { REPO, tempProject } from "./support/project.ts";

/** Cases per property; the four properties together run 380 generated cases. */
const RUNS = { environmentFiles: 120, releaseFiles: 100, arguments: 100, noops: 60 };

interface Expected {
  /** Environment, file or command the message must name. */
  readonly subject: string;
  /** Field (dotted path or --flag); "" for the whole file. */
  readonly path: string;
  /** The rule, as it must appear after the path. */
  readonly rule: string | RegExp;
}

/** Exit 1, the expected problem line, no stack trace, no internal error. */
function expectRefused(r: InProcessRun, e: Expected, context: string): void {
  const report = `${context}\n--- stderr:\n${r.stderr}`;
  expect(r.code, report).toBe(1);
  expect(r.stderr, report).not.toMatch(STACK_TRACE);
  expect(r.stderr, report).not.toMatch(/internal error/);
  const lines = r.stderr.split("\n").map((l) => l.replace(/^\s*-\s*/, "").replace(/^error: /, ""));
  const head = e.path ? `${e.subject}: ${e.path} ` : `${e.subject}: `;
  const hit = lines.some(
    (l) =>
      l.startsWith(head) &&
      (typeof e.rule === "string" ? l.slice(head.length).includes(e.rule) : e.rule.test(l.slice(head.length))),
  );
  expect(hit, `expected a line "${head}…${String(e.rule)}"\n${report}`).toBe(true);
}

const TEMPLATE_RULE = "must not contain a Terraform template sequence";

// ---- generators -------------------------------------------------------------------------------

type Patch = readonly [path: readonly (string | number)[], value: unknown][];
interface EnvCase extends Omit<Expected, "subject"> {
  readonly patch: Patch;
}

const word = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/);
const notIn = (known: readonly string[]) => (s: string) => !known.includes(s);

/** Objects of the environment model and their keys: an extra key anywhere must be refused. */
const OBJECTS: [string[], string[]][] = [
  [[], Object.keys(dev).concat(["certificateArn", "expiresAt", "notify", "drift"])],
  [["notify"], ["targets", "timeoutMs", "attempts", "backoffMs"]],
  [["drift"], ["classes"]],
  [["network"], Object.keys(dev.network)],
  [["compute"], ["kind", "instanceType", "capacity", "autoScaling"]],
  [
    ["compute", "capacity"],
    ["min", "desired", "max"],
  ],
  [
    ["compute", "autoScaling"],
    ["enabled", "targetCpuPercent"],
  ],
  [["database"], Object.keys(dev.database).concat(["maxAllocatedStorageGb", "engineVersion"])],
  [["cache"], Object.keys(dev.cache)],
  [["monitoring"], Object.keys(dev.monitoring)],
  [["monitoring", "thresholds"], Object.keys(dev.monitoring.thresholds)],
  [["release"], Object.keys(dev.release)],
  [["image"], ["repository"]],
];

const dotted = (path: readonly (string | number)[]) =>
  path
    .map((k) => (typeof k === "number" ? `[${k}]` : k))
    .join(".")
    .replace(/\.\[/g, "[");
const one = (path: (string | number)[], value: unknown, rule: string | RegExp): EnvCase => ({
  patch: [[path, value]],
  path: dotted(path),
  rule,
});

/** A string holding a Terraform template sequence somewhere. */
const templated = fc
  .tuple(
    fc.stringMatching(/^[a-z/ ]{0,6}$/),
    fc.constantFrom("${", "%{"),
    fc.constantFrom('file("/etc/passwd")', "var.x", "if true", "env.HOME", ""),
    fc.constantFrom("}", ""),
  )
  .map(([a, s, b, c]) => `${a}${s}${b}${c}`);

const tooSmallOrBig = (min: number, max: number) =>
  fc.oneof(fc.integer({ min: -1e6, max: min - 1 }), fc.integer({ min: max + 1, max: 1e12 }));

/** The shipped promotion chain: dev → staging → production. */
const CHAIN = ["dev", "staging", "production"] as const;

function graphCases(): fc.Arbitrary<EnvCase>[] {
  const field = fc.constantFrom("promotesTo", "rollbackTo");
  return [
    fc.tuple(field, fc.shuffledSubarray([...CHAIN], { minLength: 1 })).map(
      ([f, list]): EnvCase => ({
        patch: [
          [
            ["release", f],
            [...list, list[0]],
          ],
        ],
        path: `release.${f}[${list.length}]`,
        rule: `names ${list[0]} again (already release.${f}[0]): each edge once`,
      }),
    ),
    fc.constantFrom(...CHAIN).map(
      (t): EnvCase => ({
        patch: [
          [["release", "promotesTo"], [t]],
          [["release", "rollbackTo"], [t]],
        ],
        path: "release.rollbackTo[0]",
        rule: `names ${t}, which release.promotesTo[0] also names: an edge is a promotion or a rollback path, not both`,
      }),
    ),
    // Nothing promotes into the generated environment: no rollback edge of it points backwards; one ahead of its own promotions is a forward edge.
    fc
      .tuple(fc.constantFrom(...CHAIN), fc.subarray([...CHAIN]))
      .filter(([t, forward]) => !forward.includes(t))
      .map(([t, forward]): EnvCase => {
        const ahead = forward.some((p) => CHAIN.indexOf(t) > CHAIN.indexOf(p));
        return {
          patch: [
            [["release", "promotesTo"], forward],
            [["release", "rollbackTo"], [t]],
          ],
          path: "release.rollbackTo[0]",
          rule: new RegExp(
            `^must point backwards along the promotion graph: ${t} does not promote into qa\\d+, directly or through other environments${ahead ? ` \\(qa\\d+ promotes into ${t}: that is a forward edge\\)` : "$"}`,
          ),
        };
      }),
  ];
}

const envCases: fc.Arbitrary<EnvCase> = fc.oneof(
  // Unknown keys at any depth (compute.capacity used to drop them).
  fc
    .tuple(fc.constantFrom(...OBJECTS), word)
    .filter(([[, keys], k]) => !keys.includes(k))
    .map(
      ([[path], k]): EnvCase => ({ patch: [[[...path, k], 1]], path: dotted(path), rule: `has unknown field(s) ${k}` }),
    ),
  // Capacities of 1e9 and other sizes past AWS's (or the project's) limits.
  fc.integer({ min: 101, max: 2 ** 31 }).map((n) => one(["compute", "capacity", "max"], n, "must be at most 100")),
  fc
    .double({ min: 0.01, max: 50, noNaN: true })
    .filter((d) => !Number.isInteger(d))
    .map((d) => one(["compute", "capacity", "min"], d, "expected int")),
  tooSmallOrBig(1024, 65535).map((n) => one(["appPort"], n, /^Too (small|big)/)),
  tooSmallOrBig(1, 35).map((n) => one(["database", "backupRetentionDays"], n, /^Too (small|big)/)),
  tooSmallOrBig(0, 5).map((n) => one(["cache", "replicas"], n, /^Too (small|big)/)),
  fc
    .integer({ min: 65537, max: 1e9 })
    .map((n) => one(["database", "allocatedStorageGb"], n, "must be at most 65536 GB")),
  fc
    .oneof(fc.constant(0), fc.integer({ min: 101, max: 1e6 }))
    .map((n) => one(["monitoring", "thresholds", "cpuPercent"], n, "must be 1-100")),
  fc
    .integer({ min: 86_401, max: 1e9 })
    .map((n) => one(["release", "canary", 0, "bakeSeconds"], n, "expected number to be <=86400")),
  fc
    .integer({ min: 1, max: 4000 })
    .filter((d) => !(LOG_RETENTION_DAYS as readonly number[]).includes(d))
    .map((d) => one(["network", "flowLogRetentionDays"], d, "must be a CloudWatch Logs retention period")),
  // Types that do not exist (or are not in the one catalogue).
  fc
    .stringMatching(/^[a-z][a-z0-9]{1,4}\.[a-z0-9]{2,8}$/)
    .filter(notIn(Object.keys(EC2_HOURLY)))
    .map((t) => one(["compute", "instanceType"], t, "is not a known EC2 instance type")),
  fc
    .stringMatching(/^db\.[a-z0-9]{2,4}\.[a-z0-9]{2,8}$/)
    .filter(notIn(Object.keys(RDS_HOURLY)))
    .map((t) => one(["database", "instanceClass"], t, "is not a known RDS instance class")),
  fc
    .stringMatching(/^cache\.[a-z0-9]{2,4}\.[a-z0-9]{2,8}$/)
    .filter(notIn(Object.keys(CACHE_HOURLY)))
    .map((t) => one(["cache", "nodeType"], t, "is not a known ElastiCache node type")),
  // Free-form engine versions.
  fc
    .oneof(fc.stringMatching(/^\d{1,2}(\.\d{1,2}){0,2}$/), fc.string({ maxLength: 8 }))
    .filter(notIn(POSTGRES_VERSIONS))
    .map((v) => one(["database", "engineVersion"], v, "is not an RDS for PostgreSQL version AWS supports")),
  fc
    .oneof(fc.stringMatching(/^\d(\.\d){0,2}$/), fc.string({ maxLength: 8 }))
    .filter(notIn(REDIS_VERSIONS))
    .map((v) => one(["cache", "engineVersion"], v, "is not an ElastiCache Redis OSS version AWS supports")),
  // maxAllocatedStorageGb below allocatedStorageGb.
  fc.integer({ min: 21, max: 65536 }).chain((a) =>
    fc.integer({ min: 20, max: a - 1 }).map((m) => ({
      patch: [
        [["database", "allocatedStorageGb"], a],
        [["database", "maxAllocatedStorageGb"], m],
      ] as Patch,
      path: "database.maxAllocatedStorageGb",
      rule: `must be ≥ allocatedStorageGb (${m} < ${a})`,
    })),
  ),
  // Non-canonical CIDRs (leading zeros), copied verbatim into the JSON before.
  fc
    .integer({ min: 3, max: 63 })
    .map((b) => one(["network", "cidr"], `10.0${b}.0.0/16`, `must be written canonically: 10.${b}.0.0/16`)),
  // Terraform template sequences in free text: tags, owner, cost centre, paths, repositories, e-mails.
  fc
    .tuple(
      fc.constantFrom<(string | number)[]>(
        ["tags", "Team"],
        ["owner"],
        ["costCenter"],
        ["healthCheckPath"],
        ["image", "repository"],
        ["monitoring", "alarmEmails", 0],
      ),
      templated,
    )
    .map(([path, v]) => one(path, path[0] === "healthCheckPath" ? `/${v}` : v, TEMPLATE_RULE)),
  // Reserved aws: tag keys.
  fc
    .tuple(fc.constantFrom("aws:", "AWS:", "Aws:"), fc.stringMatching(/^[A-Za-z0-9]{1,10}$/))
    .map(([p, k]) => one(["tags", `${p}${k}`], "x", "must not start with aws: (reserved for AWS)")),
  // expiresAt on a permanent environment.
  fc
    .date({ min: new Date("2026-01-01"), max: new Date("2030-01-01"), noInvalidDate: true })
    .map((d) => one(["expiresAt"], d.toISOString(), "is only for preview environments")),
  // Wrong types.
  fc.constantFrom("yes", 1, null).map((v) => one(["database", "multiAz"], v, "expected boolean")),
  fc.constantFrom("20", true, null).map((v) => one(["database", "allocatedStorageGb"], v, "expected number")),
  // The promotion graph: an edge named twice, an environment both forward and rollback target, a rollback edge that is not backwards.
  ...graphCases(),
  // Notifications: a webhook URL or key written into the file, a bad topic, events, bounds; drift classes.
  ...notifyCases(),
);

function notifyCases(): fc.Arbitrary<EnvCase>[] {
  const target = (t: Record<string, unknown>) => [[["notify"], { targets: [t] }]] as Patch;
  return [
    fc.tuple(fc.constantFrom("slack", "webhook"), fc.webUrl()).map(
      ([kind, url]): EnvCase => ({
        patch: target({ kind, name: "oncall", url, ...(kind === "webhook" ? { signingKey: { env: "KEY" } } : {}) }),
        path: "notify.targets[0].url",
        rule: "webhook URLs and signing keys come from the environment or Secrets Manager, never from a committed file",
      }),
    ),
    fc.stringMatching(/^[A-Za-z0-9]{8,32}$/).map(
      (key): EnvCase => ({
        patch: target({ kind: "webhook", name: "oncall", url: { env: "URL" }, signingKey: key }),
        path: "notify.targets[0].signingKey",
        rule: "never from a committed file",
      }),
    ),
    fc
      .stringMatching(/^arn:aws:(s3|sqs|sns):[a-z0-9:-]{0,20}$/)
      .filter((a) => !/^arn:aws:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:/.test(a))
      .map(
        (arn): EnvCase => ({
          patch: target({ kind: "sns", name: "mail", topicArn: arn }),
          path: "notify.targets[0].topicArn",
          rule: "must be an SNS topic ARN",
        }),
      ),
    fc
      .stringMatching(/^[a-z-]{1,12}$/)
      .filter(
        (e) =>
          ![
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
          ].includes(e),
      )
      .map(
        (ev): EnvCase => ({
          patch: target({
            kind: "sns",
            name: "mail",
            topicArn: "arn:aws:sns:eu-west-1:123456789012:oncall",
            events: [ev],
          }),
          path: "notify.targets[0].events[0]",
          rule: "must be one of promotion, rollout-started",
        }),
      ),
    fc.constantFrom("warn", "error", "fatal").map(
      (sev): EnvCase => ({
        patch: target({
          kind: "sns",
          name: "mail",
          topicArn: "arn:aws:sns:eu-west-1:123456789012:oncall",
          minSeverity: sev,
        }),
        path: "notify.targets[0].minSeverity",
        rule: "must be one of info, warning, critical",
      }),
    ),
    fc
      .oneof(fc.integer({ min: 30_001, max: 1e9 }), fc.integer({ min: -1e6, max: 99 }))
      .map((ms) => one(["notify", "timeoutMs"], ms, /^Too (small|big)/)),
    fc
      .stringMatching(/^[a-z_]{1,20}$/)
      .map((m) =>
        one(
          ["drift", "classes"],
          [{ match: m, severity: "low" }],
          "must be <resource type>.<attribute> with * as a wildcard",
        ),
      )
      .map((c) => ({ ...c, path: "drift.classes[0].match" })),
    fc.constantFrom("minor", "severe", "info").map((sev) => ({
      ...one(["drift", "classes"], [{ match: "*.tags", severity: sev }], "must be one of critical, high, medium, low"),
      path: "drift.classes[0].severity",
    })),
  ];
}

function patched(name: string, patch: Patch): Record<string, unknown> {
  const data: any = structuredClone({
    ...dev,
    name,
    network: { ...dev.network, cidr: "10.9.0.0/16" },
    release: { ...dev.release, promotesTo: [] },
  });
  for (const [path, value] of patch) {
    let at = data;
    for (const k of path.slice(0, -1)) at = at[k];
    at[path.at(-1)!] = value;
  }
  return data;
}

interface ReleaseCase extends Omit<Expected, "subject"> {
  /** Returns the file's new text from the shipped one. */
  readonly edit: (release: any, text: string) => string;
}
const asJson = (r: unknown) => `${JSON.stringify(r, null, 2)}\n`;
const withRelease = (f: (r: any) => void) => (r: any) => {
  f(r);
  return asJson(r);
};

/** dev with 1.6.0 staged in green and a rollout of it with `steps` (otherwise valid). */
const withRollout = (steps: unknown[]) =>
  withRelease((r) => {
    r.slots.green = { version: "1.6.0", weight: 0 };
    r.history.push({ version: "1.6.0", served: false });
    r.rollout = {
      target: "green",
      nextStep: 0,
      steps,
      before: { blue: 100, green: 0 },
      startedAt: "2026-11-23T11:00:00.000Z",
      paused: false,
      extensions: 0,
    };
  });
const at = (percent: number) => ({ percent, bakeSeconds: 300 });
const pauseStep = fc.constantFrom<unknown>({ pause: "manual" }, { pause: 60 }, { pause: 1 });
/** Increasing weights ending at 100 (a valid canary), 1-5 steps. */
const validWeights = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 4 })
  .map((w) => [...w.sort((a, b) => a - b), 100]);

function rolloutStepCases(): fc.Arbitrary<ReleaseCase>[] {
  return [
    // The last weight step short of 100 (status showed "0/1 steps applied (10 %), next 10 %").
    fc
      .tuple(
        fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 5 }),
        fc.option(pauseStep, { nil: undefined }),
      )
      .map(([w, pause]) => {
        const steps: unknown[] = w.sort((a, b) => a - b).map(at);
        if (pause !== undefined) steps.splice(1, 0, pause);
        const last =
          steps.length -
          1 -
          [...steps].reverse().findIndex((x) => typeof x === "object" && x !== null && "percent" in x);
        return {
          edit: withRollout(steps),
          path: `rollout.steps[${last}].percent`,
          rule: "the last weight step must be 100",
        };
      }),
    // Weights that do not increase strictly.
    fc
      .tuple(
        validWeights.filter((w) => w.length >= 2),
        fc.nat(),
        fc.nat(),
      )
      .map(([w, k0, d]) => {
        const k = 1 + (k0 % (w.length - 1));
        const steps = w.map((p, i) => at(i === k ? Math.max(1, w[k - 1]! - (d % w[k - 1]!)) : p));
        return { edit: withRollout(steps), path: `rollout.steps[${k}].percent`, rule: "steps must increase strictly" };
      }),
    // A pause before any traffic moves.
    fc.tuple(pauseStep, validWeights).map(([p, w]) => ({
      edit: withRollout([p, ...w.map(at)]),
      path: "rollout.steps[0]",
      rule: "the first step must set a weight (a pause before any traffic moves waits for nothing)",
    })),
    // No weight step at all.
    fc
      .array(pauseStep, { minLength: 1, maxLength: 3 })
      .map((steps) => ({ edit: withRollout(steps), path: "rollout.steps", rule: "needs at least one weight step" })),
    // Malformed steps, each at its own index of an otherwise valid canary.
    fc
      .tuple(
        validWeights,
        fc.nat(),
        fc.constantFrom<[unknown, string, string | RegExp]>(
          [{ percent: 50 }, ".bakeSeconds", "is required with percent"],
          [{ bakeSeconds: 60 }, ".percent", "is required with bakeSeconds"],
          [{ percent: 50, bakeSeconds: 60, pause: "manual" }, ".pause", "cannot be combined with percent/bakeSeconds"],
          [{}, "", "must set percent and bakeSeconds, or pause"],
          [{ pause: "forever" }, ".pause", 'must be "manual" or a number of seconds (1-86400)'],
          [{ percent: 50, bakeSeconds: 86_401 }, ".bakeSeconds", /^Too big: expected number to be <=86400/],
          [{ percent: 101, bakeSeconds: 60 }, ".percent", /^Too big: expected number to be <=100/],
          [{ percent: 0, bakeSeconds: 60 }, ".percent", /^Too small: expected number to be >=1/],
        ),
      )
      .map(([w, i0, [bad, field, rule]]) => {
        const i = 1 + (i0 % w.length);
        const steps: unknown[] = w.map(at);
        steps.splice(i, 0, bad);
        return { edit: withRollout(steps), path: `rollout.steps[${i}]${field}`, rule };
      }),
    // More steps than a policy may have.
    fc.integer({ min: 21, max: 40 }).map((n) => ({
      edit: withRollout(Array.from({ length: n }, (_, i) => at(Math.max(1, 100 - (n - 1 - i))))),
      path: "rollout.steps",
      rule: /^Too big: expected array to have <=20 items/,
    })),
  ];
}

const releaseCases: fc.Arbitrary<ReleaseCase> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }))
    .filter(([b, g]) => b + g !== 100)
    .map(([b, g]) => ({
      edit: withRelease((r) => {
        r.slots.blue.weight = b;
        r.slots.green = { version: "1.6.0", weight: g };
      }),
      path: "slots",
      rule: `weights must sum to 100 (blue ${b} + green ${g} = ${b + g})`,
    })),
  fc
    .tuple(
      fc.constantFrom("blue", "green"),
      fc.oneof(fc.integer({ min: 101, max: 1e9 }), fc.integer({ min: -1e9, max: -1 })),
    )
    .map(([slot, w]) => ({
      edit: withRelease((r) => {
        r.slots[slot].weight = w;
      }),
      path: `slots.${slot}.weight`,
      rule: "must be 0-100",
    })),
  fc
    .double({ min: 0.01, max: 99.99, noNaN: true })
    .filter((w) => !Number.isInteger(w))
    .map((w) => ({
      edit: withRelease((r) => {
        r.slots.blue.weight = w;
      }),
      path: "slots.blue.weight",
      rule: "must be an integer",
    })),
  fc.oneof(templated, fc.stringMatching(/^[a-z0-9]{0,4}[ /:@"'][a-z0-9]{0,4}$/), fc.constant("")).map((v) => ({
    edit: withRelease((r) => {
      r.slots.blue.version = v;
    }),
    path: "slots.blue.version",
    rule: "must be a valid image tag",
  })),
  fc
    .tuple(fc.constantFrom<string[]>([], ["slots"], ["slots", "blue"]), word)
    .filter(
      ([p, k]) =>
        ![
          "environment",
          "live",
          "slots",
          "previousLive",
          "history",
          "rollout",
          "pending",
          "lastChange",
          "maintenance",
          "blue",
          "green",
          "version",
          "weight",
        ].includes(k),
    )
    .map(([path, k]) => ({
      edit: withRelease((r) => {
        let at = r;
        for (const p of path) at = at[p];
        at[k] = true;
      }),
      path: path.join("."),
      rule: `has unknown field(s) ${k}`,
    })),
  fc
    .string({ maxLength: 6 })
    .filter((s) => s !== "blue" && s !== "green")
    .map((s) => ({
      edit: withRelease((r) => {
        r.live = s;
      }),
      path: "live",
      rule: "expected one of",
    })),
  fc
    .stringMatching(/^[a-z][a-z0-9-]{1,10}[a-z0-9]$/)
    .filter((n) => n !== "dev")
    .map((n) => ({
      edit: withRelease((r) => {
        r.environment = n;
      }),
      path: "environment",
      rule: `must be dev (found ${n})`,
    })),
  // A rollout's steps hold the canary rules of the policy (lib/release/model/policy.ts).
  ...rolloutStepCases(),
  // Maintenance mode: the ALB's limits, CIDRs, templates.
  fc.integer({ min: 1025, max: 5000 }).map((n) => ({
    edit: withRelease((r) => {
      r.maintenance = { message: "x".repeat(n), since: "2026-11-23T11:00:00.000Z", by: "alice" };
    }),
    path: "maintenance.message",
    rule: "must be at most 1024 characters",
  })),
  fc.tuple(fc.integer({ min: 256, max: 999 }), fc.integer({ min: 0, max: 32 })).map(([o, b]) => ({
    edit: withRelease((r) => {
      r.maintenance = {
        message: "down",
        allowCidrs: [`10.${o}.0.0/${b}`],
        since: "2026-11-23T11:00:00.000Z",
        by: "alice",
      };
    }),
    path: "maintenance.allowCidrs[0]",
    rule: "must be a CIDR block",
  })),
  templated
    .filter((t) => /[$%]\{/.test(t))
    .map((t) => ({
      edit: withRelease((r) => {
        r.maintenance = { message: `down ${t}`, since: "2026-11-23T11:00:00.000Z", by: "alice" };
      }),
      path: "maintenance.message",
      rule: "must not contain a Terraform template sequence",
    })),
  // Syntax errors: the file cut short, or a character replaced; named by line and column.
  fc.tuple(fc.nat(), fc.constantFrom("", "}", ",", ":", "x", "'", "\u0001")).map(([at, insert]) => ({
    edit: (_r: any, text: string) => {
      const cut = 1 + (at % (text.length - 3));
      const replaced = text.slice(0, cut) + insert + (insert === "" ? "" : text.slice(cut + 1));
      try {
        JSON.parse(replaced);
        return text.slice(0, cut); // still JSON (e.g. a character inside a string): cut it short instead
      } catch {
        return replaced;
      }
    },
    path: "",
    rule: /^is not valid JSON: line \d+, column \d+: \S/,
  })),
);

/** Text that is not a whole number in decimal digits within [min, max]. */
const badNumber = (min: number, max: number) =>
  fc
    .oneof(
      fc.constant(""),
      fc.constant(" "),
      fc.constant("1e2"),
      fc.constant("0x32"),
      fc.integer({ min: 0, max: 255 }).map((n) => `0x${n.toString(16)}`),
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => `${a}e${b}`),
      fc.integer({ min: 1, max: 1e6 }).map((n) => `-${n}`),
      fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 9 })).map(([a, b]) => `${a}.${b}`),
      fc.integer({ min: max + 1, max: 1e12 }).map(String),
      fc.integer({ min: 0, max: max }).map((n) => ` ${n}`),
      fc.integer({ min: 1, max: 99 }).map((n) => `0${n}`),
      fc.constantFrom("Infinity", "NaN", "+5", "٣", "1_000", "0b11", "0o7"),
      fc.string({ maxLength: 6 }),
    )
    .filter((s) => !(/^(0|[1-9]\d*)$/.test(s) && Number(s) >= min && Number(s) <= max));

interface ArgCase extends Expected {
  readonly argv: string[];
}

const NAME_ONE = "must not be empty or blank: name an environment";
const NAME_ONE_OR_ALL = "must not be empty or blank: name an environment, or leave it out (default: all)";
const NAME_ONE_OR_NONE = "must not be empty or blank: name an environment, or leave it out";
/** Every argument that names an environment (and a few others), as (blank) → argv, subject, path, rule. */
const BLANK_ARGUMENTS: [(b: string) => string[], string, string, string][] = [
  [(b) => ["status", b], "status", "<env>", NAME_ONE_OR_ALL],
  [(b) => ["status", b, "--json"], "status", "<env>", NAME_ONE_OR_ALL],
  [(b) => ["status", b, "--live"], "status", "<env>", NAME_ONE_OR_ALL],
  [(b) => ["cost", b], "cost", "<env>", NAME_ONE_OR_ALL],
  [
    (b) => ["drift", b],
    "drift",
    "<env>",
    "must not be empty or blank: name an environment, or leave it out (default: every one but previews)",
  ],
  [(b) => ["stage", b], "stage", "<env>", NAME_ONE],
  [(b) => ["stage", b, "--version", "1.6.0"], "stage", "<env>", NAME_ONE],
  [(b) => ["promote", b, "staging"], "promote", "<from>", NAME_ONE],
  [(b) => ["promote", "dev", b], "promote", "<to>", NAME_ONE],
  [(b) => ["shift", b, "--to", "green", "--percent", "10"], "shift", "<env>", NAME_ONE],
  [(b) => ["rollout", b], "rollout", "<env>", NAME_ONE],
  [(b) => ["rollback", b], "rollback", "<env>", NAME_ONE],
  [(b) => ["abort", b], "abort", "<env>", NAME_ONE],
  [(b) => ["snapshot", b, "--yes"], "snapshot", "<env>", NAME_ONE],
  [(b) => ["reconcile", b], "reconcile", "<env>", NAME_ONE],
  [(b) => ["maintenance", b, "on"], "maintenance", "<env>", NAME_ONE],
  [(b) => ["notify", b, "migration", "--reason", "x"], "notify", "<env>", NAME_ONE],
  [(b) => ["diff", b, "dev"], "diff", "<envA>", NAME_ONE],
  [(b) => ["diff", "dev", b], "diff", "<envB>", NAME_ONE],
  [(b) => ["config", "show", b], "config show", "<env>", NAME_ONE],
  [(b) => ["config", "diff", b, "staging"], "config diff", "<a>", NAME_ONE_OR_NONE],
  [(b) => ["config", "diff", "dev", b], "config diff", "<b>", NAME_ONE_OR_NONE],
  [(b) => ["secret", "list", b], "secret list", "<env>", NAME_ONE],
  [(b) => ["secret", "set", b, "SMTP_PASSWORD", "--yes"], "secret set", "<env>", NAME_ONE],
  [(b) => ["restore", b, "--latest"], "restore", "<env>", NAME_ONE],
  [(b) => ["plan-summary", "dev.json", "--only", b], "plan-summary", "--only", NAME_ONE],
  [(b) => ["release-check", "--base", "HEAD", "--only", b], "release-check", "--only", NAME_ONE],
  [(b) => ["preview", "create", "pr-7-feature", "--base", b, "--no-deploy"], "preview create", "--base", NAME_ONE],
  [(b) => ["secret", "set", "dev", b, "--yes"], "secret set", "<name>", "must not be empty or blank"],
  [(b) => ["preview", "destroy", b], "preview destroy", "<name>", "must not be empty or blank"],
  [(b) => ["plan-summary", "dev.json", b], "plan-summary", "<plans>", "must not be empty or blank"],
];

const argCases: fc.Arbitrary<ArgCase> = fc.oneof(
  badNumber(0, 100).map((v) => ({
    argv: ["shift", "dev", "--to", "green", `--percent=${v}`],
    subject: "shift",
    path: "--percent",
    rule: "must be 0-100 (a whole number in decimal digits)",
  })),
  badNumber(0, 3600).map((v) => ({
    argv: ["shift", "dev", "--to", "blue", "--percent", "100", `--wait=${v}`],
    subject: "shift",
    path: "--wait",
    rule: "must be 0-3600 seconds",
  })),
  badNumber(0, 86_400).map((v) => ({
    argv: ["rollout", "staging", `--bake=${v}`],
    subject: "rollout",
    path: "--bake",
    rule: "must be 0-86400 seconds",
  })),
  badNumber(1, 90).map((v) => ({
    argv: ["preview", "create", "pr-7-feature", `--ttl-days=${v}`, "--no-deploy"],
    subject: "preview create",
    path: "--ttl-days",
    rule: "must be 1-90 days",
  })),
  fc
    .string({ maxLength: 8 })
    .filter((s) => s !== "blue" && s !== "green")
    .map((v) => ({
      argv: ["shift", "dev", `--to=${v}`, "--percent", "10"],
      subject: "shift",
      path: "--to",
      rule: "must be blue or green",
    })),
  fc.oneof(templated, fc.stringMatching(/^[a-z0-9]{0,3}[ /:@"'$][a-z0-9]{0,3}$/)).map((v) => ({
    argv: ["stage", "dev", `--version=${v}`],
    subject: "stage",
    path: "--version",
    rule: "must be a valid image tag",
  })),
  // Maintenance and drift.
  // A leading dash makes any argument an option (commander answers "unknown option '-x'"), not a state.
  fc
    .string({ maxLength: 6 })
    .filter((s) => s !== "on" && s !== "off" && s.trim() !== "" && !s.startsWith("-"))
    .map((v) => ({
      argv: ["maintenance", "dev", v],
      subject: "maintenance",
      path: "--state",
      rule: "must be on or off",
    })),
  fc.tuple(fc.integer({ min: 256, max: 999 }), fc.integer({ min: 0, max: 99 })).map(([o, b]) => ({
    argv: ["maintenance", "dev", "on", `--allow-cidr=10.${o}.0.0/${b}`],
    subject: "maintenance",
    path: "--allow-cidr[0]",
    rule: "must be a CIDR block",
  })),
  fc.constantFrom("none", "severe", "LOW", "").map((v) => ({
    argv: ["drift", "dev", `--heal=${v}`],
    subject: "drift",
    path: "--heal",
    rule: "must be one of critical, high, medium, low",
  })),
  // An empty or blank argument, wherever a command takes one (`status ""` once listed every environment).
  fc
    .tuple(fc.constantFrom(...BLANK_ARGUMENTS), fc.constantFrom("", " ", "   ", "\t", " \n "))
    .map(([[argv, subject, path, rule], b]) => ({ argv: argv(b), subject, path, rule })),
);

/** A valid release file: `live` serves `version`; the idle slot holds `idle` (null: empty) at 0 %, optionally the previous live one. */
function releaseOf(
  env: string,
  live: "blue" | "green",
  version: string,
  idle: string | null,
  idleServed = false,
): Record<string, unknown> {
  const other = live === "blue" ? "green" : "blue";
  return {
    environment: env,
    live,
    slots: { [live]: { version, weight: 100 }, [other]: { version: idle, weight: 0 } },
    previousLive: idle !== null && idleServed ? other : null,
    history: [
      ...(idle !== null && idle !== version ? [{ version: idle, served: idleServed }] : []),
      { version, served: true },
    ],
    rollout: null,
    pending: null,
    lastChange: null,
  };
}

interface NoopCase {
  readonly releases: Record<string, Record<string, unknown>>;
  readonly argv: string[];
  /** The environment that stays as it is, and why (after "<env>: nothing to change: "). */
  readonly env: string;
  readonly reason: string;
}

const tag = fc
  .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }))
  .map(([a, b, c]) => `${a}.${b}.${c}`);
const liveSlot = fc.constantFrom("blue" as const, "green" as const);
const idleOf = (s: "blue" | "green") => (s === "blue" ? "green" : "blue");
const runs = (env: string, v: string, live: string) =>
  `${env} already runs ${v} with no settings in its live slot ${live}, the same version with the environment's current settings: staging it again would change nothing`;
const holds = (env: string, v: string, idle: string) =>
  `the idle slot ${idle} of ${env} already holds ${v} with no settings: it is staged; 'envctl rollout ${env}' canaries it`;

/**
 * Promotions and stages of what the target already runs (its live slot) or already holds (its idle
 * slot at 0 %, exactly): no change, so no refusal either (exit 0, README: "Commands that would
 * change nothing say so and write nothing").
 */
const noopCases: fc.Arbitrary<NoopCase> = fc.oneof(
  // promote dev staging: staging already runs dev's live version.
  fc.tuple(tag, liveSlot, liveSlot, fc.option(tag, { nil: null })).map(([v, ds, ss, idle]) => ({
    releases: { dev: releaseOf("dev", ds, v, null), staging: releaseOf("staging", ss, v, idle === v ? null : idle) },
    argv: ["promote", "dev", "staging"],
    env: "staging",
    reason: runs("staging", v, ss),
  })),
  // promote dev staging: staging's idle slot already holds it (also when that slot was live before: kept for rollback).
  fc
    .tuple(tag, tag, liveSlot, liveSlot, fc.boolean())
    .filter(([v, w]) => v !== w)
    .map(([v, w, ds, ss, served]) => ({
      releases: { dev: releaseOf("dev", ds, v, null), staging: releaseOf("staging", ss, w, v, served) },
      argv: ["promote", "dev", "staging"],
      env: "staging",
      reason: holds("staging", v, idleOf(ss)),
    })),
  // stage dev --version <its live version>, and a bare stage (the live version, the same settings).
  fc.tuple(tag, liveSlot, fc.option(tag, { nil: null }), fc.boolean()).map(([v, ds, idle, bare]) => ({
    releases: { dev: releaseOf("dev", ds, v, idle === v ? null : idle) },
    argv: bare ? ["stage", "dev"] : ["stage", "dev", "--version", v],
    env: "dev",
    reason: runs("dev", v, ds),
  })),
  // stage dev --version <what the idle slot holds>.
  fc
    .tuple(tag, tag, liveSlot)
    .filter(([v, w]) => v !== w)
    .map(([v, w, ds]) => ({
      releases: { dev: releaseOf("dev", ds, w, v) },
      argv: ["stage", "dev", "--version", v],
      env: "dev",
      reason: holds("dev", v, idleOf(ds)),
    })),
  // A bare stage of an environment that receives versions by promotion (staging).
  fc.tuple(tag, liveSlot).map(([v, ss]) => ({
    releases: { staging: releaseOf("staging", ss, v, null) },
    argv: ["stage", "staging"],
    env: "staging",
    reason: runs("staging", v, ss),
  })),
);

// ---- the suite ---------------------------------------------------------------------------------

describe("generated bad input: refused with a clear message, exit 1, nothing changed", () => {
  let dir: string;
  let cli: InProcessCli;
  let pristineRelease: string;
  let counter = 0;
  const started = Date.now();
  let cases = 0;

  beforeAll(() => {
    dir = tempProject();
    cli = inProcessCli(dir);
    pristineRelease = readFileSync(join(dir, "environments/releases/dev.json"), "utf8");
  });

  afterAll(() => {
    // Figures for the report (the suite's duration is part of the issue's done-when).
    console.log(
      `bad-input suite: ${cases} generated cases in-process in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  /** Runs one case: nothing may change on disk and nothing may deploy. */
  async function refused(argv: string[], expected: Expected, context: string): Promise<void> {
    const before = treeDigest(dir);
    const r = await cli.run(argv);
    expectRefused(r, expected, `${context}\nenvctl ${argv.join(" ")}`);
    expect(treeDigest(dir), context).toEqual(before);
    expect(cli.deployed, context).toEqual([]);
    cases++;
  }

  it(`environment files (${RUNS.environmentFiles} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(envCases, fc.constantFrom("status", "status-one", "cost", "shift"), async (c, command) => {
        const name = `qa${++counter}`;
        const file = join(dir, "environments", `${name}.ts`);
        const data = patched(name, c.patch);
        writeFileSync(
          file,
          `import { defineEnvironment } from "../lib/index.ts";\nexport default defineEnvironment(${JSON.stringify(data)} as any);\n`,
        );
        try {
          const argv =
            command === "status"
              ? ["status"]
              : command === "status-one"
                ? ["status", name]
                : command === "cost"
                  ? ["cost", name]
                  : ["shift", name, "--to", "blue", "--percent", "100"];
          await refused(
            argv,
            { subject: name, path: c.path, rule: c.rule },
            `environments/${name}.ts: ${JSON.stringify(c.patch)}`,
          );
        } finally {
          rmSync(file, { force: true });
        }
      }),
      { numRuns: RUNS.environmentFiles },
    );
  });

  it(`release files (${RUNS.releaseFiles} cases)`, async () => {
    const file = join(dir, "environments/releases/dev.json");
    await fc.assert(
      fc.asyncProperty(
        releaseCases,
        fc.constantFrom<string[]>(
          ["status"],
          ["status", "dev"],
          ["shift", "dev", "--to", "blue", "--percent", "100"],
          ["rollback", "dev"],
        ),
        async (c, argv) => {
          const text = c.edit(JSON.parse(pristineRelease), pristineRelease);
          writeFileSync(file, text);
          try {
            await refused(
              argv,
              { subject: "environments/releases/dev.json", path: c.path, rule: c.rule },
              `dev.json:\n${text}`,
            );
          } finally {
            writeFileSync(file, pristineRelease);
          }
        },
      ),
      { numRuns: RUNS.releaseFiles },
    );
  });

  it(`envctl arguments (${RUNS.arguments} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(argCases, async (c) => {
        await refused(c.argv, c, JSON.stringify(c.argv));
        expect(existsSync(join(dir, "environments/previews.json"))).toBe(false);
      }),
      { numRuns: RUNS.arguments },
    );
  });

  it(`commands that would change nothing: exit 0, say why, write nothing (${RUNS.noops} cases)`, async () => {
    const files = ["dev", "staging"].map((e) => join(dir, `environments/releases/${e}.json`));
    const pristine = files.map((f) => readFileSync(f, "utf8"));
    await fc.assert(
      fc.asyncProperty(noopCases, fc.subarray(["--no-deploy", "--dry-run", "--json"]), async (c, flags) => {
        for (const [env, release] of Object.entries(c.releases))
          writeFileSync(join(dir, `environments/releases/${env}.json`), asJson(release));
        try {
          const before = treeDigest(dir);
          const argv = [...c.argv, ...flags];
          const r = await cli.run(argv);
          const report = `envctl ${argv.join(" ")}\n${JSON.stringify(c.releases)}\n--- stderr:\n${r.stderr}`;
          expect(r.code, report).toBe(0);
          expect(r.stderr, report).toContain(`${c.env}: nothing to change: ${c.reason}`);
          expect(r.stderr, report).not.toMatch(STACK_TRACE);
          expect(treeDigest(dir), report).toEqual(before);
          expect(cli.deployed, report).toEqual([]);
          cases++;
        } finally {
          files.forEach((f, i) => {
            writeFileSync(f, pristine[i]!);
          });
        }
      }),
      { numRuns: RUNS.noops },
    );
  });
});

describe("a promotion of the live version with other settings is a settings-only change, said and staged", () => {
  it("says what differs and stages it; staging it again (promote or bare stage) changes nothing", async () => {
    const dir = tempProject();
    const settings = slotSettings({ SMTP_HOST: "smtp.example.com" });
    const cli = inProcessCli(dir, { settings: (e) => (e.name === "staging" ? settings : null) });
    const file = join(dir, "environments/releases/staging.json");
    writeFileSync(file, asJson(releaseOf("staging", "blue", "1.5.0", null)));
    const staged = await cli.run(["promote", "dev", "staging", "--no-deploy"]);
    expect(staged.code, staged.stderr).toBe(0);
    expect(staged.stderr).toContain(
      `staging: settings-only change: staging runs 1.5.0 in its live slot blue with no settings; the environment's settings are now settings ${settings.checksum}: staging 1.5.0 with them into the idle slot green`,
    );
    expect(JSON.parse(readFileSync(file, "utf8")).slots.green).toEqual({ version: "1.5.0", settings, weight: 0 });
    const digest = treeDigest(dir);
    for (const argv of [
      ["promote", "dev", "staging"],
      ["stage", "staging"],
    ]) {
      const again = await cli.run(argv);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain(
        `staging: nothing to change: the idle slot green of staging already holds 1.5.0 with settings ${settings.checksum}: it is staged; 'envctl rollout staging' canaries it`,
      );
    }
    expect(treeDigest(dir)).toEqual(digest);
    expect(cli.deployed).toEqual([]);
  });
});

describe("environment files that never finish loading: named, exit 1, within the time limit", () => {
  const LIMIT = "2";
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.ENVSTACK_LOAD_TIMEOUT_SECONDS;
    process.env.ENVSTACK_LOAD_TIMEOUT_SECONDS = LIMIT;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ENVSTACK_LOAD_TIMEOUT_SECONDS;
    else process.env.ENVSTACK_LOAD_TIMEOUT_SECONDS = saved;
  });

  const NEVER_SETTLED =
    "cannot be loaded (environments/qa.ts): its top-level await never settled (nothing was left that could settle it)";
  const TOO_LONG = `cannot be loaded (environments/qa.ts): it did not finish loading within ${LIMIT} s (an endless loop, or a top-level await still waiting); the limit is ENVSTACK_LOAD_TIMEOUT_SECONDS`;
  const ENV = `import { defineEnvironment } from "../lib/index.ts";\nimport dev from "./dev.ts";\n`;
  const cases: [string, Record<string, string>, string][] = [
    [
      "a top-level await that nothing settles",
      { "qa.ts": `${ENV}await new Promise(() => {});\nexport default dev;\n` },
      NEVER_SETTLED,
    ],
    [
      "a top-level await on a timer past the limit",
      { "qa.ts": `${ENV}await new Promise((r) => setTimeout(r, 600_000));\nexport default dev;\n` },
      TOO_LONG,
    ],
    ["an endless loop", { "qa.ts": `${ENV}for (;;) {}\n` }, TOO_LONG],
    [
      "an endless loop in a local module it imports",
      {
        "_spin.ts": "export const spin = () => { while (true) {} };\nspin();\n",
        "qa.ts": `${ENV}import "./_spin.ts";\nexport default dev;\n`,
      },
      TOO_LONG,
    ],
  ];

  it.each(cases)("%s (in-process: envctl status)", async (_what, files, rule) => {
    const dir = tempProject((d) => {
      for (const [f, text] of Object.entries(files)) writeFileSync(join(d, "environments", f), text);
    });
    const before = treeDigest(dir);
    const r = await inProcessCli(dir).run(["status"]);
    expectRefused(r, { subject: "qa", path: "", rule }, Object.values(files).join("\n"));
    expect(treeDigest(dir)).toEqual(before);
  });

  it("the limit itself is checked, and the shipped files are data: they load in-process, never in a child process", async () => {
    process.env.ENVSTACK_LOAD_TIMEOUT_SECONDS = "0";
    try {
      const r = await inProcessCli(tempProject()).run(["status"]);
      expectRefused(
        r,
        {
          subject: "ENVSTACK_LOAD_TIMEOUT_SECONDS",
          path: "",
          rule: 'must be 1-600 seconds (a whole number in decimal digits), not "0"',
        },
        "ENVSTACK_LOAD_TIMEOUT_SECONDS=0",
      );
    } finally {
      process.env.ENVSTACK_LOAD_TIMEOUT_SECONDS = LIMIT;
    }
    for (const f of ["dev", "staging", "production"])
      expect(mayRunCode(join(REPO, `environments/${f}.ts`), REPO), f).toBe(false);
    const code = (text: string) => {
      const d = tempProject((x) => writeFileSync(join(x, "environments/qa.ts"), text));
      return mayRunCode(join(d, "environments/qa.ts"), d);
    };
    expect(code(`${ENV}export default { ...dev, name: "qa" /* for while */, domain: "for.example.com // x" };\n`)).toBe(
      false,
    );
    for (const text of [
      "while (1) {}",
      "do {} while (1)",
      "await 1",
      "const f = () => 1",
      "function f() {}",
      "const x = { get y() { return 1 } }",
      "const r = /(a+)+$/",
      "const t = `${1}`",
      "new Array(1)",
      "import('./dev.ts')",
      'import { x } from "some-package"',
      'import { x } from "node:child_process"',
      "Atomics.wait(a, 0, 0)",
    ]) {
      expect(code(text), text).toBe(true);
    }
  });
});

describe("the same, end to end in real processes", () => {
  /** Runs a node script in `cwd`; resolves with its exit code and output. */
  const run = (cwd: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, {
        cwd,
        env: { ...process.env, CI: "1", ENVSTACK_BACKEND: "local", ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  const tsx = join(REPO, "node_modules/tsx/dist/cli.mjs");
  const envctl = join(REPO, "lib/cli/envctl.js");

  it('envctl --percent "", an environment file throwing a string, and synth of a tag ${file("/etc/passwd")}', async () => {
    const a = tempProject();
    const b = tempProject((d) => writeFileSync(join(d, "environments/qa.ts"), `throw "not today";\n`));
    const c = tempProject((d) => {
      writeFileSync(
        join(d, "environments/qa.ts"),
        `import { defineEnvironment } from "../lib/index.ts";\nimport dev from "./dev.ts";\nexport default defineEnvironment({ ...dev, name: "qa", network: { ...dev.network, cidr: "10.9.0.0/16" }, release: { ...dev.release, promotesTo: [] }, tags: { Team: '\${file("/etc/passwd")}' } });\n`,
      );
      writeFileSync(join(d, "environments/releases/qa.json"), pristine());
    });
    const digests = [a, b, c].map(treeDigest);
    const [percent, thrown, synth] = await Promise.all([
      run(a, [envctl, "shift", "dev", "--to", "green", "--percent", ""]),
      run(b, [envctl, "status"]),
      run(c, [tsx, "main.ts"]),
    ]);
    expect(percent.status, percent.stderr).toBe(1);
    expect(percent.stderr).toContain("shift: --percent must be 0-100 (a whole number in decimal digits)");
    expect(thrown.status, thrown.stderr).toBe(1);
    expect(thrown.stderr).toContain("qa: cannot be loaded (environments/qa.ts): not today");
    expect(synth.status, synth.stderr).toBe(1);
    expect(synth.stderr).toContain(
      'qa: tags.Team must not contain a Terraform template sequence ("${" or "%{"): the engine would evaluate it',
    );
    for (const r of [percent, thrown, synth]) expect(r.stderr).not.toMatch(STACK_TRACE);
    expect([a, b, c].map(treeDigest)).toEqual(digests);
    expect(existsSync(join(c, "cdktf.out"))).toBe(false);
  });

  it("envctl on an environment file whose top-level await never settles (Node's exit 13), synth of one with an endless loop", async () => {
    const env = `import dev from "./dev.ts";\n`;
    const a = tempProject((d) =>
      writeFileSync(join(d, "environments/qa.ts"), `${env}await new Promise(() => {});\nexport default dev;\n`),
    );
    const b = tempProject((d) => writeFileSync(join(d, "environments/qa.ts"), `${env}while (true) {}\n`));
    const digests = [a, b].map(treeDigest);
    const started = Date.now();
    const [unsettled, loop] = await Promise.all([
      run(a, [envctl, "status"], { ENVSTACK_LOAD_TIMEOUT_SECONDS: "3" }),
      run(b, [tsx, "main.ts"], { ENVSTACK_LOAD_TIMEOUT_SECONDS: "3" }),
    ]);
    expect(unsettled.status, unsettled.stderr).toBe(1);
    expect(unsettled.stderr).toContain(
      "qa: cannot be loaded (environments/qa.ts): its top-level await never settled (nothing was left that could settle it)",
    );
    expect(loop.status, loop.stderr).toBe(1);
    expect(loop.stderr).toContain(
      "qa: cannot be loaded (environments/qa.ts): it did not finish loading within 3 s (an endless loop, or a top-level await still waiting); the limit is ENVSTACK_LOAD_TIMEOUT_SECONDS",
    );
    for (const r of [unsettled, loop]) expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect([a, b].map(treeDigest)).toEqual(digests);
    expect(existsSync(join(b, "cdktf.out"))).toBe(false);
  });
});

function pristine(): string {
  return JSON.stringify({
    environment: "qa",
    live: "blue",
    slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } },
  });
}
