/**
 * Issue 24: one AWS account per environment, guarded; approvals enforced and recorded. Synthesized
 * providers and backends, the account schema and the cross-environment rule, the approvals judge,
 * the approvals file, CI's reading of GitHub's approvals, and `envctl doctor`'s checks.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import production from "../environments/production.ts";
import { type DoctorDeps, formatChecks, runDoctor } from "../lib/cli/commands/doctor.ts";
import { approvalPolicyOf, changeIdOf, judgeApprovals } from "../lib/release/gates/approvals.ts";
import { parseRequest } from "../lib/release/store/approvals.ts";
import { type GithubFetch, readGithubApprovals } from "../lib/review/github-approvals.ts";
import { readTarget } from "../lib/stacks/target.ts";
import { loadProblems, problemsOf, resources, synthRepo, tempProject, writeEnvFile } from "./support/project.ts";

const ACCOUNTS: Record<string, string> = { dev: "123456789012", staging: "222222222222", production: "333333333333" };
const accountOfStack = (name: string) =>
  name.startsWith("bootstrap-")
    ? name.slice("bootstrap-".length)
    : name === "global"
      ? ACCOUNTS.dev!
      : ACCOUNTS[name.replace(/-(traffic|workloads)$/, "")]!;

describe("every provider pins its environment's account", async () => {
  const s = await synthRepo();

  it("the shipped environments declare example accounts, one each, production's approvals stated", () => {
    expect(Object.fromEntries(s.project.environments.map((e) => [e.config.name, e.config.account.id]))).toEqual(
      ACCOUNTS,
    );
    expect(s.project.environments.find((e) => e.config.name === "production")!.config.approvals).toEqual({
      required: 2,
      from: [],
    });
  });

  it("every AWS provider of every stack (the DR region's too) allows only its account and assumes its deploy role", () => {
    let providers = 0;
    for (const name of Object.keys(s.text)) {
      const account = accountOfStack(name);
      for (const p of s.stack(name).provider.aws as any[]) {
        providers++;
        expect(p.allowed_account_ids, `${name} ${p.alias ?? "default"}`).toEqual([account]);
        expect(p.assume_role, name).toEqual([
          expect.objectContaining({
            role_arn: `arn:aws:iam::${account}:role/envstack-deploy`,
            session_name: `envstack-${name}`,
          }),
        ]);
      }
    }
    expect(providers).toBeGreaterThanOrEqual(13); // 12 stacks, production's DR region provider
    expect(s.stack("production").provider.aws.find((p: any) => p.alias === "dr")).toMatchObject({
      region: "eu-central-1",
      allowed_account_ids: [ACCOUNTS.production],
      assume_role: [{ external_id: "envstack-production" }],
    });
  });

  it("each stack keeps its state in its account's bucket, through its role; one bootstrap per account", () => {
    for (const name of Object.keys(s.text)) {
      const b = s.stack(name).terraform.backend.s3;
      expect(b.bucket, name).toBe(`webapp-tfstate-${accountOfStack(name)}`);
      expect(b.assume_role.role_arn, name).toBe(`arn:aws:iam::${accountOfStack(name)}:role/envstack-deploy`);
    }
    for (const id of Object.values(ACCOUNTS)) {
      const buckets = resources(s.stack(`bootstrap-${id}`), "aws_s3_bucket")
        .map((x) => x.bucket)
        .sort();
      expect(buckets).toEqual([`webapp-tfstate-${id}`, `webapp-tfstate-${id}-access-logs`]);
    }
  });

  it("on the emulator each environment gets its own account's credentials, or those ENVSTACK_EMULATOR_ACCOUNT names; the account is requested", async () => {
    const target = (account?: string) => (root: string) =>
      readTarget(
        {
          ENVSTACK_TARGET: "local",
          ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:4566",
          ...(account ? { ENVSTACK_EMULATOR_ACCOUNT: account } : {}),
        },
        root,
      );
    const own = await synthRepo({ target: target() });
    for (const [stack, account] of [
      ["dev", ACCOUNTS.dev],
      ["production", ACCOUNTS.production],
      ["staging-traffic", ACCOUNTS.staging],
    ] as const) {
      for (const p of own.stack(stack).provider.aws) {
        expect(p).toMatchObject({ access_key: account, allowed_account_ids: [account] });
        expect(p.skip_requesting_account_id).toBeUndefined(); // allowed_account_ids needs the account
      }
      expect(own.stack(stack).terraform.backend.s3.access_key).toBe(account);
    }
    const asDev = await synthRepo({ target: target(ACCOUNTS.dev) });
    expect(asDev.stack("production").provider.aws[0]).toMatchObject({
      access_key: ACCOUNTS.dev,
      allowed_account_ids: [ACCOUNTS.production],
    });
    expect(() => readTarget({ ENVSTACK_EMULATOR_ACCOUNT: ACCOUNTS.dev }, "/tmp")).toThrow(
      /ENVSTACK_EMULATOR_ACCOUNT is only for ENVSTACK_TARGET=local/,
    );
  });

  it("the DR copy can go to a vault in another account (no vault made in the DR region then)", async () => {
    const arn = "arn:aws:backup:eu-central-1:444444444444:backup-vault:webapp-dr";
    const other = await synthRepo({
      configs: { production: (c) => ({ ...c, backup: { ...c.backup!, copyToVaultArn: arn } }) },
    });
    const plan = resources(other.stack("production"), "aws_backup_plan")[0];
    expect(plan.rule.every((r: any) => r.copy_action[0].destination_vault_arn === arn)).toBe(true);
    expect(resources(other.stack("production"), "aws_backup_vault")).toHaveLength(1);
  });
});

describe("the account in the environment file", () => {
  const base = { ...dev, name: "qa" } as Record<string, unknown>;

  it("a missing or malformed account is a clear error naming the environment, the field and the rule", () => {
    const { account: _, ...without } = base;
    expect(problemsOf(without)).toEqual(["qa: account is required"]);
    expect(problemsOf({ ...base, account: { id: 123456789012 } })).toEqual([
      'qa: account.id must be a 12-digit AWS account id in quotes, e.g. "111111111111"',
    ]);
    expect(problemsOf({ ...base, account: { id: "12345" } })).toEqual([
      'qa: account.id must be a 12-digit AWS account id, e.g. "111111111111"',
    ]);
    expect(
      problemsOf({ ...base, account: { id: "123456789012", deployRoleArn: "arn:aws:iam::222222222222:role/deploy" } }),
    ).toEqual([
      "qa: account.deployRoleArn must be a role of the environment's account 123456789012 (found 222222222222): the providers only accept 123456789012",
    ]);
    expect(problemsOf({ ...base, account: { id: "123456789012", deployRoleArn: "deploy" } })).toEqual([
      "qa: account.deployRoleArn must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>",
    ]);
    expect(
      problemsOf({ ...base, account: { id: "123456789012", externalId: "x1", sessionTags: { Team: "platform" } } }),
    ).toEqual([
      "qa: account.externalId needs deployRoleArn (it is passed when assuming that role)",
      "qa: account.sessionTags needs deployRoleArn (they are passed when assuming that role)",
    ]);
    expect(problemsOf({ ...base, account: { id: "123456789012", region: "eu-west-1" } })).toEqual([
      "qa: account has unknown field(s) region",
    ]);
  });

  it("two environments share an account only when both say so", async () => {
    const qa = (sharedWith: string) => `import { defineEnvironment } from "../lib/index.ts";
import dev from "./dev.ts";
export default defineEnvironment({ ...dev, name: "qa", account: { ...dev.account, sharedWith: ${sharedWith} }, domain: "qa.webapp.example.com", network: { ...dev.network, cidr: "10.9.0.0/16" }, release: { ...dev.release, promotesTo: [] } });
`;
    const dir = tempProject((d) => writeEnvFile(d, "qa", qa(`["dev"]`)));
    writeFileSync(
      join(dir, "environments/releases/qa.json"),
      JSON.stringify({
        environment: "qa",
        live: "blue",
        slots: { blue: { version: "1.4.0", weight: 100 }, green: { version: null, weight: 0 } },
      }),
    );
    // qa says so, dev does not.
    expect(await loadProblems(dir)).toEqual([
      "dev: account.id 123456789012 is also qa's account: each environment has its own account, or both name each other in account.sharedWith, or both belong to one account group outside the production tier (dev does not name qa)",
    ]);
    // both say so.
    const devFile = join(dir, "environments/dev.ts");
    writeFileSync(
      devFile,
      readFileSync(devFile, "utf8").replace(
        "account: accounts.dev,",
        'account: { ...accounts.dev, sharedWith: ["qa"] },',
      ),
    );
    expect(await loadProblems(dir)).toEqual([]);
    // neither: both are named.
    writeEnvFile(dir, "qa", qa("[]"));
    writeFileSync(devFile, readFileSync(devFile, "utf8").replace('sharedWith: ["qa"]', "sharedWith: []"));
    expect((await loadProblems(dir)).map((p) => p.split(":")[0])).toEqual(["qa", "dev"]);
  });

  it("the global stack's account is the one the configuration names; across accounts it is never implied", async () => {
    const dir = tempProject();
    const defaults = join(dir, "environments/_defaults.ts");
    const text = readFileSync(defaults, "utf8");
    writeFileSync(defaults, text.replace(", hostsGlobal: true }", " }"));
    expect(await loadProblems(dir)).toEqual([
      "dev: account.hostsGlobal must be true on the one account that holds the global stack (the dashboard): " +
        "the environments span 3 accounts (123456789012, 333333333333, 222222222222), so it is never implied",
    ]);
    // A second project: a module once imported stays imported in this process.
    const both = tempProject((d) =>
      writeFileSync(
        join(d, "environments/_defaults.ts"),
        text.replace('deployRoleArn: "arn:aws:iam::333333333333:role/envstack-deploy",', "$&\n    hostsGlobal: true,"),
      ),
    );
    const two = "is said of 2 accounts or regions (123456789012 in eu-west-1, 333333333333 in eu-west-1)";
    expect(await loadProblems(both)).toEqual([
      `dev: account.hostsGlobal ${two}: the global stack lives in one account and region`,
      `production: account.hostsGlobal ${two}: the global stack lives in one account and region`,
    ]);
    // Named: the global stack's provider allows that account only, and assumes its role.
    const s = await synthRepo({
      configs: {
        dev: (c) => ({ ...c, account: { ...c.account, hostsGlobal: false } }),
        production: (c) => ({ ...c, account: { ...c.account, hostsGlobal: true } }),
      },
    });
    expect(s.stack("global").provider.aws[0]).toMatchObject({
      allowed_account_ids: [ACCOUNTS.production],
      assume_role: [{ role_arn: `arn:aws:iam::${ACCOUNTS.production}:role/envstack-deploy` }],
    });
  }, 120_000);

  it("approvals: bounded, satisfiable, at least one in the production tier; the defaults are stated", () => {
    expect(approvalPolicyOf({ tier: "production" })).toEqual({ required: 2, from: [] });
    expect(approvalPolicyOf({ tier: "staging" })).toEqual({ required: 0, from: [] });
    expect(approvalPolicyOf({ tier: "development" })).toEqual({ required: 0, from: [] });
    expect(problemsOf({ ...base, approvals: { required: 3, from: ["alice", "bob"] } })).toEqual([
      "qa: approvals.from names 2 approver(s), fewer than required (3): no change could ever be approved",
    ]);
    expect(problemsOf({ ...base, approvals: { required: 11 } })).toEqual([
      "qa: approvals.required must be at most 10 (project limit)",
    ]);
    expect(
      problemsOf({ ...base, approvals: { required: 1, from: ["arn:aws:sts::333333333333:assumed-role/Approver/*"] } }),
    ).toEqual([]);
  });
});

describe("approvals: the judge", () => {
  const policy = { required: 2, from: [] as string[] };

  it("too few approvers is refused, saying how many and who", () => {
    const v = judgeApprovals(policy, "carol", ["alice"]);
    expect(v.ok).toBe(false);
    expect(v.message).toBe("needs 2 approval(s) from someone other than the author carol; has 1 (alice)");
  });

  it("the author approving their own change does not count; nor twice the same person; nor someone outside `from`", () => {
    expect(judgeApprovals(policy, "carol", ["Carol", "alice"])).toMatchObject({
      ok: false,
      counted: ["alice"],
      ignored: [{ by: "Carol", why: "is the change's author" }],
    });
    expect(judgeApprovals(policy, "carol", ["alice", "ALICE"])).toMatchObject({
      ok: false,
      counted: ["alice"],
      ignored: [{ by: "ALICE", why: "approved already" }],
    });
    const from = { required: 1, from: ["arn:aws:sts::333333333333:assumed-role/Approver/*"] };
    expect(judgeApprovals(from, "carol", ["arn:aws:iam::333333333333:user/mallory"])).toMatchObject({
      ok: false,
      ignored: [{ why: "is not in approvals.from" }],
    });
    // A role session's name is the caller's choice: it names no person, inside `from` or not.
    expect(judgeApprovals(from, "carol", ["arn:aws:sts::333333333333:assumed-role/Approver/alice"])).toMatchObject({
      ok: false,
      counted: [],
    });
    const sso = { required: 1, from: ["arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_Approver_*/*"] };
    const alice = "arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_Approver_0a1b2c3d/alice";
    expect(judgeApprovals(sso, "carol", [alice])).toMatchObject({ ok: true, counted: [alice] });
  });

  it("enough distinct others approve: the change goes through", () => {
    expect(judgeApprovals(policy, "carol", ["alice", "bob"])).toEqual({
      ok: true,
      counted: ["alice", "bob"],
      ignored: [],
      message: "approved by alice, bob",
    });
    expect(judgeApprovals({ required: 0, from: [] }, "carol", [])).toMatchObject({
      ok: true,
      message: "no approval required",
    });
  });

  it("a change's id depends on the environment, the state it starts from and what it does", () => {
    const what = {
      summary: "envctl shift production --to green --percent 10",
      diff: "- weight 0\n+ weight 10",
      stacks: ["production-traffic"],
    };
    const id = changeIdOf("production", 7, what);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(changeIdOf("production", 7, { ...what })).toBe(id);
    expect(changeIdOf("production", 8, what)).not.toBe(id);
    expect(changeIdOf("staging", 7, what)).not.toBe(id);
    expect(changeIdOf("production", 7, { ...what, diff: "- weight 0\n+ weight 50" })).not.toBe(id);
  });
});

describe("approvals: a change waiting is a pointer, trusted for nothing", () => {
  it("reads back only a well-formed request; approvals are never part of it", () => {
    const req = { changeId: "0123456789abcdef", summary: "s", author: "carol", at: "t", argv: ["shift", "production"] };
    expect(parseRequest(JSON.stringify(req))).toEqual(req);
    expect(parseRequest("{ torn")).toBeUndefined();
    expect(parseRequest(JSON.stringify({ ...req, approvals: [{ by: "alice", at: "t" }] }))).toBeUndefined();
    expect(parseRequest(JSON.stringify({ ...req, changeId: "../../x" }))).toBeUndefined();
  });
});

describe("approvals in CI: read from GitHub for the run and its commit", () => {
  const sha = "a".repeat(40);
  const head = "b".repeat(40);
  const env = {
    GITHUB_REPOSITORY: "acme/webapp",
    GITHUB_RUN_ID: "42",
    GITHUB_SHA: sha,
    GITHUB_ACTOR: "carol",
    GH_TOKEN: "t",
    GITHUB_EVENT_NAME: "push",
  };
  const run = { head_sha: sha, status: "in_progress", repository: { full_name: "acme/webapp" } };
  const github =
    (routes: Record<string, unknown>, asked: string[] = []): GithubFetch =>
    async (url) => {
      const path = url.replace("https://api.github.com/repos/acme/webapp/", "");
      asked.push(path);
      const [route, query] = path.split("?");
      const page = Number(new URLSearchParams(query ?? "").get("page") ?? "1");
      const body = routes[`${route}#${page}`] ?? (page === 1 ? routes[route!] : []);
      return body !== undefined
        ? { ok: true, status: 200, json: async () => body }
        : { ok: false, status: 404, json: async () => ({}) };
    };

  it("environment reviewers of the run and the latest approving reviews of the merged PR's head, every page; the PR's author is the author", async () => {
    const asked: string[] = [];
    const found = await readGithubApprovals(
      "production",
      env,
      github(
        {
          "actions/runs/42": run,
          "actions/runs/42/approvals": [
            { state: "approved", user: { login: "alice" }, environments: [{ name: "production" }] },
            { state: "approved", user: { login: "zed" }, environments: [{ name: "staging" }] },
            { state: "rejected", user: { login: "yan" }, environments: [{ name: "production" }] },
          ],
          [`commits/${sha}/pulls`]: [
            { number: 7, user: { login: "dave" }, merged_at: "2026-01-01T00:00:00Z", merge_commit_sha: sha },
          ],
          "pulls/7": { number: 7, user: { login: "dave" }, head: { sha: head } },
          "pulls/7/reviews#1": Array.from({ length: 100 }, (_, i) => ({
            state: "COMMENTED",
            user: { login: `w${i}` },
            commit_id: head,
          })),
          "pulls/7/reviews#2": [
            { state: "APPROVED", user: { login: "bob" }, commit_id: head },
            { state: "APPROVED", user: { login: "erin" }, commit_id: head },
            { state: "CHANGES_REQUESTED", user: { login: "erin" }, commit_id: head },
            { state: "COMMENTED", user: { login: "bob" }, commit_id: head },
            { state: "APPROVED", user: { login: "dave" }, commit_id: head },
            { state: "APPROVED", user: { login: "frank" }, commit_id: "c".repeat(40) },
          ],
        },
        asked,
      ),
    );
    expect(found).toMatchObject({ author: "dave", actor: "carol", approvers: ["alice", "bob", "dave"] });
    expect(asked).toContain("pulls/7/reviews?per_page=100&page=2");
    expect(found.sources).toContain("frank: approved #7 at cccccccccccc, not its head: not counted");
    // The author's own approving review never counts: two others are needed.
    expect(judgeApprovals({ required: 2, from: [] }, found.author, found.approvers)).toMatchObject({
      ok: true,
      counted: ["alice", "bob"],
    });
    expect(judgeApprovals({ required: 3, from: [] }, found.author, found.approvers).ok).toBe(false);
  });

  it("a release started by hand: the actor is the author; another commit's or a finished run, or GitHub unreadable, fails closed", async () => {
    const found = await readGithubApprovals(
      "production",
      { ...env, GITHUB_EVENT_NAME: "workflow_dispatch" },
      github({
        "actions/runs/42": run,
        "actions/runs/42/approvals": [
          { state: "approved", user: { login: "carol" }, environments: [{ name: "production" }] },
        ],
      }),
    );
    expect(found).toMatchObject({ author: "carol", approvers: ["carol"] });
    expect(judgeApprovals({ required: 1, from: [] }, found.author, found.approvers).ok).toBe(false);
    await expect(readGithubApprovals("production", env, github({}))).rejects.toThrow(
      "GitHub answered 404 to GET /repos/acme/webapp/actions/runs/42",
    );
    const other = github({ "actions/runs/42": { ...run, head_sha: "d".repeat(40) } });
    await expect(readGithubApprovals("production", env, other)).rejects.toThrow(
      `run 42 is of commit ${"d".repeat(40)}, not of GITHUB_SHA ${sha}`,
    );
    const finished = github({ "actions/runs/42": { ...run, status: "completed" } });
    await expect(readGithubApprovals("production", env, finished)).rejects.toThrow("run 42 has finished");
    await expect(readGithubApprovals("production", { GITHUB_REPOSITORY: "acme/webapp" }, github({}))).rejects.toThrow(
      /needs GITHUB_RUN_ID, GITHUB_SHA, GH_TOKEN/,
    );
  });
});

describe("envctl doctor's checks", () => {
  const o = { region: "eu-west-1", account: production.account, environment: "production" };
  const deps = (over: Partial<DoctorDeps> = {}): DoctorDeps => ({
    identity: async (_o, base) =>
      base
        ? { account: "999999999999", arn: "arn:aws:sts::999999999999:assumed-role/Admin/carol" }
        : { account: "333333333333", arn: "arn:aws:sts::333333333333:assumed-role/envstack-deploy/envctl-carol" },
    bucket: async () => ({ ok: true }),
    engine: async () => "OpenTofu v1.12.6",
    ...over,
  });

  it("all as expected: every check ok", async () => {
    const checks = await runDoctor(production, o, { AWS_REGION: "us-east-1" }, "webapp-tfstate-333333333333", deps());
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ["credentials", true],
      ["role", true],
      ["account", true],
      ["region", true],
      ["state bucket", true],
      ["engine", true],
    ]);
    expect(checks.find((c) => c.name === "region")!.detail).toBe(
      "eu-west-1 answers (AWS_REGION is us-east-1: envctl and the providers use eu-west-1, the environment's)",
    );
  });

  it("a wrong account, a role that cannot be assumed, no bucket, no engine: each says what is wrong and how to fix it", async () => {
    const wrong = await runDoctor(
      production,
      o,
      {},
      "webapp-tfstate-333333333333",
      deps({
        identity: async () => ({
          account: "123456789012",
          arn: "arn:aws:sts::123456789012:assumed-role/envstack-deploy/x",
        }),
      }),
    );
    expect(wrong.find((c) => c.name === "account")).toEqual({
      name: "account",
      ok: false,
      detail:
        "production deploys into account 333333333333, but the credentials are of account 123456789012 (arn:aws:sts::123456789012:assumed-role/envstack-deploy/x)",
      fix: expect.stringContaining("use credentials of 333333333333"),
    });
    expect(wrong.find((c) => c.name === "state bucket")!.ok).toBe(false);
    const noRole = await runDoctor(
      production,
      o,
      {},
      "b",
      deps({
        identity: async (_o, base) => {
          if (base) return { account: "999999999999", arn: "arn:aws:iam::999999999999:user/carol" };
          throw new Error("AccessDenied");
        },
      }),
    );
    expect(noRole.find((c) => c.name === "role")).toMatchObject({
      ok: false,
      fix: expect.stringContaining("trust policy must allow arn:aws:iam::999999999999:user/carol with the external id"),
    });
    const rest = await runDoctor(
      production,
      o,
      {},
      "webapp-tfstate-333333333333",
      deps({
        bucket: async () => ({ ok: false, status: 404, error: "does not exist" }),
        engine: async () => {
          throw new Error("spawn terraform ENOENT");
        },
      }),
    );
    expect(rest.find((c) => c.name === "state bucket")).toMatchObject({
      ok: false,
      fix: expect.stringContaining("cdktf deploy bootstrap-333333333333"),
    });
    expect(rest.find((c) => c.name === "engine")).toMatchObject({
      ok: false,
      detail: "terraform: spawn terraform ENOENT",
    });
    const none = await runDoctor(
      production,
      o,
      {},
      "b",
      deps({
        identity: async () => {
          throw new Error("Could not load credentials from any providers");
        },
      }),
    );
    expect(none.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      "credentials",
      "role",
      "account",
      "region",
      "state bucket",
    ]);
    expect(formatChecks("production", none)).toMatch(
      /^envctl doctor production\nFAIL {2}credentials +STS GetCallerIdentity failed: Could not load credentials from any providers\n +fix: sign in: aws sso login/,
    );
  });
});
