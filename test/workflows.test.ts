/**
 * The GitHub Actions workflows of .github/workflows, linted and unit-tested as YAML (they are
 * never run here). Shell steps that carry logic (stack lists, slugs, exit codes, the drift
 * issue) are run with bash against fake `npx`, `tofu` and `gh` commands.
 */

import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PreviewSchema } from "../lib/config/previews.ts";
import { REPO, tempProject } from "./support/project.ts";

// ---------------------------------------------------------------------------------------------
// Loading

type Step = {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  "working-directory"?: string;
};
type Concurrency = string | { group: string; "cancel-in-progress"?: boolean | string };
type Permissions = string | Record<string, string>;
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  "runs-on"?: string;
  "timeout-minutes"?: number;
  environment?: string | { name: string; url?: string };
  concurrency?: Concurrency;
  permissions?: Permissions;
  outputs?: Record<string, string>;
  strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  name?: string;
  on: Record<string, any>;
  permissions?: Permissions;
  concurrency?: Concurrency;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const DIR = join(REPO, ".github", "workflows");
const FILES = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const TEXT: Record<string, string> = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(DIR, f), "utf8")]));
const WORKFLOWS: Record<string, Workflow> = Object.fromEntries(FILES.map((f) => [f, parse(TEXT[f]!) as Workflow]));

function wf(file: string): Workflow {
  const w = WORKFLOWS[file];
  if (!w) throw new Error(`no workflow ${file}`);
  return w;
}
function job(file: string, id: string): Job {
  const j = wf(file).jobs[id];
  if (!j) throw new Error(`${file}: no job ${id}`);
  return j;
}
function allJobs(): { file: string; id: string; job: Job }[] {
  return FILES.flatMap((file) => Object.entries(wf(file).jobs).map(([id, j]) => ({ file, id, job: j })));
}
const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const stepsOf = (j: Job): Step[] => j.steps ?? [];
const runText = (j: Job): string =>
  stepsOf(j)
    .map((s) => s.run ?? "")
    .join("\n");
const usesOf = (j: Job): string[] => stepsOf(j).flatMap((s) => (s.uses ? [s.uses] : []));
const usesAction = (j: Job, action: string): boolean => usesOf(j).some((u) => u.split("@")[0] === action);
function stepUsing(j: Job, action: string): Step {
  const s = stepsOf(j).find((x) => x.uses?.split("@")[0] === action);
  if (!s) throw new Error(`no step uses ${action}`);
  return s;
}
function stepRunning(j: Job, fragment: string): Step {
  const s = stepsOf(j).find((x) => x.run?.includes(fragment));
  if (!s) throw new Error(`no step runs ${JSON.stringify(fragment)}`);
  return s;
}
const indexOfRun = (j: Job, fragment: string): number => stepsOf(j).findIndex((s) => s.run?.includes(fragment));
/** Permissions a job ends up with: its own block, else the workflow's. */
function effectivePermissions(file: string, j: Job): Record<string, string> {
  const p = j.permissions ?? wf(file).permissions;
  if (typeof p !== "object" || p === null)
    throw new Error(`${file}: permissions must be a map, got ${JSON.stringify(p)}`);
  return p;
}
const writes = (p: Record<string, string>): string[] =>
  Object.entries(p)
    .filter(([, v]) => v === "write")
    .map(([k]) => k)
    .sort();
/** The concurrency group a job runs in: its own, else the workflow's. */
function concurrencyOf(file: string, j: Job): { group: string; cancel: unknown } | undefined {
  const c = j.concurrency ?? wf(file).concurrency;
  if (c === undefined) return undefined;
  return typeof c === "string"
    ? { group: c, cancel: false }
    : { group: c.group, cancel: c["cancel-in-progress"] ?? false };
}
const environmentName = (j: Job): string | undefined =>
  typeof j.environment === "object" ? j.environment.name : j.environment;

// ---------------------------------------------------------------------------------------------
// Running shell steps

interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** One line per fake command call: `<command> <args...>`. */
  calls: string[];
  dir: string;
}

/**
 * Runs a `run:` script like GitHub does (`bash --noprofile --norc -eo pipefail`), in a temporary
 * directory, with `${{ … }}` expressions replaced from `expressions` and the given fake commands
 * first on the PATH. Every fake logs its call.
 */
const TEMP_DIRS: string[] = [];
afterAll(() =>
  TEMP_DIRS.forEach((d) => {
    rmSync(d, { recursive: true, force: true });
  }),
);

function runStep(
  script: string,
  opts: {
    expressions?: Record<string, string>;
    env?: Record<string, string>;
    fakes?: Record<string, string>;
    files?: Record<string, string>;
  } = {},
): ScriptResult {
  const dir = mkdtempSync(join(tmpdir(), "workflow-step-"));
  TEMP_DIRS.push(dir);
  const bin = join(dir, ".fakebin");
  mkdirSync(bin);
  const log = join(dir, ".calls");
  writeFileSync(log, "");
  for (const [name, body] of Object.entries(opts.fakes ?? {})) {
    const file = join(bin, name);
    writeFileSync(file, `#!/usr/bin/env bash\necho "${name} $*" >> "$FAKE_LOG"\n${body}\n`);
    chmodSync(file, 0o755);
  }
  for (const [path, content] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const expanded = script.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
    const value = opts.expressions?.[expr];
    if (value === undefined) throw new Error(`test gives no value for the expression \${{ ${expr} }}`);
    return value;
  });
  const outputFile = join(dir, ".github_output");
  const summaryFile = join(dir, ".github_step_summary");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const res = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", expanded], {
    cwd: dir,
    encoding: "utf8",
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: dir,
      FAKE_LOG: log,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
      ...opts.env,
    },
  });
  const outputs = Object.fromEntries(
    readFileSync(outputFile, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return {
    status: res.status,
    stdout: res.stdout,
    stderr: res.stderr,
    outputs,
    summary: readFileSync(summaryFile, "utf8"),
    calls: readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== ""),
    dir,
  };
}

const manifest = (...stacks: string[]) =>
  JSON.stringify({ stacks: Object.fromEntries(stacks.map((s) => [s, { name: s, workingDirectory: `stacks/${s}` }])) });

// ---------------------------------------------------------------------------------------------

/**
 * The commit each third-party action is pinned to, and the tag it was read from (`git rev-parse
 * <tag>^{commit}` in the action's own repository): a workflow names exactly this commit, the tag
 * in a comment, so a moved tag never changes what runs.
 */
const PINS: Record<string, { sha: string; tag: string }> = {
  "actions/checkout": { sha: "11d5960a326750d5838078e36cf38b85af677262", tag: "v4.4.0" },
  "actions/setup-node": { sha: "49933ea5288caeca8642d1e84afbd3f7d6820020", tag: "v4.4.0" },
  "opentofu/setup-opentofu": { sha: "9d84900f3238fab8cd84ce47d658d25dd008be2f", tag: "v1.0.8" },
  "aws-actions/configure-aws-credentials": { sha: "7474bc4690e29a8392af63c5b98e7449536d5c3a", tag: "v4.3.1" },
  "actions/cache": { sha: "0057852bfaa89a56745cba8c7296529d2fc39830", tag: "v4.3.0" },
  "actions/upload-artifact": { sha: "ea165f8d65b6e75b540449e92b4886f43607fa02", tag: "v4.6.2" },
  "actions/download-artifact": { sha: "d3f86a106a0bac45b974a628896c90dbdf5c8093", tag: "v4.3.0" },
  "actions/setup-go": { sha: "40f1582b2485089dde7abd97c1529aa768e1baff", tag: "v5.6.0" },
  "marocchino/sticky-pull-request-comment": { sha: "773744901bac0e8cbb5a0dc842800d45e9b2b405", tag: "v2.9.4" },
  "actions/create-github-app-token": { sha: "fee1f7d63c2ff003460e3d139729b119787bc349", tag: "v2.2.2" },
};
const PINNED: Record<string, string> = Object.fromEntries(Object.entries(PINS).map(([a, p]) => [a, p.sha]));

const EXPECTED = [
  "deploy.yml",
  "drift.yml",
  "pr-comment.yml",
  "pr.yml",
  "preview-gc.yml",
  "preview.yml",
  "release.yml",
  "schedule.yml",
];
const TOFU_VERSION = /^OPENTOFU_VERSION=v?(\S+)$/m.exec(
  readFileSync(join(REPO, "lib/engine/versions.env"), "utf8"),
)?.[1];

describe("workflow lint", () => {
  it("has the expected workflow files, all parseable", () => {
    expect(FILES).toEqual(EXPECTED);
    for (const f of FILES) {
      expect(wf(f).name, f).toEqual(expect.any(String));
      expect(Object.keys(wf(f).on).length, f).toBeGreaterThan(0);
      expect(Object.keys(wf(f).jobs).length, f).toBeGreaterThan(0);
    }
  });

  it("pins every action by its full commit SHA, the tag in a comment", () => {
    let pinned = 0;
    for (const f of FILES) {
      for (const line of TEXT[f]!.split("\n").filter((l) => /^\s*(- )?uses:/.test(l))) {
        const m = /uses: ([\w.-]+\/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/.exec(line);
        expect(m, `${f}: ${line.trim()}`).not.toBeNull();
        expect({ sha: m![2], tag: m![3] }, `${f}: ${m![1]}`).toEqual(PINS[m![1]!]);
        pinned++;
      }
    }
    for (const { file, id, job: j } of allJobs()) {
      for (const u of usesOf(j)) expect(u, `${file} ${id}`).toBe(`${u.split("@")[0]}@${PINNED[u.split("@")[0]!]}`);
    }
    expect(pinned).toBeGreaterThan(50);
  });

  it("gives every job runs-on and a timeout", () => {
    for (const { file, id, job: j } of allJobs()) {
      expect(j["runs-on"], `${file} ${id}: runs-on`).toEqual(expect.any(String));
      expect(j["timeout-minutes"], `${file} ${id}: timeout-minutes`).toEqual(expect.any(Number));
      expect(j["timeout-minutes"]!, `${file} ${id}`).toBeGreaterThan(0);
      expect(j["timeout-minutes"]!, `${file} ${id}`).toBeLessThanOrEqual(180);
    }
  });

  it("sets minimal top-level permissions: read at most, never write-all", () => {
    for (const f of FILES) {
      const p = wf(f).permissions;
      expect(typeof p, `${f}: top-level permissions must be a map`).toBe("object");
      for (const [scope, level] of Object.entries(p as Record<string, string>))
        expect(["read", "none"], `${f}: ${scope}: ${level}`).toContain(level);
      expect(TEXT[f], f).not.toMatch(/write-all|read-all/);
    }
    for (const { file, id, job: j } of allJobs()) {
      if (j.permissions !== undefined) expect(typeof j.permissions, `${file} ${id}`).toBe("object");
    }
  });

  it("grants write scopes only where needed: id-token for AWS, pull-requests for the comments, issues for drift; contents never (main is written with the recorder App's token)", () => {
    const allowed: Record<string, string[]> = {
      "pr-comment.yml#comment": ["pull-requests"],
      "drift.yml#report": ["issues"],
    };
    for (const { file, id, job: j } of allJobs()) {
      const granted = writes(effectivePermissions(file, j));
      const aws = usesAction(j, "aws-actions/configure-aws-credentials");
      const expected = [...(allowed[`${file}#${id}`] ?? []), ...(aws ? ["id-token"] : [])].sort();
      expect(granted, `${file} ${id}`).toEqual(expected);
    }
  });

  it("assumes AWS roles through OIDC only: role-to-assume from a variable or secret, no access keys", () => {
    let assumed = 0;
    for (const { file, id, job: j } of allJobs()) {
      for (const s of stepsOf(j).filter((x) => x.uses?.startsWith("aws-actions/configure-aws-credentials@"))) {
        assumed++;
        expect(s.uses, `${file} ${id}`).toBe(
          `aws-actions/configure-aws-credentials@${PINNED["aws-actions/configure-aws-credentials"]}`,
        );
        expect(s.with?.["role-to-assume"], `${file} ${id}`).toMatch(
          /^\$\{\{ (vars|secrets)\.AWS_[A-Z_]+_ROLE_ARN \}\}$/,
        );
        expect(s.with?.["aws-region"], `${file} ${id}`).toBeDefined();
        expect(
          Object.keys(s.with ?? {}).filter((k) => /key|token/i.test(k)),
          `${file} ${id}`,
        ).toEqual([]);
      }
    }
    expect(assumed).toBeGreaterThan(5);
    for (const f of FILES) {
      expect(TEXT[f], f).not.toMatch(
        /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws-access-key-id|aws-secret-access-key|AKIA[0-9A-Z]{16}/,
      );
    }
  });

  it("never expands untrusted input straight into a shell script", () => {
    const untrusted =
      /\$\{\{\s*(inputs\.|github\.head_ref|github\.event\.(pull_request|issue|comment|review|head_commit|commits)\b)/;
    for (const { file, id, job: j } of allJobs()) {
      for (const s of stepsOf(j)) if (s.run) expect(s.run, `${file} ${id} ${s.name ?? ""}`).not.toMatch(untrusted);
    }
  });

  it("refers only to jobs that exist, without cycles", () => {
    for (const f of FILES) {
      const jobs = wf(f).jobs;
      const visiting = new Set<string>();
      const done = new Set<string>();
      const visit = (id: string) => {
        if (done.has(id)) return;
        expect(visiting.has(id), `${f}: cycle through ${id}`).toBe(false);
        visiting.add(id);
        for (const n of needsOf(jobs[id]!)) {
          expect(Object.keys(jobs), `${f}: ${id} needs ${n}`).toContain(n);
          visit(n);
        }
        visiting.delete(id);
        done.add(id);
      };
      Object.keys(jobs).forEach(visit);
    }
  });

  it("runs OpenTofu (the pinned engine version, no wrapper) wherever tofu or cdktf deploys run", () => {
    expect(TOFU_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    for (const { file, id, job: j } of allJobs()) {
      const needsEngine =
        /\btofu\b|cdktf deploy|npx envctl (preview (create|destroy|gc)|drift|promote|rollout|rollback)|npx envctl "\$\{args/.test(
          runText(j),
        );
      if (!needsEngine) continue;
      const setup = stepUsing(j, "opentofu/setup-opentofu");
      expect(setup.uses, `${file} ${id}`).toBe(`opentofu/setup-opentofu@${PINNED["opentofu/setup-opentofu"]}`);
      expect(setup.with?.tofu_wrapper, `${file} ${id}`).toBe(false);
      expect(setup.with?.tofu_version, `${file} ${id}`).toBe("${{ env.TOFU_VERSION }}");
      expect(wf(file).env?.TOFU_VERSION, file).toBe(TOFU_VERSION);
      expect(wf(file).env?.TERRAFORM_BINARY_NAME, file).toBe("tofu");
    }
  });

  it("installs with npm ci, never npm install", () => {
    for (const { file, id, job: j } of allJobs()) {
      expect(runText(j), `${file} ${id}`).not.toMatch(/npm install|npm i\b/);
      if (/npx /.test(runText(j)) && usesAction(j, "actions/checkout"))
        expect(runText(j), `${file} ${id}`).toMatch(/^npm ci( --ignore-scripts)?$/m);
    }
  });

  it("serialises every change to an environment in a deploy-<env> group, never cancelled", () => {
    const mutating = /cdktf deploy|tofu apply|npx envctl preview (create|destroy)|npx envctl "\$\{args/;
    const mutators = allJobs().filter(({ job: j }) => mutating.test(runText(j)));
    expect(mutators.map(({ file, id }) => `${file}#${id}`).sort()).toEqual([
      "deploy.yml#apply-production",
      "deploy.yml#deploy-dev",
      "deploy.yml#deploy-staging",
      "preview-gc.yml#destroy",
      "preview.yml#deploy",
      "preview.yml#destroy",
      "release.yml#release",
    ]);
    for (const { file, id, job: j } of mutators) {
      const c = concurrencyOf(file, j);
      expect(c?.group, `${file} ${id}`).toMatch(/^deploy-|format\('deploy-\{0\}'/);
      expect(c?.cancel, `${file} ${id}`).toBe(false);
    }
    // The same names across workflows, so a release and a deploy of one environment queue.
    expect(concurrencyOf("deploy.yml", job("deploy.yml", "deploy-dev"))?.group).toBe("deploy-dev");
    expect(concurrencyOf("deploy.yml", job("deploy.yml", "deploy-staging"))?.group).toBe("deploy-staging");
    expect(concurrencyOf("deploy.yml", job("deploy.yml", "plan-production"))?.group).toBe("deploy-production");
    expect(concurrencyOf("deploy.yml", job("deploy.yml", "apply-production"))?.group).toBe("deploy-production");
    // Releases queue with deploys; abort and rollback do not queue behind the rollout they stop.
    expect(concurrencyOf("release.yml", job("release.yml", "release"))?.group).toBe(
      "${{ contains(fromJSON('[\"abort\", \"rollback\"]'), inputs.command) && format('mitigate-{0}', inputs.environment) || format('deploy-{0}', inputs.environment) }}",
    );
    expect(concurrencyOf("preview.yml", job("preview.yml", "deploy"))?.group).toBe(
      "deploy-${{ needs.name.outputs.name }}",
    );
    expect(concurrencyOf("preview.yml", job("preview.yml", "destroy"))?.group).toBe(
      "deploy-${{ needs.name.outputs.name }}",
    );
    expect(concurrencyOf("preview-gc.yml", job("preview-gc.yml", "destroy"))?.group).toBe("deploy-${{ matrix.name }}");
  });
});

// ---------------------------------------------------------------------------------------------
// Trust: what a hostile pull request (or one person) can reach through the workflows.

const triggers = (file: string): string[] => Object.keys(wf(file).on);
const checkoutRefs = (j: Job): unknown[] =>
  stepsOf(j)
    .filter((s) => s.uses?.startsWith("actions/checkout@"))
    .map((s) => s.with?.ref);
const MAIN_ONLY = "${{ github.event.repository.default_branch }}";
/** A job runs the pull request's code: every job of a `pull_request` workflow (its definition is the pull request's own), and a `pull_request_target` job that checks out the pull request's head. */
function runsPullRequestCode(file: string, j: Job): boolean {
  if (triggers(file).includes("pull_request")) return true;
  return (
    triggers(file).includes("pull_request_target") &&
    checkoutRefs(j).some((r) => String(r).includes("github.event.pull_request.head"))
  );
}
const credentialSteps = (j: Job): number[] =>
  stepsOf(j).flatMap((s, i) =>
    s.uses && /^(aws-actions\/configure-aws-credentials|actions\/create-github-app-token)@/.test(s.uses) ? [i] : [],
  );

describe("trust: a hostile pull request, one person", () => {
  it("checks out with persist-credentials: false everywhere (no token waits in the git config)", () => {
    let checkouts = 0;
    for (const { file, id, job: j } of allJobs()) {
      for (const s of stepsOf(j).filter((x) => x.uses?.startsWith("actions/checkout@"))) {
        checkouts++;
        expect(s.with?.["persist-credentials"], `${file} ${id}`).toBe(false);
      }
    }
    expect(checkouts).toBeGreaterThan(10);
  });

  it("expressions reach run: only through env:", () => {
    for (const { file, id, job: j } of allJobs()) {
      for (const s of stepsOf(j))
        if (s.run) expect(s.run, `${file} ${id} ${s.name ?? s.run.slice(0, 40)}`).not.toContain("${{");
    }
  });

  it("a pull_request workflow holds no write token, no id-token, no credentials step and no secret in any job", () => {
    const files = FILES.filter((f) => triggers(f).includes("pull_request"));
    expect(files).toEqual(["pr.yml"]);
    for (const f of files) {
      for (const [id, j] of Object.entries(wf(f).jobs)) {
        expect(writes(effectivePermissions(f, j)), `${f} ${id}`).toEqual([]);
        expect(credentialSteps(j), `${f} ${id}`).toEqual([]);
        expect(JSON.stringify(j), `${f} ${id}`).not.toMatch(/secrets\.|github\.token|GH_TOKEN/);
        expect(j.environment, `${f} ${id}`).toBeUndefined();
      }
    }
  });

  it("a job that runs pull-request code never holds a write token or production credentials; only the preview deploy holds the preview role", () => {
    const prCode = allJobs().filter(({ file, job: j }) => runsPullRequestCode(file, j));
    expect(prCode.map(({ file, id }) => `${file}#${id}`).sort()).toEqual([
      "pr.yml#changed-stacks",
      "pr.yml#config",
      "pr.yml#summary",
      "pr.yml#test",
      "preview.yml#deploy",
    ]);
    for (const { file, id, job: j } of prCode) {
      const granted = writes(effectivePermissions(file, j));
      expect(
        granted.filter((w) => w !== "id-token"),
        `${file} ${id}`,
      ).toEqual([]);
      expect(usesAction(j, "actions/create-github-app-token"), `${file} ${id}`).toBe(false);
      expect(JSON.stringify(j), `${file} ${id}`).not.toMatch(/secrets\.|github\.token|GH_TOKEN/);
      if (granted.includes("id-token") || usesAction(j, "aws-actions/configure-aws-credentials")) {
        // The preview account's role only (its trust policy accepts environment:preview alone); never a plan or production role.
        expect(environmentName(j), `${file} ${id}`).toBe("preview");
        expect(stepUsing(j, "aws-actions/configure-aws-credentials").with?.["role-to-assume"]).toBe(
          "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        );
      }
      // Its files never reach a cache main's jobs restore.
      expect(usesAction(j, "actions/cache") && triggers(file).includes("pull_request_target"), `${file} ${id}`).toBe(
        false,
      );
      if (triggers(file).includes("pull_request_target"))
        expect(stepUsing(j, "actions/setup-node").with?.cache, `${file} ${id}`).toBeUndefined();
    }
  });

  it("a pull_request_target or workflow_run job that does not run the pull request checks out main only (or nothing)", () => {
    for (const { file, id, job: j } of allJobs()) {
      if (
        !triggers(file).some((t) => t === "pull_request_target" || t === "workflow_run") ||
        runsPullRequestCode(file, j)
      )
        continue;
      for (const ref of checkoutRefs(j)) expect(ref, `${file} ${id}`).toBe(MAIN_ONLY);
    }
    expect(checkoutRefs(job("pr-comment.yml", "comment"))).toEqual([]);
  });

  it("writes to main only from main-only jobs, with the recorder App's token, never the workflow's", () => {
    const pushing = allJobs().filter(({ job: j }) => /git push|preview-registry\.sh/.test(runText(j)));
    expect(pushing.map(({ file, id }) => `${file}#${id}`).sort()).toEqual([
      "preview-gc.yml#unregister",
      "preview.yml#register",
      "preview.yml#unregister",
      "release.yml#record",
    ]);
    for (const { file, id, job: j } of pushing) {
      expect(environmentName(j), `${file} ${id}`).toBe("recorder");
      expect(usesAction(j, "aws-actions/configure-aws-credentials"), `${file} ${id}`).toBe(false);
      const app = stepUsing(j, "actions/create-github-app-token");
      expect(app.id).toBe("recorder");
      expect(app.with).toEqual({
        "app-id": "${{ vars.RECORDER_APP_ID }}",
        "private-key": "${{ secrets.RECORDER_APP_KEY }}",
        "permission-contents": "write",
      });
      const push = stepsOf(j).find((s) => /git push|preview-registry\.sh/.test(s.run ?? ""))!;
      expect(push.env?.GH_TOKEN, `${file} ${id}`).toBe("${{ steps.recorder.outputs.token }}");
      expect(stepsOf(j).indexOf(app), `${file} ${id}`).toBeLessThan(stepsOf(j).indexOf(push));
      for (const ref of checkoutRefs(j)) expect([undefined, MAIN_ONLY], `${file} ${id}`).toContain(ref);
    }
    // The App's key is in the main-only recorder environment only.
    for (const { file, id, job: j } of allJobs()) {
      if (JSON.stringify(j).includes("RECORDER_APP_KEY")) expect(environmentName(j), `${file} ${id}`).toBe("recorder");
    }
  });

  it("where credentials are present, dependencies install first with their scripts off, the native addons rebuilt explicitly; no third-party action runs after", () => {
    let guarded = 0;
    for (const { file, id, job: j } of allJobs()) {
      const creds = credentialSteps(j);
      if (creds.length === 0) continue;
      guarded++;
      const first = Math.min(...creds);
      stepsOf(j).forEach((s, i) => {
        if (!/\bnpm (ci|rebuild)\b/.test(s.run ?? "")) return;
        expect(i, `${file} ${id}: install after the credentials`).toBeLessThan(first);
        for (const line of s.run!.split("\n").filter((l) => /\bnpm ci\b/.test(l)))
          expect(line.trim(), `${file} ${id}`).toBe("npm ci --ignore-scripts");
      });
      if (
        /cdktf (synth|deploy)|npx envctl (preview destroy|promote|rollout|abort|rollback|drift)|npx envctl "\$\{args/.test(
          runText(j),
        )
      ) {
        expect(runText(j), `${file} ${id}`).toMatch(/^npm rebuild @cdktf\/node-pty-prebuilt-multiarch esbuild$/m);
      }
      for (const s of stepsOf(j).slice(first + 1))
        if (s.uses) expect(s.uses, `${file} ${id}`).toMatch(/^(actions|aws-actions)\//);
    }
    expect(guarded).toBeGreaterThanOrEqual(10);
  });

  it("the preview deploy synthesizes with main's registry, handed over as data, never the pull request's", () => {
    const j = job("preview.yml", "deploy");
    const adopt = stepRunning(j, "cp .registry/previews.json");
    const r = runStep(adopt.run!, {
      files: {
        "environments/previews.json": '{"previews":[{"name":"pr-9-forged"}]}',
        "environments/releases/pr-9-forged.json": "{}",
        "environments/releases/production.json": "{}",
        ".registry/previews.json": '{"previews":[{"name":"pr-1-a"}]}',
        ".registry/releases/pr-1-a.json": '{"main":true}',
      },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(r.dir, "environments/previews.json"), "utf8")).toBe('{"previews":[{"name":"pr-1-a"}]}');
    expect(readdirSync(join(r.dir, "environments/releases")).sort()).toEqual(["pr-1-a.json", "production.json"]);
    const steps = stepsOf(j);
    expect(steps.indexOf(adopt)).toBeLessThan(credentialSteps(j)[0]!);
    expect(stepUsing(j, "actions/download-artifact").with).toEqual({ name: "preview-registry", path: ".registry" });
  });
});

describe("pr.yml", () => {
  const F = "pr.yml";

  it("runs on pull requests, and never applies or plans anything (no credentials here)", () => {
    expect(Object.keys(wf(F).on)).toEqual(["pull_request"]);
    expect(JSON.stringify(wf(F).jobs)).not.toMatch(
      /tofu (apply|plan)|cdktf deploy|--auto-approve|configure-aws-credentials|id-token|secrets\./,
    );
  });

  it("has the job graph test + changed-stacks → summary, and the configuration check", () => {
    expect(Object.keys(wf(F).jobs).sort()).toEqual(["changed-stacks", "config", "summary", "test"]);
    expect(needsOf(job(F, "config"))).toEqual([]);
    expect(needsOf(job(F, "test"))).toEqual([]);
    expect(needsOf(job(F, "changed-stacks"))).toEqual([]);
    expect(needsOf(job(F, "summary")).sort()).toEqual(["changed-stacks", "test"]);
    expect(job(F, "summary").if).toMatch(/^always\(\) && needs\.changed-stacks\.result == 'success'/);
  });

  it("tests (the engine cached by its pinned versions), synthesizes and uploads cdktf.out and the environments report", () => {
    const j = job(F, "test");
    const order = ["npm ci", "npm test", "npm run synth", "envctl report --html test-results/environments.html"].map(
      (c) => indexOfRun(j, c),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const uploads = stepsOf(j).filter((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(uploads[0]!.with).toMatchObject({ name: "cdktf-out", path: "cdktf.out/" });
    // the report test's screenshot and page, and this change's report: an artifact the comment links
    expect(uploads[1]).toMatchObject({ id: "report", if: "always()" });
    expect(uploads[1]!.with).toMatchObject({ name: "environments-report" });
    expect(String(uploads[1]!.with?.path).trim().split("\n")).toEqual([
      "test-results/environments.html",
      "test-results/report.html",
      "test-results/report.png",
    ]);
    expect(j.env?.ENVSTACK_ARTIFACTS).toBe("test-results");
    expect(j.outputs?.["report-url"]).toBe("${{ steps.report.outputs.artifact-url }}");
    // npm test builds the engine when missing: Go, and a cache keyed by what decides the build
    expect(stepUsing(j, "actions/setup-go").with?.["go-version-file"]).toMatch(/^lib\/engine\/go\/.+\/go\.mod$/);
    const cache = stepUsing(j, "actions/cache");
    expect(cache.with?.path).toBe("~/.cache/envstack");
    expect(cache.with?.key).toContain(
      "hashFiles('lib/engine/versions.env', 'lib/engine/setup-engine.sh', 'lib/engine/setup-functions.sh', 'lib/engine/go/*/go.sum', 'lib/engine/go/aws-trim/main.go', 'lib/engine/aws-provider-types.txt')",
    );
    expect(j["timeout-minutes"]).toBeGreaterThanOrEqual(60);
    // tested on Node 24 (what the workflows deploy with) and 22
    expect(j.strategy?.matrix?.node).toEqual(["24", "22"]);
    expect(stepUsing(j, "actions/setup-node").with?.["node-version"]).toBe("${{ matrix.node }}");
  });

  it("computes the changed stacks with envctl, exactly so, the base branch reaching the script through env", () => {
    const j = job(F, "changed-stacks");
    const step = stepRunning(j, "envctl changed-stacks");
    expect(step.run).toContain('npx envctl changed-stacks --base "origin/$BASE_REF" --json > changed-stacks.json');
    expect(step.env).toEqual({ BASE_REF: "${{ github.base_ref }}" });
    expect(stepUsing(j, "actions/checkout").with?.["fetch-depth"]).toBe(0);
    expect(j.outputs?.stacks).toBe("${{ steps.changed.outputs.stacks }}");
    expect(j.outputs?.removed).toBe("${{ steps.changed.outputs.removed }}");
    expect(j.outputs?.["any-removed"]).toBe("${{ steps.changed.outputs.any_removed }}");
  });

  it("refuses a change that moves traffic onto a slot whose version changes in the same change (envctl release-check)", () => {
    const step = stepRunning(job(F, "changed-stacks"), "envctl release-check");
    expect(step.env).toEqual({ BASE_REF: "${{ github.base_ref }}" });
    const r = runStep(step.run!, { env: { BASE_REF: "main" }, fakes: { npx: "exit 1" } });
    expect(r.calls).toEqual(["npx envctl release-check --base origin/main"]);
    expect(r.status).toBe(1);
  });

  it.each([
    ['["dev","dev-traffic"]', '["dev","dev-traffic"]', "true", "[]"],
    ['{"stacks":["production"]}', '["production"]', "true", "[]"],
    [
      '{"stacks":["dev-traffic","pr-7-x"],"added":["pr-7-x"],"changed":["dev-traffic"],"removed":["qa","qa-traffic"]}',
      '["dev-traffic","pr-7-x"]',
      "true",
      '["qa","qa-traffic"]',
    ],
    ['{"stacks":[],"added":[],"changed":[],"removed":["qa"]}', "[]", "false", '["qa"]'],
    ['[{"name":"staging","reason":"environments/staging.ts"}]', '["staging"]', "true", "[]"],
    ["[]", "[]", "false", "[]"],
  ])("turns envctl output %s into the stacks %s", (printed, matrix, any, removed) => {
    const step = stepRunning(job(F, "changed-stacks"), "envctl changed-stacks");
    const r = runStep(step.run!, { env: { BASE_REF: "main" }, fakes: { npx: `echo '${printed}'` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["npx envctl changed-stacks --base origin/main --json"]);
    expect(r.outputs).toEqual({ stacks: matrix, any, removed, any_removed: removed === "[]" ? "false" : "true" });
  });

  it("fails the job when envctl changed-stacks fails; a branch name never runs as shell", () => {
    const step = stepRunning(job(F, "changed-stacks"), "envctl changed-stacks");
    const r = runStep(step.run!, { env: { BASE_REF: "main" }, fakes: { npx: "echo 'boom' >&2; exit 1" } });
    expect(r.status).not.toBe(0);
    expect(r.outputs.stacks).toBeUndefined();
    const hostile = runStep(step.run!, { env: { BASE_REF: "main$(touch pwned)" }, fakes: { npx: "echo '[]'" } });
    expect(hostile.calls).toEqual(["npx envctl changed-stacks --base origin/main$(touch pwned) --json"]);
    expect(existsSync(join(hostile.dir, "pwned"))).toBe(false);
  });

  it("writes ONE summary for pr-comment.yml, with the hidden marker, naming the stacks, never planning", () => {
    const j = job(F, "summary");
    const step = stepRunning(j, "> summary.md");
    expect(step.env).toEqual({
      STACKS: "${{ needs.changed-stacks.outputs.stacks }}",
      REMOVED: "${{ needs.changed-stacks.outputs.removed }}",
      REPORT_URL: "${{ needs.test.outputs.report-url }}",
    });
    const changed = runStep(step.run!, { env: { STACKS: '["dev","dev-traffic"]', REMOVED: '["qa"]', REPORT_URL: "" } });
    expect(changed.status, changed.stderr).toBe(0);
    const md = readFileSync(join(changed.dir, "summary.md"), "utf8");
    expect(md).toContain("Stacks this change touches: `dev`, `dev-traffic`");
    expect(md).toContain("Stacks it removes (destroyed on deploy): `qa`");
    expect(md).toContain("nothing is planned here");
    expect(md.trimEnd().endsWith("<!-- envctl-plan-summary -->")).toBe(true);
    expect(changed.summary).toBe(md);
    const none = runStep(step.run!, {
      env: { STACKS: "[]", REMOVED: "[]", REPORT_URL: "https://github.com/o/r/actions/runs/1/artifacts/2" },
    });
    const text = readFileSync(join(none.dir, "summary.md"), "utf8");
    expect(text).toMatch(/^No stack changes/);
    expect(text).toContain(
      "[Environments report](https://github.com/o/r/actions/runs/1/artifacts/2): the page this change makes (environments.html) and the report test's screenshot (report.png)",
    );
    expect(stepUsing(j, "actions/upload-artifact").with).toMatchObject({ name: "comment-summary", path: "summary.md" });
  });
});

describe("pr-comment.yml: the only place a pull request's results meet a write token", () => {
  const F = "pr-comment.yml";

  it("runs main's definition after a pr run, never checks out or runs the pull request, and only posts its two files", () => {
    expect(wf(F).on).toEqual({ workflow_run: { workflows: ["pr"], types: ["completed"] } });
    const j = job(F, "comment");
    expect(j.if).toBe(
      "github.event.workflow_run.event == 'pull_request' && github.event.workflow_run.head_repository.full_name == github.repository",
    );
    expect(effectivePermissions(F, j)).toEqual({ actions: "read", "pull-requests": "write" });
    expect(usesAction(j, "actions/checkout")).toBe(false);
    expect(runText(j)).not.toMatch(/npx|npm|node|bash |\$\(cat/);
    const downloads = stepsOf(j).filter((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(downloads.map((d) => d.with?.name)).toEqual(["comment-summary", "comment-config"]);
    for (const d of downloads) expect(d.with?.["run-id"]).toBe("${{ github.event.workflow_run.id }}");
    const comments = stepsOf(j).filter((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
    expect(comments.map((c) => c.with)).toEqual([
      { header: "envctl-plan-summary", number: "${{ steps.pr.outputs.number }}", path: "comments/summary/summary.md" },
      { header: "envctl-config-diff", number: "${{ steps.pr.outputs.number }}", path: "comments/config/config.md" },
    ]);
  });

  it("comments on the pull request GitHub names for the run's head commit, nothing the run wrote", () => {
    const step = stepRunning(job(F, "comment"), "GITHUB_OUTPUT");
    expect(step.env).toEqual({
      HEAD_SHA: "${{ github.event.workflow_run.head_sha }}",
      PULLS: "${{ toJSON(github.event.workflow_run.pull_requests) }}",
    });
    const pulls = JSON.stringify([
      { number: 9, head: { sha: "bbb" } },
      { number: 7, head: { sha: "aaa" } },
    ]);
    expect(runStep(step.run!, { env: { HEAD_SHA: "aaa", PULLS: pulls } }).outputs).toEqual({ number: "7" });
    const none = runStep(step.run!, { env: { HEAD_SHA: "ccc", PULLS: pulls } });
    expect(none.status).toBe(0);
    expect(none.outputs).toEqual({});
  });
});

describe("pr.yml: the configuration check (envctl config diff)", () => {
  const F = "pr.yml";
  const j = () => job(F, "config");
  /** A fake npx running the real envctl in `root`. */
  const realEnvctl = `shift; exec node ${JSON.stringify(join(REPO, "lib/cli/envctl.js"))} "$@"`;

  it("diffs every promotion edge with --fail-on missing, offline (no credentials), hands the comment on only for environment changes, then fails on a missing key", () => {
    const steps = stepsOf(j());
    const diff = stepRunning(j(), "npx envctl config diff");
    expect(diff.run).toContain(
      "npx envctl config diff --markdown --fail-on missing --offline > config.md || status=$?",
    );
    const upload = stepUsing(j(), "actions/upload-artifact");
    expect(upload.with).toMatchObject({ name: "comment-config", path: "config.md" });
    expect(upload.if).toBe(
      "steps.changed.outputs.any == 'true' && github.event.pull_request.head.repo.full_name == github.repository",
    );
    const fail = stepRunning(j(), "exit 1");
    expect(fail.if).toBe("steps.diff.outputs.status != '0'");
    const order = [steps.indexOf(diff), steps.indexOf(upload), steps.indexOf(fail)];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(effectivePermissions(F, j())).toEqual({ contents: "read" });
    expect(stepUsing(j(), "actions/checkout").with?.["fetch-depth"]).toBe(0);
  });

  it("sees environment and catalogue changes against the base branch", () => {
    const step = stepRunning(j(), "git diff --quiet");
    const changed = runStep(step.run!, { env: { BASE_REF: "main" }, fakes: { git: "exit 1" } });
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.calls).toEqual(["git diff --quiet origin/main -- environments/ lib/config/settings.ts"]);
    expect(changed.outputs).toEqual({ any: "true" });
    expect(runStep(step.run!, { env: { BASE_REF: "main" }, fakes: { git: "exit 0" } }).outputs).toEqual({
      any: "false",
    });
  });

  it("the seeds' scenario: production lacking SMTP_HOST (which staging has) fails the check, naming it, with the real envctl", () => {
    const root = tempProject((d) => {
      const f = join(d, "environments/production.ts");
      writeFileSync(f, readFileSync(f, "utf8").replace('      SMTP_HOST: "email-smtp.eu-west-1.amazonaws.com",\n', ""));
    });
    const diff = runStep(stepRunning(j(), "npx envctl config diff").run!, {
      env: { FORK: "true", ENVSTACK_ROOT: root },
      fakes: { npx: realEnvctl },
    });
    expect(diff.status, diff.stderr).toBe(0); // the step records the status; the last step fails the job
    expect(diff.calls).toEqual(["npx envctl config diff --markdown --fail-on missing --offline"]);
    expect(diff.outputs).toEqual({ status: "1" });
    const md = readFileSync(join(diff.dir, "config.md"), "utf8");
    expect(md).toContain(
      "| `SMTP_HOST` | email-smtp.eu-west-1.amazonaws.com | – | missing in production (required in production) |",
    );
    expect(md).toContain("- production: app.settings.SMTP_HOST is missing: required in the production tier");
    expect(md.trimEnd().endsWith("<!-- envctl-config-diff -->")).toBe(true);
    expect(diff.summary).toBe(md);
    const fail = runStep(stepRunning(j(), "exit 1").run!, { env: { STATUS: "1" } });
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain("::error::envctl config diff exited 1");

    const shipped = runStep(stepRunning(j(), "npx envctl config diff").run!, {
      env: { FORK: "true", ENVSTACK_ROOT: tempProject() },
      fakes: { npx: realEnvctl },
    });
    expect(shipped.outputs).toEqual({ status: "0" });
  });
});

describe("deploy.yml", () => {
  const F = "deploy.yml";

  it("runs on pushes to main only", () => {
    expect(wf(F).on).toEqual({ push: { branches: ["main"] } });
  });

  it("chains dev → staging → plan production → apply production", () => {
    expect(Object.keys(wf(F).jobs)).toEqual(["deploy-dev", "deploy-staging", "plan-production", "apply-production"]);
    expect(needsOf(job(F, "deploy-dev"))).toEqual([]);
    expect(needsOf(job(F, "deploy-staging"))).toEqual(["deploy-dev"]);
    expect(needsOf(job(F, "plan-production"))).toEqual(["deploy-staging"]);
    expect(needsOf(job(F, "apply-production"))).toEqual(["plan-production"]);
  });

  it.each(["dev", "staging"])(
    "deploys %s automatically: infrastructure, workloads where present, traffic last",
    (env) => {
      const j = job(F, `deploy-${env}`);
      expect(environmentName(j)).toBe(env);
      expect(indexOfRun(j, "npx cdktf synth")).toBeLessThan(indexOfRun(j, "cdktf deploy"));
      const step = stepRunning(j, "cdktf deploy");
      const ec2 = runStep(step.run!, {
        fakes: { npx: "" },
        files: { "cdktf.out/manifest.json": manifest(env, `${env}-traffic`, "global") },
      });
      expect(ec2.status, ec2.stderr).toBe(0);
      expect(ec2.calls).toEqual(
        [env, `${env}-traffic`].map((s) => `npx cdktf deploy ${s} --auto-approve --skip-synth`),
      );
      // traffic never reaches a slot whose pods do not exist yet
      const eks = runStep(step.run!, {
        fakes: { npx: "" },
        files: { "cdktf.out/manifest.json": manifest(env, `${env}-traffic`, `${env}-workloads`) },
      });
      expect(eks.calls).toEqual(
        [env, `${env}-workloads`, `${env}-traffic`].map((s) => `npx cdktf deploy ${s} --auto-approve --skip-synth`),
      );
      const failing = runStep(step.run!, {
        fakes: { npx: "exit 1" },
        files: { "cdktf.out/manifest.json": manifest(env, `${env}-traffic`) },
      });
      expect(failing.status).not.toBe(0);
      expect(failing.calls).toHaveLength(1); // stops at the first failure: no traffic after a failed infrastructure deploy
    },
  );

  it("plans production without approval and saves the plan with the commit SHA in the artifact name", () => {
    const j = job(F, "plan-production");
    expect(j.environment).toBeUndefined();
    expect(runText(j)).toMatch(/tofu plan .*-out=plan\.bin/);
    const upload = stepUsing(j, "actions/upload-artifact");
    expect(upload.with?.name).toBe("production-plan-${{ github.sha }}");
    const paths = String(upload.with?.path).trim().split("\n");
    expect(paths).toEqual(
      expect.arrayContaining([
        "cdktf.out/stacks/production*/plan.bin",
        "cdktf.out/stacks/production*/.terraform.lock.hcl",
        "cdktf.out/production-stacks.txt",
      ]),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "cdktf.out/stacks/global/plan.bin",
        "cdktf.out/stacks/global/cdk.tf.json",
        "cdktf.out/stacks/global/.terraform.lock.hcl",
      ]),
    );
    expect(upload.with?.["include-hidden-files"]).toBe(true);
    expect(upload.with?.["if-no-files-found"]).toBe("error");
    expect(stepUsing(j, "aws-actions/configure-aws-credentials").with?.["role-to-assume"]).toBe(
      "${{ vars.AWS_PLAN_ROLE_ARN }}",
    );
  });

  it("plans the production stacks in apply order: infrastructure, workloads, traffic, then the global dashboard", () => {
    const step = stepRunning(job(F, "plan-production"), "production-stacks.txt");
    const ec2 = runStep(step.run!, {
      files: { "cdktf.out/manifest.json": manifest("production", "production-traffic", "staging") },
    });
    expect(ec2.status, ec2.stderr).toBe(0);
    expect(ec2.outputs).toEqual({ list: "production production-traffic" });
    const eks = runStep(step.run!, {
      files: { "cdktf.out/manifest.json": manifest("production-workloads", "production", "production-traffic") },
    });
    expect(eks.outputs).toEqual({ list: "production production-workloads production-traffic" });
    expect(readFileSync(join(eks.dir, "cdktf.out/production-stacks.txt"), "utf8").trim()).toBe(
      "production production-workloads production-traffic",
    );
    const withGlobal = runStep(step.run!, {
      files: {
        "cdktf.out/manifest.json": manifest(
          "global",
          "production-workloads",
          "production",
          "production-traffic",
          "bootstrap",
        ),
      },
    });
    expect(withGlobal.outputs).toEqual({ list: "production production-workloads production-traffic global" });
  });

  it("tells apply-production whether the change promotes into production (envctl release-check against the previous main)", () => {
    const j = job(F, "plan-production");
    expect(j.outputs).toEqual({ promotion: "${{ steps.promotion.outputs.promotion }}" });
    const step = stepRunning(j, "envctl release-check");
    expect(step.id).toBe("promotion");
    expect(step.env).toEqual({ BEFORE: "${{ github.event.before }}" });
    const changes = (slots: unknown[]) =>
      `echo '${JSON.stringify([{ environment: "production", added: false, slots, weights: null, problems: [] }])}'`;
    const promotion = runStep(step.run!, {
      env: { BEFORE: "abc123" },
      fakes: { npx: changes([{ slot: "green", from: null, to: "1.6.0", what: ["version"] }]) },
    });
    expect(promotion.status, promotion.stderr).toBe(0);
    expect(promotion.calls).toEqual(["npx envctl release-check --base abc123 --only production --json"]);
    expect(promotion.outputs).toEqual({ promotion: "true" });
    expect(runStep(step.run!, { env: { BEFORE: "abc123" }, fakes: { npx: changes([]) } }).outputs).toEqual({
      promotion: "false",
    });
    expect(runStep(step.run!, { env: { BEFORE: "abc123" }, fakes: { npx: "echo '[]'" } }).outputs).toEqual({
      promotion: "false",
    });
    expect(runStep(step.run!, { env: { BEFORE: "abc123" }, fakes: { npx: "exit 1" } }).status).not.toBe(0);
  });

  it("takes the pre-promotion snapshot with envctl, after approval and before any apply, only for a promotion", () => {
    const j = job(F, "apply-production");
    const snapshot = stepRunning(j, "envctl snapshot production");
    expect(snapshot.if).toBe("needs.plan-production.outputs.promotion == 'true'");
    expect(stepsOf(j).indexOf(snapshot)).toBeLessThan(indexOfRun(j, "tofu apply"));
    expect(stepsOf(j).indexOf(stepUsing(j, "aws-actions/configure-aws-credentials"))).toBeLessThan(
      stepsOf(j).indexOf(snapshot),
    );
    expect(stepUsing(j, "actions/checkout").if).toBeUndefined(); // always: envctl also checks the approvals
    const r = runStep(snapshot.run!, { fakes: { npm: "", npx: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["npx envctl snapshot production --reason pre-promote --yes"]);
    expect(runStep(snapshot.run!, { fakes: { npm: "", npx: "exit 1" } }).status).not.toBe(0); // no snapshot, no apply
  });

  it("saves a binary plan and its JSON per production stack", () => {
    const step = stepRunning(job(F, "plan-production"), "tofu plan");
    const stacks = ["production", "production-traffic"];
    const r = runStep(step.run!, {
      env: { STACKS: stacks.join(" ") },
      fakes: {
        tofu: 'if [ "$1" = show ]; then echo "{\\"stack\\": \\"$(basename "$PWD")\\"}"; fi; if [ "$1" = plan ]; then touch plan.bin; fi',
      },
      files: Object.fromEntries(stacks.map((s) => [`cdktf.out/stacks/${s}/cdk.tf.json`, "{}"])),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
      "tofu init",
      "tofu plan",
      "tofu show",
      "tofu init",
      "tofu plan",
      "tofu show",
    ]);
    for (const s of stacks) {
      expect(existsSync(join(r.dir, `cdktf.out/stacks/${s}/plan.bin`))).toBe(true);
      expect(JSON.parse(readFileSync(join(r.dir, `plans/${s}.json`), "utf8"))).toEqual({ stack: s });
    }
  });

  it("applies production in the production environment from the reviewed plan artifact only", () => {
    const j = job(F, "apply-production");
    expect(environmentName(j)).toBe("production");
    const download = stepUsing(j, "actions/download-artifact");
    expect(download.with?.name).toBe(stepUsing(job(F, "plan-production"), "actions/upload-artifact").with?.name);
    expect(download.with?.name).toBe("production-plan-${{ github.sha }}");
    // Nothing is synthesized or planned again before the apply (the source is checked out for envctl: approvals, snapshot).
    expect(
      stepsOf(j)
        .filter((x) => x.uses?.startsWith("actions/checkout"))
        .map((x) => x.with?.path),
    ).toEqual(["source"]);
    expect(runText(j)).not.toMatch(/cdktf (synth|deploy)/);
    expect(
      stepsOf(j)
        .filter((x) => /npm ci/.test(x.run ?? ""))
        .map((x) => x.name),
    ).toEqual(["Install (no dependency scripts), before any credentials"]);
    const apply = indexOfRun(j, "tofu apply");
    expect(
      stepsOf(j)
        .slice(0, apply)
        .some((s) => /tofu plan/.test(s.run ?? "")),
    ).toBe(false);
    expect(stepsOf(j)[apply]!.run).toMatch(/tofu apply .*plan\.bin$/m);
    expect(TEXT[F]).toMatch(/required reviewers/i);
  });

  it("verifies production's approvals (envctl approvals verify) before the snapshot and every apply; a refusal stops the job", () => {
    const j = job(F, "apply-production");
    const verify = stepRunning(j, "envctl approvals verify production --github");
    expect(verify.if).toBeUndefined();
    expect(verify.env?.GH_TOKEN).toBe("${{ github.token }}");
    expect(stepsOf(j).indexOf(verify)).toBeLessThan(stepsOf(j).indexOf(stepRunning(j, "envctl snapshot production")));
    expect(stepsOf(j).indexOf(verify)).toBeLessThan(indexOfRun(j, "tofu apply"));
    expect(effectivePermissions(F, j)).toMatchObject({ actions: "read", "pull-requests": "read" });
    expect(runStep(verify.run!, { fakes: { npm: "", npx: "" } }).calls).toEqual([
      "npx envctl approvals verify production --github",
    ]);
    // envctl reads the approvals itself in every command that changes production: the token reaches the snapshot too.
    expect(stepRunning(j, "envctl snapshot production").env?.GH_TOKEN).toBe("${{ github.token }}");
    expect(runStep(verify.run!, { fakes: { npm: "", npx: "exit 1" } }).status).not.toBe(0);
    const release = job("release.yml", "release");
    const check = stepRunning(release, "envctl approvals verify");
    expect(check.if).toBe("inputs.command != 'abort' && inputs.command != 'rollback'");
    expect(stepsOf(release).indexOf(check)).toBeLessThan(
      stepsOf(release).indexOf(stepRunning(release, 'npx envctl "${args[@]}" --yes')),
    );
    expect(effectivePermissions("release.yml", release)).toMatchObject({ actions: "read", "pull-requests": "read" });
    expect(stepRunning(release, 'npx envctl "${args[@]}" --yes').env?.GH_TOKEN).toBe("${{ github.token }}");
  });

  it("applies each saved plan.bin in its stack directory, in the recorded order", () => {
    const step = stepRunning(job(F, "apply-production"), "tofu apply");
    const stacks = ["production", "production-traffic", "production-workloads"];
    const r = runStep(step.run!, {
      fakes: { tofu: 'echo "in $(basename "$PWD")" >> "$FAKE_LOG"' },
      files: {
        "cdktf.out/production-stacks.txt": `${stacks.join(" ")}\n`,
        ...Object.fromEntries(stacks.map((s) => [`cdktf.out/stacks/${s}/plan.bin`, "x"])),
      },
    });
    expect(r.status, r.stderr).toBe(0);
    const applied = r.calls
      .filter((_, i, all) => i > 0 && all[i - 1]!.startsWith("tofu apply"))
      .map((l) => l.replace("in ", ""));
    expect(applied).toEqual(stacks);
    for (const c of r.calls.filter((l) => l.startsWith("tofu apply"))) expect(c).toMatch(/ plan\.bin$/);
    const failing = runStep(step.run!, {
      fakes: { tofu: '[ "$1" != apply ]' },
      files: {
        "cdktf.out/production-stacks.txt": "production production-traffic\n",
        "cdktf.out/stacks/production/plan.bin": "x",
        "cdktf.out/stacks/production-traffic/plan.bin": "x",
      },
    });
    expect(failing.status).not.toBe(0);
    expect(failing.calls.filter((l) => l.startsWith("tofu apply"))).toHaveLength(1); // stops at the first failure
  });
});

describe("drift.yml", () => {
  const F = "drift.yml";

  it("runs every 6 hours and on demand", () => {
    expect(wf(F).on.schedule).toEqual([{ cron: "0 */6 * * *" }]);
    expect(Object.keys(wf(F).on).sort()).toEqual(["schedule", "workflow_dispatch"]);
  });

  it("detects with envctl under the read-only role, and reports with issues: write only", () => {
    const detect = job(F, "detect");
    expect(runText(detect)).toContain("npx envctl drift --json > drift.json");
    expect(stepUsing(detect, "aws-actions/configure-aws-credentials").with?.["role-to-assume"]).toBe(
      "${{ vars.AWS_PLAN_ROLE_ARN }}",
    );
    const report = job(F, "report");
    expect(needsOf(report)).toEqual(["detect"]);
    expect(report.if).toBe("needs.detect.outputs.drift == 'true'");
    expect(report.permissions).toEqual({ issues: "write" });
    expect(detect.outputs?.drift).toBe("${{ steps.drift.outputs.drift }}");
  });

  it.each([
    [0, 0, "false"],
    [2, 0, "true"],
  ])("envctl drift exit %i → job status %i, drift=%s", (exit, status, drift) => {
    const r = runStep(stepRunning(job(F, "detect"), "envctl drift").run!, {
      fakes: { npx: `echo '{"stacks":[]}'; exit ${exit}` },
    });
    expect(r.status, r.stderr).toBe(status);
    expect(r.outputs).toEqual({ drift });
    expect(readFileSync(join(r.dir, "drift.json"), "utf8")).toBe('{"stacks":[]}\n');
  });

  it("fails (and opens no issue) when envctl drift itself fails", () => {
    const r = runStep(stepRunning(job(F, "detect"), "envctl drift").run!, { fakes: { npx: "exit 1" } });
    expect(r.status).toBe(1);
    expect(r.outputs.drift).toBeUndefined();
  });

  /** Fake gh: `issue list` prints $ISSUES filtered by the real jq through --jq, like gh does. */
  const fakeGh = `
if [ "$1 $2" = "issue list" ]; then
  while [ $# -gt 0 ]; do if [ "$1" = --jq ]; then filter="$2"; fi; shift; done
  printf '%s' "$ISSUES" | jq -r "$filter"
fi`;
  const report = () => stepRunning(job(F, "report"), "gh issue").run!;
  const env = { GH_TOKEN: "t", GH_REPO: "o/r", RUN_URL: "https://github.com/o/r/actions/runs/1" };

  it("updates the one open drift issue when there is one", () => {
    const r = runStep(report(), {
      env: {
        ...env,
        ISSUES: JSON.stringify([
          { number: 3, title: "Something else" },
          { number: 7, title: "Infrastructure drift detected" },
        ]),
      },
      fakes: { gh: fakeGh },
      files: { "drift.json": '{"drifted":["dev"]}' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.filter((c) => !c.startsWith("gh label") && !c.includes("--remove-label"))).toEqual([
      'gh issue list --label drift --state open --limit 100 --json number,title --jq map(select(.title == "Infrastructure drift detected")) | sort_by(.number) | .[0].number // empty',
      "gh issue edit 7 --body-file body.md --add-label drift:unknown",
    ]);
    const body = readFileSync(join(r.dir, "body.md"), "utf8");
    expect(body).toContain('{"drifted":["dev"]}');
    expect(body).toContain(env.RUN_URL);
  });

  it.each([
    ["no open drift issue", []],
    ["only other drift-labelled issues", [{ number: 3, title: "Drift in the dashboard" }]],
  ])("opens the issue when there is %s", (_case, issues) => {
    const r = runStep(report(), {
      env: { ...env, ISSUES: JSON.stringify(issues) },
      fakes: { gh: fakeGh },
      files: { "drift.json": "{}" },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toContain(
      "gh label create drift --color D93F0B --description Infrastructure differs from the stacks --force",
    );
    expect(r.calls.at(-1)).toBe(
      "gh issue create --title Infrastructure drift detected --label drift --label drift:unknown --body-file body.md",
    );
    expect(r.calls.some((c) => c.startsWith("gh issue edit"))).toBe(false);
  });

  /** What `envctl drift --json` prints: stacks with their worst class, each attribute classed. */
  const classified = (severities: string[][]) =>
    JSON.stringify(
      severities.map((list, i) => ({
        stack: `s${i}`,
        status: list.length ? "drifted" : "in sync",
        severity: list[0] ?? null,
        resources: list.map((severity, j) => ({
          address: `aws_x.r${j}`,
          attributes: [`a${j}`],
          classes: [{ attribute: `a${j}`, severity, rule: "*" }],
        })),
      })),
    );

  it.each([
    [[["low"], ["critical", "low"]], "critical"],
    [[["high"], ["medium"]], "high"],
    [[["medium", "low"]], "medium"],
    [[["low"], []], "low"],
  ])(
    "labels the issue with the worst class: %j → drift:%s, and lists each attribute with its class",
    (severities, worst) => {
      const r = runStep(report(), {
        env: { ...env, ISSUES: "[]" },
        fakes: { gh: fakeGh },
        files: { "drift.json": classified(severities) },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.calls).toContain(
        `gh label create drift:${worst} --color B60205 --description The worst drift class found --force`,
      );
      expect(r.calls.at(-1)).toBe(
        `gh issue create --title Infrastructure drift detected --label drift --label drift:${worst} --body-file body.md`,
      );
      const body = readFileSync(join(r.dir, "body.md"), "utf8");
      expect(body).toContain(`**Worst class: ${worst}**`);
      expect(body).toContain(`- s0: aws_x.r0.a0: **${severities[0]![0]}**`);
    },
  );

  it("moves the open issue to the new worst class: adds its label, removes the others", () => {
    const r = runStep(report(), {
      env: { ...env, ISSUES: JSON.stringify([{ number: 7, title: "Infrastructure drift detected" }]) },
      fakes: { gh: fakeGh },
      files: { "drift.json": classified([["high"]]) },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toContain("gh issue edit 7 --body-file body.md --add-label drift:high");
    expect(r.calls.filter((c) => c.includes("--remove-label")).sort()).toEqual(
      ["critical", "low", "medium", "unknown"].map((s) => `gh issue edit 7 --remove-label drift:${s}`),
    );
  });
});

describe("preview.yml and preview-gc.yml", () => {
  const F = "preview.yml";

  it("runs on pull request open, reopen, push and close, with main's definition (pull_request_target)", () => {
    expect(wf(F).on).toEqual({ pull_request_target: { types: ["opened", "reopened", "synchronize", "closed"] } });
  });

  it("derives the name from the PR number and head branch, passed through the environment", () => {
    const step = stepRunning(job(F, "name"), "GITHUB_OUTPUT");
    expect(step.env).toEqual({ PR_NUMBER: "${{ github.event.number }}", HEAD_REF: "${{ github.head_ref }}" });
    expect(job(F, "name").outputs?.name).toBe("${{ steps.name.outputs.name }}");
  });

  it.each([
    ["Feature/Login_Page", "pr-42-feature-login-page"],
    ["fix-bug", "pr-42-fix-bug"],
    ["dependabot/npm_and_yarn/some-very-long-package-1.2.3", "pr-42-dependabot-npm-and-y"],
    ["--Weird__Branch--", "pr-42-weird-branch"],
    ["release/2026.11-hotfix", "pr-42-release-2026-11-hotf"],
    ["abcdefghijklmnopqrs-tuvw", "pr-42-abcdefghijklmnopqrs"],
    ["Ünïcödé-brånch", "pr-42-n-c-d-br-nch"],
    ["___", "pr-42"],
    ["$(touch pwned)`id`", "pr-42-touch-pwned-id"],
  ])("slugs %j into %s", (ref, name) => {
    const r = runStep(stepRunning(job(F, "name"), "GITHUB_OUTPUT").run!, { env: { PR_NUMBER: "42", HEAD_REF: ref } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.outputs).toEqual({ name });
    expect(existsSync(join(r.dir, "pwned"))).toBe(false);
    expect(name.replace(/^pr-42-?/, "").length).toBeLessThanOrEqual(20);
    expect(PreviewSchema.shape.name.safeParse(name).success, name).toBe(true);
  });

  const REGISTRY = "bash .github/scripts/preview-registry.sh";
  const listing = (...previews: { name: string; expired: boolean }[]) => `echo '${JSON.stringify(previews)}'`;
  /** The registry script as a stub that logs its call like the fakes do. */
  const registryStub = {
    ".github/scripts/preview-registry.sh": 'echo "bash .github/scripts/preview-registry.sh $*" >> "$FAKE_LOG"\n',
  };

  it("registers (or extends) the preview on main from main's code, then synthesizes and deploys the pull request's, on open/reopen/push", () => {
    const reg = job(F, "register");
    expect(needsOf(reg)).toEqual(["name"]);
    expect(reg.if).toBe("github.event.action != 'closed'");
    expect(stepUsing(reg, "actions/checkout").with?.ref).toBe("${{ github.event.repository.default_branch }}");
    const register = stepRunning(reg, `${REGISTRY} "preview($PREVIEW): create or extend" create "$PREVIEW"`);
    const r0 = runStep(register.run!, {
      env: { PREVIEW: "pr-42-x", GH_TOKEN: "t0k", GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "o/r" },
      files: { ".github/scripts/preview-registry.sh": 'echo "registry $REGISTRY_REMOTE $*" >> "$FAKE_LOG"\n' },
    });
    expect(r0.status, r0.stderr).toBe(0);
    expect(r0.calls).toEqual([
      "registry https://x-access-token:t0k@github.com/o/r.git preview(pr-42-x): create or extend create pr-42-x",
    ]);
    expect(stepUsing(reg, "actions/upload-artifact").with?.name).toBe("preview-registry");

    const j = job(F, "deploy");
    expect(needsOf(j)).toEqual(["name", "register"]);
    expect(j.if).toBe("github.event.action != 'closed'");
    expect(j.env?.PREVIEW).toBe("${{ needs.name.outputs.name }}");
    expect(environmentName(j)).toBe("preview");
    expect(stepUsing(j, "actions/checkout").with?.ref).toBe("${{ github.event.pull_request.head.sha }}");
    expect(indexOfRun(j, "cp .registry/previews.json")).toBeLessThan(indexOfRun(j, "npx cdktf synth"));
    expect(indexOfRun(j, "npx cdktf synth")).toBeLessThan(indexOfRun(j, "cdktf deploy"));
    expect(runText(j)).not.toMatch(/preview destroy|preview-registry|git push/);
    const r = runStep(stepRunning(j, "cdktf deploy").run!, {
      env: { PREVIEW: "pr-42-fix-bug" },
      fakes: { npx: "" },
      files: { "cdktf.out/manifest.json": manifest("dev", "pr-42-fix-bug", "pr-42-fix-bug-traffic") },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["npx cdktf deploy pr-42-fix-bug pr-42-fix-bug-traffic --auto-approve --skip-synth"]);
  });

  it("destroys the preview registered on main when the pull request closes (main's code), then unregisters it", () => {
    const j = job(F, "destroy");
    expect(needsOf(j)).toEqual(["name"]);
    expect(j.if).toBe("github.event.action == 'closed'");
    expect(stepUsing(j, "actions/checkout").with?.ref).toBe("${{ github.event.repository.default_branch }}");
    expect(runText(j)).not.toMatch(/preview create|cdktf deploy|preview-registry|git push/);
    const script = stepRunning(j, "preview destroy").run!;
    const registered = runStep(script, {
      env: { PREVIEW: "pr-42-fix-bug" },
      fakes: { npx: listing({ name: "pr-42-fix-bug", expired: false }) },
    });
    expect(registered.status, registered.stderr).toBe(0);
    expect(registered.calls).toEqual([
      "npx envctl preview list --json",
      "npx envctl preview destroy pr-42-fix-bug --yes",
    ]);
    expect(registered.outputs).toEqual({ registered: "true" });
    const unknown = runStep(script, {
      env: { PREVIEW: "pr-43-other" },
      fakes: { npx: listing({ name: "pr-42-fix-bug", expired: false }) },
    });
    expect(unknown.status, unknown.stderr).toBe(0);
    expect(unknown.calls).toEqual(["npx envctl preview list --json"]);
    expect(unknown.stdout).toContain("No preview pr-43-other in the registry on main");
    expect(unknown.outputs).toEqual({ registered: "false" });
    const un = job(F, "unregister");
    expect(needsOf(un)).toEqual(["name", "destroy"]);
    expect(un.if).toBe("needs.destroy.outputs.registered == 'true'");
    const step = stepRunning(un, REGISTRY);
    const r = runStep(step.run!, {
      env: {
        PREVIEW: "pr-42-fix-bug",
        GH_TOKEN: "t",
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "o/r",
      },
      files: registryStub,
    });
    expect(r.calls).toEqual([
      "bash .github/scripts/preview-registry.sh preview(pr-42-fix-bug): destroyed destroy pr-42-fix-bug",
    ]);
  });

  it("skips pull requests from forks (no OIDC token there)", () => {
    expect(job(F, "name").if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
  });

  it("garbage-collects expired previews daily, one job per preview in its deploy group", () => {
    const G = "preview-gc.yml";
    const gc = wf(G);
    expect(Object.keys(gc.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(gc.on.schedule).toHaveLength(1);
    expect(gc.on.schedule[0].cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);

    const list = runStep(stepRunning(job(G, "expired"), "preview list").run!, {
      fakes: {
        npx: listing(
          { name: "pr-1-a", expired: true },
          { name: "pr-2-b", expired: false },
          { name: "pr-3-c", expired: true },
        ),
      },
    });
    expect(list.status, list.stderr).toBe(0);
    expect(list.outputs).toEqual({ names: '["pr-1-a","pr-3-c"]' });
    expect(job(G, "expired").outputs?.names).toBe("${{ steps.list.outputs.names }}");

    const d = job(G, "destroy");
    expect(needsOf(d)).toEqual(["expired"]);
    expect(d.if).toBe("needs.expired.outputs.names != '[]'");
    expect(d.strategy?.matrix).toEqual({ name: "${{ fromJSON(needs.expired.outputs.names) }}" });
    expect(d.strategy?.["fail-fast"]).toBe(false);
    expect(environmentName(d)).toBe("preview");
    const script = stepRunning(d, "preview destroy").run!;
    const expired = runStep(script, {
      env: { PREVIEW: "pr-1-a" },
      fakes: { npx: listing({ name: "pr-1-a", expired: true }) },
      files: registryStub,
    });
    expect(expired.status, expired.stderr).toBe(0);
    expect(expired.calls.slice(1)).toEqual(["npx envctl preview destroy pr-1-a --yes"]);
    expect(readFileSync(join(expired.dir, "destroyed/pr-1-a"), "utf8")).toBe("pr-1-a\n");
    // extended by a push since the listing: kept
    const extended = runStep(script, {
      env: { PREVIEW: "pr-1-a" },
      fakes: { npx: listing({ name: "pr-1-a", expired: false }) },
      files: registryStub,
    });
    expect(extended.status, extended.stderr).toBe(0);
    expect(extended.calls).toEqual(["npx envctl preview list --json"]);
    expect(readdirSync(join(extended.dir, "destroyed"))).toEqual([]);
    // Unregistered by the recorder, only what the destroy job reported destroyed.
    const u = job(G, "unregister");
    expect(needsOf(u)).toEqual(["expired", "destroy"]);
    expect(u.strategy?.matrix).toEqual({ name: "${{ fromJSON(needs.expired.outputs.names) }}" });
    const marker = stepUsing(u, "actions/download-artifact");
    expect(marker.with).toEqual({ name: "destroyed-${{ matrix.name }}", path: "destroyed" });
    for (const s of stepsOf(u).filter((x) => x !== marker)) expect(s.if).toBe("steps.destroyed.outcome == 'success'");
    const r = runStep(stepRunning(u, REGISTRY).run!, {
      env: { PREVIEW: "pr-1-a", GH_TOKEN: "t", GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "o/r" },
      files: registryStub,
    });
    expect(r.calls).toEqual([
      "bash .github/scripts/preview-registry.sh preview(pr-1-a): expired, destroyed destroy pr-1-a",
    ]);
  });
});

describe(".github/scripts/preview-registry.sh", () => {
  const SCRIPT = join(REPO, ".github/scripts/preview-registry.sh");
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync(
      "git",
      ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", ...args],
      { cwd, encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const registryAt = (cwd: string, ref = "HEAD") =>
    JSON.parse(git(cwd, "show", `${ref}:environments/previews.json`)).previews.map((p: { name: string }) => p.name);

  /**
   * An origin with main holding a registry of `pr-1-a`, a workspace checked out from it (as the
   * job's checkout), and a fake `npx` standing in for `envctl preview <create|destroy> <name>`:
   * it edits the registry in its working directory. With RACE set, its first call also lands a
   * competing registration on main first, as another pull request's job would.
   */
  function setup() {
    const root = mkdtempSync(join(tmpdir(), "preview-registry-"));
    TEMP_DIRS.push(root);
    const origin = join(root, "origin.git");
    git(root, "init", "-q", "--bare", origin);
    const seed = join(root, "seed");
    git(root, "clone", "-q", origin, seed);
    mkdirSync(join(seed, "environments/releases"), { recursive: true });
    writeFileSync(join(seed, "environments/previews.json"), JSON.stringify({ previews: [{ name: "pr-1-a" }] }));
    writeFileSync(join(seed, "environments/releases/pr-1-a.json"), "{}\n");
    git(seed, "add", "-A");
    git(seed, "commit", "-qm", "seed");
    git(seed, "push", "-q", "origin", "HEAD:main");
    const workspace = join(root, "workspace");
    git(root, "clone", "-q", "--depth=1", `file://${origin}`, workspace);
    mkdirSync(join(workspace, "node_modules"));
    const bin = join(root, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "npx"),
      `#!/usr/bin/env bash
set -e
echo "npx $* in $(basename "$(dirname "$PWD")")" >> "${join(root, "calls")}"
[ "$1 $2" = "envctl preview" ] || exit 9
[ -d node_modules ] || exit 8
if [ -n "$RACE" ] && [ ! -e "${join(root, "raced")}" ]; then
  touch "${join(root, "raced")}"
  git -C "${seed}" pull -q origin main
  jq '.previews += [{"name":"pr-7-rival"}]' "${seed}/environments/previews.json" > /tmp/$$ && mv /tmp/$$ "${seed}/environments/previews.json"
  echo '{}' > "${seed}/environments/releases/pr-7-rival.json"
  git -C "${seed}" add -A && git -C "${seed}" -c user.name=r -c user.email=r@example.com commit -qm rival && git -C "${seed}" push -q origin HEAD:main
fi
case "$3" in
  create) jq --arg n "$4" '.previews += [{"name":$n}]' environments/previews.json > /tmp/$$ && mv /tmp/$$ environments/previews.json; echo '{}' > "environments/releases/$4.json" ;;
  destroy) jq --arg n "$4" '.previews |= map(select(.name != $n))' environments/previews.json > /tmp/$$ && mv /tmp/$$ environments/previews.json; rm -f "environments/releases/$4.json" ;;
  *) echo "envctl: no preview named $4" >&2; exit 1 ;;
esac
`,
    );
    chmodSync(join(bin, "npx"), 0o755);
    const run = (env: Record<string, string>, ...args: string[]) =>
      spawnSync("bash", [SCRIPT, ...args], {
        cwd: workspace,
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: root, GITHUB_RUN_ID: "99", ...env },
      });
    const calls = () => readFileSync(join(root, "calls"), "utf8").split("\n").filter(Boolean);
    return { origin, workspace, run, calls };
  }

  it("records a create on main and gives the workspace main's registry", () => {
    const t = setup();
    const r = t.run({}, "preview(pr-42-x): create or extend", "create", "pr-42-x");
    expect(r.status, r.stderr).toBe(0);
    expect(t.calls()).toEqual([expect.stringMatching(/^npx envctl preview create pr-42-x --no-deploy --yes in /)]);
    expect(registryAt(t.origin, "main")).toEqual(["pr-1-a", "pr-42-x"]);
    expect(git(t.origin, "log", "-1", "--format=%s", "main")).toBe("preview(pr-42-x): create or extend");
    expect(
      JSON.parse(readFileSync(join(t.workspace, "environments/previews.json"), "utf8")).previews.map(
        (p: { name: string }) => p.name,
      ),
    ).toEqual(["pr-1-a", "pr-42-x"]);
    expect(existsSync(join(t.workspace, "environments/releases/pr-42-x.json"))).toBe(true);
    expect(git(t.workspace, "worktree", "list").split("\n")).toHaveLength(1); // cleaned up
    // repeating it changes nothing on main
    const again = t.run({}, "preview(pr-42-x): create or extend", "destroy", "pr-99-none");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("already up to date");
    expect(git(t.origin, "rev-list", "--count", "main")).toBe("2");
  });

  it("starts again from the new main when another job registered first, keeping both", () => {
    const t = setup();
    const r = t.run({ RACE: "1" }, "preview(pr-42-x): create or extend", "create", "pr-42-x");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "main moved while recording 'preview(pr-42-x): create or extend'; starting again from the new main (1/5)",
    );
    expect(t.calls()).toHaveLength(2);
    expect(registryAt(t.origin, "main")).toEqual(["pr-1-a", "pr-7-rival", "pr-42-x"]);
    expect(existsSync(join(t.workspace, "environments/releases/pr-7-rival.json"))).toBe(true);
  });

  it("records a destroy, removing the preview's files from the workspace too", () => {
    const t = setup();
    const r = t.run({}, "preview(pr-1-a): destroyed", "destroy", "pr-1-a");
    expect(r.status, r.stderr).toBe(0);
    expect(registryAt(t.origin, "main")).toEqual([]);
    expect(git(t.origin, "ls-tree", "--name-only", "main", "environments/releases/")).toBe("");
    expect(existsSync(join(t.workspace, "environments/releases/pr-1-a.json"))).toBe(false);
  });

  it("fails, pushing nothing, when envctl refuses or no arguments are given", () => {
    const t = setup();
    const refused = t.run({}, "preview(pr-5-x): destroyed", "forget", "pr-5-x");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("envctl: no preview named pr-5-x");
    const bad = t.run({}, "only a message");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("no envctl preview arguments");
    expect(git(t.origin, "rev-list", "--count", "main")).toBe("1");
    expect(git(t.workspace, "worktree", "list").split("\n")).toHaveLength(1);
  });
});

describe("release.yml", () => {
  const F = "release.yml";

  it("is dispatched by hand with command, environment, from and version", () => {
    expect(Object.keys(wf(F).on)).toEqual(["workflow_dispatch"]);
    const inputs = wf(F).on.workflow_dispatch.inputs;
    expect(inputs.command).toMatchObject({
      type: "choice",
      options: ["promote", "rollout", "continue", "abort", "rollback"],
      required: true,
    });
    expect(inputs.environment).toMatchObject({ type: "choice", options: ["staging", "production"], required: true });
    expect(inputs.from).toMatchObject({ type: "string", required: false });
    expect(inputs.version).toMatchObject({ type: "string", required: false });
  });

  it("runs in the chosen GitHub environment (production needs approval) and its deploy group", () => {
    const j = job(F, "release");
    expect(j.environment).toBe("${{ inputs.environment }}");
    expect(wf(F).concurrency).toEqual({
      group:
        "${{ contains(fromJSON('[\"abort\", \"rollback\"]'), inputs.command) && format('mitigate-{0}', inputs.environment) || format('deploy-{0}', inputs.environment) }}",
      "cancel-in-progress": false,
    });
    expect(j.if).toBe("github.ref == 'refs/heads/main'");
    expect(j.env).toMatchObject({
      COMMAND: "${{ inputs.command }}",
      TARGET: "${{ inputs.environment }}",
      FROM: "${{ inputs.from }}",
      VERSION: "${{ inputs.version }}",
    });
  });

  const envctl = () => stepRunning(job(F, "release"), 'npx envctl "${args[@]}"').run!;
  it.each([
    [{ COMMAND: "promote", TARGET: "staging", FROM: "dev", VERSION: "" }, "npx envctl promote dev staging --yes"],
    [
      { COMMAND: "promote", TARGET: "production", FROM: "staging", VERSION: "1.6.0" },
      "npx envctl promote staging production --version 1.6.0 --yes",
    ],
    [{ COMMAND: "rollout", TARGET: "production", FROM: "", VERSION: "" }, "npx envctl rollout production --yes"],
    [{ COMMAND: "rollback", TARGET: "staging", FROM: "", VERSION: "" }, "npx envctl rollback staging --yes"],
    [{ COMMAND: "abort", TARGET: "production", FROM: "", VERSION: "" }, "npx envctl abort production --yes"],
    [
      { COMMAND: "continue", TARGET: "production", FROM: "", VERSION: "" },
      "npx envctl rollout production --continue --yes",
    ],
  ])("runs envctl for %j", (inputs, call) => {
    const r = runStep(envctl(), { env: inputs, fakes: { npx: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([call]);
    expect(r.outputs).toEqual({ code: "0" });
  });

  it.each([
    [{ COMMAND: "promote", TARGET: "staging", FROM: "", VERSION: "" }, /promote needs 'from'/],
    [{ COMMAND: "promote", TARGET: "staging", FROM: "dev; rm -rf /", VERSION: "" }, /promote needs 'from'/],
    [{ COMMAND: "promote", TARGET: "staging", FROM: "dev", VERSION: "1.0 --rollback" }, /must be an image tag/],
    [{ COMMAND: "rollout", TARGET: "production", FROM: "", VERSION: "1.6.0" }, /apply to promote only/],
    [{ COMMAND: "rollback", TARGET: "production", FROM: "staging", VERSION: "" }, /apply to promote only/],
  ])("refuses %j before calling envctl", (inputs, message) => {
    const r = runStep(envctl(), { env: inputs, fakes: { npx: "" } });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(message);
    expect(r.calls).toEqual([]);
  });

  it("passes envctl's exit code on (e.g. 3: rolled back; 7: superseded by an abort)", () => {
    for (const code of [3, 7]) {
      const r = runStep(envctl(), {
        env: { COMMAND: "rollout", TARGET: "production", FROM: "", VERSION: "" },
        fakes: { npx: `exit ${code}` },
      });
      expect(r.status).toBe(code);
      expect(r.outputs).toEqual({ code: String(code) });
    }
  });

  it("records the release files in main afterwards, even when the release failed, from the record job (the release job holds no write token)", () => {
    const rel = job(F, "release");
    const hand = stepUsing(rel, "actions/upload-artifact");
    // a rollout superseded by an abort in another job (exit 7) records nothing: that job records its change
    expect(hand.if).toBe("always() && steps.envctl.outcome != 'skipped' && steps.envctl.outputs.code != '7'");
    expect(hand.with).toMatchObject({ name: "release-files", path: "environments/releases/" });
    expect(stepsOf(rel).indexOf(hand)).toBe(stepsOf(rel).length - 1);
    expect(rel.outputs).toEqual({ code: "${{ steps.envctl.outputs.code }}", ran: "${{ steps.envctl.outcome }}" });
    const j = job(F, "record");
    expect(needsOf(j)).toEqual(["release"]);
    expect(j.if).toBe(
      "always() && needs.release.outputs.ran != '' && needs.release.outputs.ran != 'skipped' && needs.release.outputs.code != '7'",
    );
    const record = stepRunning(j, "git push");
    expect(record.run).toContain("git add -- environments/releases");
    expect(record.run).not.toMatch(/git add (-A|\.|--all)/);
    expect(stepUsing(j, "actions/download-artifact").with).toEqual({
      name: "release-files",
      path: "environments/releases",
    });
    expect(stepsOf(j).indexOf(record)).toBe(stepsOf(j).length - 1);
    // Nothing to record: no commit, no push.
    const r = runStep(record.run!, { fakes: { git: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["git status --porcelain -- environments/releases"]);
  });
});

describe("runtimes", () => {
  it("every workflow runs Node 24 (active LTS); the package supports 22 and later; CI installs 24 when the machine's is older", () => {
    for (const f of FILES) {
      const w = WORKFLOWS[f] as { env?: Record<string, string> };
      if (/setup-node/.test(TEXT[f]!)) expect(w.env?.NODE_VERSION ?? "24", f).toBe("24");
    }
    expect(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).engines.node).toBe(">=22");
    expect(readFileSync(join(REPO, ".ci/node.sh"), "utf8")).toMatch(
      /NODE_WANT=24\.\d+\.\d+[\s\S]*npm install .*"node@\$NODE_WANT"/,
    );
  });
});

describe("schedule.yml: scheduled rollouts on a cron", () => {
  const j = () => job("schedule.yml", "run");

  it("runs envctl schedule run every 15 minutes, runs never overlap nor cancel each other", () => {
    expect((wf("schedule.yml").on as { schedule: { cron: string }[] }).schedule).toEqual([{ cron: "*/15 * * * *" }]);
    expect(concurrencyOf("schedule.yml", j())).toEqual({ group: "scheduled-rollouts", cancel: false });
    expect(stepRunning(j(), "npx envctl schedule run").run).toMatch(/^npx envctl schedule run --yes --wait \d+$/m);
  });

  it("installs dependencies before any credential exists, and leaves no token in the checkout", () => {
    const steps = stepsOf(j());
    const credentials = steps.findIndex((st) => st.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(indexOfRun(j(), "npm ci --ignore-scripts")).toBeGreaterThanOrEqual(0);
    expect(indexOfRun(j(), "npm ci --ignore-scripts")).toBeLessThan(credentials);
    expect(stepUsing(j(), "actions/checkout").with).toMatchObject({ "persist-credentials": false });
    expect(writes(effectivePermissions("schedule.yml", j()))).toEqual(["id-token"]);
  });
});
