import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { cidrsOverlap, parseCidr } from "../lib/config/cidr.ts";
import { loadProject } from "../lib/config/load.ts";
import { allocatePreviewCidr, PREVIEW_POOL } from "../lib/config/previews.ts";
import { changedAttributes, driftFromPlan, driftStacks } from "../lib/review/drift.ts";
import { summarize, toMarkdown } from "../lib/review/plan-summary.ts";
import { localBackend, synthTo, tempProject } from "./support/project.ts";

const tg = (slot: string, weight: number) => ({
  arn: `arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/production-app-${slot}/abc`,
  weight,
});
const rule = (blue: number, green: number) => ({
  action: [{ forward: [{ target_group: [tg("blue", blue), tg("green", green)] }] }],
});

function cli(dir: string) {
  const lines: string[] = [];
  const deployed: string[] = [];
  const deps: Deps = {
    cwd: dir,
    env: { ...process.env, CI: "1" },
    deployer: {
      deploy: async (s) => {
        deployed.push(`deploy ${s.join(" ")}`);
      },
      destroy: async (s) => {
        deployed.push(`destroy ${s.join(" ")}`);
      },
    },
    progress: new PlainProgress(() => undefined),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    now: () => new Date("2026-11-22T10:00:00Z"),
  };
  return {
    lines,
    deployed,
    run: (...args: string[]) => main(["node", "envctl", ...args], { ...deps }),
    at: (iso: string) =>
      main.bind(null) &&
      ((...args: string[]) => main(["node", "envctl", ...args], { ...deps, now: () => new Date(iso) })),
  };
}

describe("plan-summary", () => {
  const plans = [
    {
      stack: "production-traffic",
      plan: {
        resource_changes: [
          {
            address: "aws_lb_listener_rule.weighted_rule",
            type: "aws_lb_listener_rule",
            change: { actions: ["update"], before: rule(90, 10), after: rule(50, 50) },
          },
        ],
      },
    },
    {
      stack: "production",
      plan: {
        resource_changes: [
          {
            address: "aws_db_instance.database_postgres",
            type: "aws_db_instance",
            change: { actions: ["delete", "create"], before: {}, after: {} },
          },
          {
            address: "aws_autoscaling_group.compute_asg-green",
            type: "aws_autoscaling_group",
            change: {
              actions: ["update"],
              before: {
                tag: [
                  { key: "Slot", value: "green" },
                  { key: "Version", value: "none" },
                ],
              },
              after: {
                tag: [
                  { key: "Slot", value: "green" },
                  { key: "Version", value: "1.5.0" },
                ],
              },
            },
          },
          { address: "aws_sns_topic.monitoring_alarms", type: "aws_sns_topic", change: { actions: ["no-op"] } },
          {
            address: "aws_security_group.app-sg",
            type: "aws_security_group",
            change: { actions: ["create", "delete"] },
          },
        ],
      },
    },
    {
      stack: "dev",
      plan: {
        resource_changes: [
          { address: "aws_vpc.network_vpc", type: "aws_vpc", change: { actions: ["create"], after: {} } },
        ],
      },
    },
  ];

  it("renders counts, traffic in words, versions and a risk section, deterministically", () => {
    const md = toMarkdown(summarize(plans));
    expect(md).toBe(`## Plan summary

| environment | stack | create | update | replace | delete |
|---|---|---:|---:|---:|---:|
| dev | dev | 1 | 0 | 0 | 0 |
| production | production | 0 | 1 | 2 | 0 |
| production | production-traffic | 0 | 1 | 0 | 0 |

### dev

#### dev: 1 change

- create: \`aws_vpc.network_vpc\`

### production

#### production: 3 changes

- **version** green: (empty) → 1.5.0
- update: \`aws_autoscaling_group.compute_asg-green\`
- replace: \`aws_db_instance.database_postgres\`
- replace: \`aws_security_group.app-sg\`

#### production-traffic: 1 change

- **traffic**: production: blue 90 → 50, green 10 → 50
- update: \`aws_lb_listener_rule.weighted_rule\`

### Risk

**BLOCKING**: stateful resources would be replaced or deleted:

- production / production: replace \`aws_db_instance.database_postgres\` (aws_db_instance)

Other replacements and deletions:

- production: replace \`aws_security_group.app-sg\`
`);
    expect(toMarkdown(summarize([...plans].reverse()))).toBe(md);
  });

  it("--fail-on stateful exits 6 listing the offending resources; 0 without them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plans-"));
    for (const p of plans) writeFileSync(join(dir, `${p.stack}.json`), JSON.stringify(p.plan));
    const c = cli(tempProject());
    expect(
      await c.run("plan-summary", ...plans.map((p) => join(dir, `${p.stack}.json`)), "--fail-on", "stateful"),
    ).toBe(6);
    expect(c.lines.join("\n")).toContain(
      "blocked: stateful resources would be replaced or deleted:\n  - production: replace aws_db_instance.database_postgres",
    );
    expect(
      await c.run("plan-summary", join(dir, "production-traffic.json"), join(dir, "dev.json"), "--fail-on", "stateful"),
    ).toBe(0);
    expect(await c.run("plan-summary", join(dir, "production.json"), "--fail-on", "stateful", "--only", "dev")).toBe(0);
    expect(await c.run("plan-summary", join(dir, "missing.json"))).toBe(1);
  });
});

describe("plan-summary of a removed stack", () => {
  it("shows a <stack>.destroy.json plan as the stack's destruction, and the stateful guard sees it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plans-"));
    const destroy = {
      resource_changes: [
        {
          address: "aws_db_instance.database_postgres",
          type: "aws_db_instance",
          change: { actions: ["delete"], before: {} },
        },
        { address: "aws_vpc.network_vpc", type: "aws_vpc", change: { actions: ["delete"], before: {} } },
      ],
    };
    writeFileSync(join(dir, "qa.destroy.json"), JSON.stringify(destroy));
    const c = cli(tempProject());
    expect(await c.run("plan-summary", join(dir, "qa.destroy.json"), "--fail-on", "stateful")).toBe(6);
    expect(c.lines[0]).toBe(`## Plan summary

| environment | stack | create | update | replace | delete |
|---|---|---:|---:|---:|---:|
| qa | qa (removed) | 0 | 0 | 0 | 2 |

### qa

#### qa: removed, destroys 2 resources

- **destroy**: the change removes the stack \`qa\`; applying it destroys everything below
- delete: \`aws_db_instance.database_postgres\`
- delete: \`aws_vpc.network_vpc\`

### Risk

**BLOCKING**: stateful resources would be replaced or deleted:

- qa / qa: delete \`aws_db_instance.database_postgres\` (aws_db_instance)

Other replacements and deletions:

- qa: delete \`aws_vpc.network_vpc\`
`);
  });
});

describe("drift", () => {
  it("without the engine: one clear error before any work, no stack trace", async () => {
    const dir = tempProject();
    const c = cli(dir);
    const code = await main(["node", "envctl", "drift", "dev"], {
      cwd: dir,
      env: { ...process.env, CI: "1", PATH: "/nonexistent", TERRAFORM_BINARY_NAME: "" },
      stdout: (t) => c.lines.push(t),
      stderr: (t) => c.lines.push(t),
      progress: new PlainProgress((l) => c.lines.push(l)),
    });
    expect(code).toBe(1);
    const text = c.lines.join("\n");
    expect(text).toContain(
      "error: drift plans every stack with the Terraform engine, and 'terraform' is not on PATH: install Terraform, or use OpenTofu with TERRAFORM_BINARY_NAME=tofu",
    );
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toContain("drift 1/2");
  });

  it("plans every stack of the permanent environments, a preview only when named", () => {
    const ec2 = { kind: "ec2" };
    const envs = [
      { config: { name: "dev", compute: ec2 } },
      { config: { name: "staging", compute: { kind: "eks" } } },
      { config: { name: "pr-7-x", compute: ec2, expiresAt: "2026-11-29T00:00:00Z" } },
    ];
    expect(driftStacks(envs)).toEqual(["dev", "dev-traffic", "staging", "staging-traffic", "staging-workloads"]);
    expect(driftStacks(envs, "pr-7-x")).toEqual(["pr-7-x", "pr-7-x-traffic"]);
    expect(() => driftStacks(envs, "qa")).toThrow("unknown environment qa");
  });

  it("names drifted resources and attributes from a refresh-only plan", () => {
    const d = driftFromPlan("dev", {
      resource_drift: [
        {
          address: "aws_lb_target_group.tg-blue",
          mode: "managed",
          change: {
            actions: ["update"],
            before: { health_check: [{ path: "/health" }], name: "dev-app-blue", tags_all: { a: "1" } },
            after: { health_check: [{ path: "/changed" }], name: "dev-app-blue", tags_all: { a: "2" } },
          },
        },
      ],
    });
    expect(d).toEqual({
      stack: "dev",
      status: "drifted",
      resources: [{ address: "aws_lb_target_group.tg-blue", attributes: ["health_check"] }],
    });
    expect(driftFromPlan("dev", {}).status).toBe("in sync");
    expect(changedAttributes({ a: 1, b: 2 }, { a: 1, c: 3 })).toEqual(["b", "c"]);
    // what changes by itself, or what the configuration ignores, is not drift
    const volatile = {
      address: "aws_db_instance.db",
      mode: "managed",
      change: {
        actions: ["update"],
        before: { latest_restorable_time: "t1", sg: "a" },
        after: { latest_restorable_time: "t2", sg: "b" },
      },
    };
    expect(driftFromPlan("dev", { resource_drift: [volatile] }, { "aws_db_instance.db": ["sg"] }).status).toBe(
      "in sync",
    );
    expect(driftFromPlan("dev", { resource_drift: [volatile] }).resources).toEqual([
      { address: "aws_db_instance.db", attributes: ["sg"] },
    ]);
  });
});

describe("preview environments", () => {
  it("create → list → synth → destroy, as data files", async () => {
    const dir = tempProject();
    const c = cli(dir);
    expect(await c.run("preview", "create", "pr-123-add-login")).toBe(0);
    expect(c.deployed).toEqual(["deploy pr-123-add-login pr-123-add-login-traffic"]);
    const file = JSON.parse(readFileSync(join(dir, "environments/previews.json"), "utf8"));
    expect(file.previews[0]).toMatchObject({
      name: "pr-123-add-login",
      base: "dev",
      cidr: "10.64.0.0/20",
      expiresAt: "2026-11-29T10:00:00.000Z",
    });
    const project = await loadProject(dir);
    const preview = project.environments.find((e) => e.config.name === "pr-123-add-login")!;
    expect(preview.config).toMatchObject({
      tier: "development",
      network: { cidr: "10.64.0.0/20" },
      tags: { Preview: "true" },
    });
    expect(preview.release.slots.blue.version).toBe("1.5.0");
    // it synthesizes like any environment, but stays off the global dashboard
    const stacks = synthTo(project, localBackend(dir), mkdtempSync(join(tmpdir(), "preview-synth-")));
    expect(Object.keys(stacks)).toEqual(expect.arrayContaining(["pr-123-add-login", "pr-123-add-login-traffic"]));
    expect(Object.values(JSON.parse(stacks["pr-123-add-login"]!).resource.aws_vpc)).toEqual([
      expect.objectContaining({ cidr_block: "10.64.0.0/20" }),
    ]);
    expect(stacks.global).not.toContain("pr-123-add-login");
    expect(stacks.global).toContain("production");
    // repeat on every push: kept, expiry extended
    expect(await c.at("2026-11-23T10:00:00Z")("preview", "create", "pr-123-add-login", "--no-deploy")).toBe(0);
    expect(c.lines.at(-1)).toContain("kept preview pr-123-add-login");
    expect(await c.run("preview", "create", "pr-124-other", "--no-deploy")).toBe(0);
    expect(
      JSON.parse(readFileSync(join(dir, "environments/previews.json"), "utf8")).previews.map((p: any) => p.cidr),
    ).toEqual(["10.64.0.0/20", "10.64.16.0/20"]);
    expect(await c.run("preview", "create", "Bad_Name", "--no-deploy")).toBe(1);
    // gc destroys only what expired
    expect(await c.at("2026-11-30T00:00:00Z")("preview", "gc")).toBe(0);
    expect(c.deployed.at(-1)).toBe("destroy pr-124-other-traffic pr-124-other");
    expect(
      JSON.parse(readFileSync(join(dir, "environments/previews.json"), "utf8")).previews.map((p: any) => p.name),
    ).toEqual(["pr-123-add-login"]);
    expect(await c.run("preview", "destroy", "pr-123-add-login")).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "environments/previews.json"), "utf8")).previews).toEqual([]);
    expect(await c.run("preview", "destroy", "pr-123-add-login")).toBe(1);
  });

  it("allocates CIDRs inside the pool that never overlap anything taken (property)", () => {
    const pool = parseCidr(PREVIEW_POOL)!;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }), (seeds) => {
        const taken = ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"];
        for (const s of seeds) {
          const next = allocatePreviewCidr(taken);
          if (!next) break;
          const c = parseCidr(next)!;
          expect(c.base >= pool.base && c.base < pool.base + 2 ** 20).toBe(true);
          for (const t of taken) expect(cidrsOverlap(c, parseCidr(t)!)).toBe(false);
          taken.push(next);
          if (s % 3 === 0 && taken.length > 4) taken.splice(3 + (s % (taken.length - 3)), 1); // some previews get destroyed
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("cost and changed stacks", () => {
  it("envctl cost prints a dated estimate; diff shows it beside the matrix", async () => {
    const c = cli(tempProject());
    expect(await c.run("cost", "dev")).toBe(0);
    expect(c.lines.at(-1)).toMatch(/^dev: \$\d+\.\d\d \/ month/);
    expect(await c.run("diff", "dev", "production")).toBe(0);
    expect(c.lines.at(-1)).toMatch(/≠ est\. monthly cost \(2026-11-01\)\s+\$\d+\.\d\d\s+\$\d+\.\d\d/);
  });

  it("lists added, changed and removed stacks against a base revision; clear errors on bad revisions; no temp folders left", async () => {
    const dir = tempProject((d) => {
      // the base has qa, an EC2 environment dev promotes into
      writeFileSync(
        join(d, "environments/qa.ts"),
        `import { defineEnvironment } from "../lib/index.ts";
import dev from "./dev.ts";
export default defineEnvironment({ ...dev, name: "qa", account: { id: "444444444444", deployRoleArn: "arn:aws:iam::444444444444:role/envstack-deploy" }, domain: "qa.webapp.example.com", network: { ...dev.network, cidr: "10.9.0.0/16" }, release: { ...dev.release, promotesTo: [] } });
`,
      );
      writeFileSync(
        join(d, "environments/releases/qa.json"),
        JSON.stringify({
          environment: "qa",
          live: "blue",
          slots: { blue: { version: "1.4.0", weight: 100 }, green: { version: null, weight: 0 } },
        }),
      );
    });
    const gitEnv = {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t",
      GIT_CONFIG_GLOBAL: "/dev/null",
    };
    const git = (...a: string[]) => execFileSync("git", a, { cwd: dir, env: gitEnv });
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "base");
    // the change: qa goes away, dev's weights change, a preview comes
    rmSync(join(dir, "environments/qa.ts"));
    rmSync(join(dir, "environments/releases/qa.json"));
    const rel = join(dir, "environments/releases/dev.json");
    const r = JSON.parse(readFileSync(rel, "utf8"));
    r.slots = { blue: { version: "1.5.0", weight: 90 }, green: { version: "1.6.0", weight: 10 } };
    writeFileSync(rel, JSON.stringify(r));
    const c = cli(dir);
    expect(await c.run("preview", "create", "pr-7-x", "--no-deploy")).toBe(0);
    const tmpBefore = readdirSync(tmpdir())
      .filter((f) => f.startsWith("envstack-changed-"))
      .sort();
    const removedOut = mkdtempSync(join(tmpdir(), "removed-"));
    expect(await c.run("changed-stacks", "--base", "main", "--json", "--removed-out", removedOut)).toBe(0);
    expect(JSON.parse(c.lines.at(-1)!)).toEqual({
      stacks: ["dev", "dev-traffic", "global", "pr-7-x", "pr-7-x-traffic"],
      added: ["pr-7-x", "pr-7-x-traffic"],
      changed: ["dev", "dev-traffic", "global"],
      removed: ["qa", "qa-traffic"],
    });
    // the base's synthesized removed stacks, for `tofu plan -destroy`
    expect(readdirSync(removedOut).sort()).toEqual(["qa", "qa-traffic"]);
    expect(JSON.parse(readFileSync(join(removedOut, "qa", "cdk.tf.json"), "utf8")).resource.aws_vpc).toBeDefined();
    expect(await c.run("changed-stacks", "--base", "main")).toBe(0);
    expect(c.lines.at(-1)).toBe(
      [
        "+ pr-7-x (added)",
        "+ pr-7-x-traffic (added)",
        "~ dev (changed)",
        "~ dev-traffic (changed)",
        "~ global (changed)",
        "- qa (removed: destroyed on apply)",
        "- qa-traffic (removed: destroyed on apply)",
      ].join("\n"),
    );
    // an unknown revision: one clear line, no stack trace
    expect(await c.run("changed-stacks", "--base", "origin/nope")).toBe(1);
    expect(c.lines.at(-1)).toBe(
      "error: unknown git revision 'origin/nope': fetch it first (e.g. 'git fetch origin main'; in GitHub Actions check out with fetch-depth: 0)",
    );
    // nothing left behind: no temp folders, no registered worktrees
    expect(
      readdirSync(tmpdir())
        .filter((f) => f.startsWith("envstack-changed-"))
        .sort(),
    ).toEqual(tmpBefore);
    expect(execFileSync("git", ["worktree", "list"], { cwd: dir, encoding: "utf8" }).trim().split("\n")).toHaveLength(
      1,
    );
  });
});
