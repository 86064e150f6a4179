/**
 * Approvals one person cannot forge, through envctl's own main() with fakes: workstation approvals
 * are read from the ledger the platform keeps (never a file), one per person (never a role session
 * name), for exactly the change `envctl approve` recomputes from the checkout; CI's are read from
 * GitHub for the run and its commit (never environment variables); a checkout that lowers the
 * committed policy is judged by the committed one. Each refusal says why and writes nothing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CallerIdentity } from "../lib/aws/identity.ts";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { changeIdOf, effectivePolicy, judgeApprovals } from "../lib/release/gates/approvals.ts";
import { personOf } from "../lib/release/gates/principals.ts";
import type { GithubFetch } from "../lib/review/github-approvals.ts";
import { commitProject, fakeLedgers, githubCi } from "./support/approvals.ts";
import { STACK_TRACE, treeDigest } from "./support/cli.ts";
import { FakeMaintenance } from "./support/fake-maintenance.ts";
import { FakeClock } from "./support/fakes.ts";
import { synthRepo, tempProject } from "./support/project.ts";

const user = (name: string) => `arn:aws:iam::999999999999:user/${name}`;
const ON = ["maintenance", "production", "on", "--message", "Back soon", "--yes"];

/** A committed project; envctl run as `who` (STS identity) with the ledger and GitHub the test holds. */
function project(edit?: (dir: string) => void) {
  const dir = tempProject(edit);
  commitProject(dir);
  const ledgers = fakeLedgers();
  const log: string[] = [];
  const lines: string[] = [];
  const sw = new FakeMaintenance(log);
  const clock = new FakeClock();
  const deps = (who: string, env: Record<string, string> = {}, github?: GithubFetch): Deps => ({
    cwd: dir,
    env: { PATH: process.env.PATH, USER: "someone", ENVSTACK_ROOT: dir, ...env },
    deployer: {
      deploy: async (stacks) => {
        log.push(`deploy ${stacks.join(" ")}`);
        if (stacks.includes("production-traffic")) sw.deployFrom(dir, "production");
      },
    },
    maintenance: () => sw,
    identity: async (o): Promise<CallerIdentity> => ({ account: o.account!.id, arn: who }),
    approvalLedger: ledgers.of,
    ...(github ? { github } : {}),
    progress: new PlainProgress((l) => lines.push(l), clock.now),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    clock,
  });
  const run = async (who: string, args: readonly string[], env?: Record<string, string>, github?: GithubFetch) => {
    lines.length = 0;
    const code = await main(["node", "envctl", ...args], deps(who, env, github));
    return { code, text: lines.join("\n") };
  };
  const release = () => JSON.parse(readFileSync(join(dir, "environments/releases/production.json"), "utf8"));
  return { dir, log, run, release, ledger: () => ledgers.get("production") };
}

const changeIdIn = (text: string) => /change ([0-9a-f]{16}) /.exec(text)?.[1] ?? "";

describe("principals: one person counts once", () => {
  it("a role session name is no person; case and spelling of one person never count twice", () => {
    expect(personOf("arn:aws:sts::333333333333:assumed-role/envstack-deploy/ops-2")).toMatchObject({ ok: false });
    expect(
      personOf("arn:aws:sts::333333333333:assumed-role/envstack-deploy/ops-2").ok === false &&
        personOf("arn:aws:sts::333333333333:assumed-role/envstack-deploy/ops-2"),
    ).toMatchObject({
      why: expect.stringContaining("session name (ops-2) is chosen by whoever assumes it"),
    });
    const sso = (set: string, name: string) =>
      `arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_${set}_0123abcd/${name}`;
    const policy = { required: 2, from: [] };
    // One person through two permission sets, as an IAM user, in another case: one approval.
    expect(
      judgeApprovals(policy, user("carol"), [sso("Admin", "alice"), sso("ReadOnly", "Alice"), user("ALICE")]),
    ).toMatchObject({
      ok: false,
      counted: [sso("Admin", "alice")],
    });
    // Two sessions of one role: not counted at all.
    const v = judgeApprovals(policy, user("carol"), [
      "arn:aws:sts::333333333333:assumed-role/envstack-deploy/ops-2",
      "arn:aws:sts::333333333333:assumed-role/envstack-deploy/OPS-3",
    ]);
    expect(v).toMatchObject({ ok: false, counted: [] });
    expect(v.message).toContain(
      "is a session of role envstack-deploy, whose session name (OPS-3) is chosen by whoever assumes it",
    );
    // The author under another spelling is the author.
    expect(judgeApprovals(policy, sso("Admin", "carol"), [user("Carol"), user("bob")]).counted).toEqual([user("bob")]);
    // Look-alike letters are refused, not guessed at.
    expect(personOf("аlice")).toMatchObject({ ok: false }); // Cyrillic а
    expect(judgeApprovals(policy, "dana", ["alice", "bob", "Alice"])).toMatchObject({
      ok: true,
      counted: ["alice", "bob"],
    });
  });

  it("a checkout that lowers the tier or weakens the approvals is judged by the committed policy", () => {
    const committed = { tier: "production" as const, approvals: { required: 2, from: [] } };
    expect(effectivePolicy({ tier: "staging" }, [{ ref: "HEAD", source: committed }])).toEqual({
      policy: { required: 2, from: [] },
      tier: "production",
      lowered: "tier staging (HEAD: production), approvals 0 required (HEAD: 2 required)",
    });
    const from = { tier: "production" as const, approvals: { required: 1, from: ["alice", "bob"] } };
    expect(
      effectivePolicy({ tier: "production", approvals: { required: 1, from: [] } }, [
        { ref: "origin/main", source: from },
      ]).policy,
    ).toEqual({ required: 1, from: ["alice", "bob"] });
    expect(
      effectivePolicy({ tier: "production", approvals: { required: 3, from: [] } }, [
        { ref: "HEAD", source: committed },
      ]),
    ).toEqual({ policy: { required: 3, from: [] }, tier: "production" });
    // The change id binds the synthesized Terraform.
    const what = { summary: "s", stacks: ["production-traffic"] };
    expect(changeIdOf("production", 1, what, "a")).not.toBe(changeIdOf("production", 1, what, "b"));
  });
});

describe("workstation approvals: recorded where the platform proves who made them", () => {
  it("an edit of the release file no record accounts for is shown to the approver as part of the change, and binds its id", async () => {
    const { summarize } = await import("../lib/release/model/records.ts");
    const p = project((dir) => {
      // The file as its last record left it (what envctl writes), then edited by hand: an unreviewed version.
      const f = join(dir, "environments/releases/production.json");
      const r = JSON.parse(readFileSync(f, "utf8"));
      r.lastChange = {
        seq: 4,
        at: "2026-11-20T10:00:00.000Z",
        by: "alice",
        command: "envctl promote",
        outcome: "deployed",
      };
      r.lastChange.from = summarize(r);
      r.lastChange.to = summarize(r);
      writeFileSync(f, `${JSON.stringify(r, null, 2)}\n`);
    });
    const f = join(p.dir, "environments/releases/production.json");
    const clean = await p.run(user("carol"), ON);
    const cleanId = changeIdIn(clean.text);
    const r = JSON.parse(readFileSync(f, "utf8"));
    const idle = r.live === "blue" ? "green" : "blue";
    r.slots[idle].version = "9.9.9-unreviewed";
    writeFileSync(f, `${JSON.stringify(r, null, 2)}\n`);
    const refused = await p.run(user("carol"), ON);
    expect(refused.code).toBe(1);
    const id = changeIdIn(refused.text);
    expect(id).not.toBe(cleanId);
    const alice = await p.run(user("alice"), ["approve", "production", id]);
    expect(alice.code, alice.text).toBe(0);
    expect(alice.text).toContain(
      `# includes an edit of the release file made outside envctl since record 4: slots.${idle}.version`,
    );
    expect(alice.text).toContain('"9.9.9-unreviewed"');
  });

  it("the whole flow: refused and requested, approved by two others on what envctl recomputes, then applied and recorded", async () => {
    const p = project();
    const refused = await p.run(user("carol"), ON);
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(
      /production: change [0-9a-f]{16} needs 2 approval\(s\) from someone other than the author arn:aws:iam::999999999999:user\/carol; has 0/,
    );
    expect(p.log).toEqual([]);
    const id = changeIdIn(refused.text);
    expect((await p.ledger().requests()).map((r) => [r.changeId, r.argv])).toEqual([[id, ON]]);
    // The author cannot approve their own change.
    const own = await p.run(user("carol"), ["approve", "production", id]);
    expect(own.code).toBe(1);
    expect(own.text).toContain(
      "arn:aws:iam::999999999999:user/carol is the change's author: this approval would not count; nothing was recorded",
    );
    const alice = await p.run(user("alice"), ["approve", "production", id]);
    expect(alice.code, alice.text).toBe(0);
    expect(alice.text).toContain(
      `production: change ${id} by arn:aws:iam::999999999999:user/carol, as this checkout makes it:`,
    );
    expect(alice.text).toContain(
      "  envctl maintenance production on --message …: maintenance on: a 503 page ahead of the weighted rule",
    );
    expect(alice.text).toContain("stacks: production-traffic");
    expect(alice.text).toContain("needs 2 approval(s)");
    expect((await p.run(user("bob"), ["approve", "production", id])).text).toContain(
      "the author can now run the command again",
    );
    const applied = await p.run(user("carol"), ON);
    expect(applied.code, applied.text).toBe(0);
    expect(p.log.filter((l) => l !== "read")).toEqual(["direct on", "deploy production-traffic", "remove fast"]);
    const notes = readFileSync(join(p.dir, "environments/releases/production.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((x) => x.kind === "approval");
    expect(notes).toEqual([
      expect.objectContaining({
        changeId: id,
        author: user("carol"),
        approvers: [user("alice"), user("bob")],
        source: "envctl approve",
      }),
    ]);
  });

  it("an edited approvals file adds no approval: nothing is read from it, nothing is written", async () => {
    const p = project();
    const first = await p.run(user("carol"), ON);
    const id = changeIdIn(first.text);
    // The author writes approvals by alice and bob into the file an earlier envctl kept them in.
    const file = join(p.dir, "environments/releases/production.approvals.json");
    const forged = {
      environment: "production",
      requests: [
        {
          changeId: id,
          summary: "s",
          stacks: [],
          author: user("carol"),
          at: "t",
          approvals: [
            { by: user("alice"), at: "t" },
            { by: user("bob"), at: "t" },
          ],
        },
      ],
    };
    writeFileSync(file, JSON.stringify(forged));
    const before = treeDigest(p.dir);
    const again = await p.run(user("carol"), ON);
    expect(again.code).toBe(1);
    expect(again.text).toContain(
      `change ${id} needs 2 approval(s) from someone other than the author arn:aws:iam::999999999999:user/carol; has 0`,
    );
    expect(again.text).not.toMatch(STACK_TRACE);
    expect(treeDigest(p.dir)).toEqual(before);
    expect(p.log).toEqual([]);
    expect(p.release().maintenance ?? null).toBeNull();
  });

  it("two session names of one person: refused as approver, nothing recorded; forged into the ledger, they still do not count", async () => {
    const p = project();
    const id = changeIdIn((await p.run(user("carol"), ON)).text);
    for (const session of ["ops-2", "OPS-3"]) {
      const r = await p.run(`arn:aws:sts::333333333333:assumed-role/envstack-deploy/${session}`, [
        "approve",
        "production",
        id,
      ]);
      expect(r.code).toBe(1);
      expect(r.text).toContain(
        `is a session of role envstack-deploy, whose session name (${session}) is chosen by whoever assumes it: it names no person`,
      );
      expect(r.text).toContain("nothing was recorded");
    }
    expect(await p.ledger().list(id)).toEqual([]);
    // Even written straight into the ledger (a bucket without its policy), they count for nothing.
    for (const s of ["ops-2", "OPS-3"])
      await p.ledger().approve(id, { arn: `arn:aws:sts::333333333333:assumed-role/envstack-deploy/${s}` }, "t");
    const r = await p.run(user("carol"), ON);
    expect(r.code).toBe(1);
    expect(r.text).toContain("has 0");
    expect(p.log).toEqual([]);
  });

  it("an edited summary is never shown: envctl approve shows what the command makes; an edited command makes another change and is refused", async () => {
    const p = project();
    const id = changeIdIn((await p.run(user("carol"), ON)).text);
    const req = p.ledger().waiting.get(id)!;
    req.summary = "envctl snapshot production (routine)";
    const shown = await p.run(user("alice"), ["approve", "production", id]);
    expect(shown.code, shown.text).toBe(0);
    expect(shown.text).not.toContain("routine");
    expect(shown.text).toContain(
      "  envctl maintenance production on --message …: maintenance on: a 503 page ahead of the weighted rule",
    );
    // The command itself edited: it makes another change, so nothing is recorded for this one.
    req.argv = ["snapshot", "production", "--reason", "routine", "--yes"];
    const other = await p.run(user("bob"), ["approve", "production", id]);
    expect(other.code).toBe(1);
    expect(other.text).toMatch(
      new RegExp(
        `change ${id} cannot be made again from this checkout: 'envctl snapshot production --reason routine --yes' now makes (change [0-9a-f]{16}|no change)|makes no change of production`,
      ),
    );
    expect((await p.ledger().list(id)).map((a) => a.by)).toEqual([user("alice")]);
    // A command that never reaches the gate is not run at all.
    req.argv = ["rollback", "production", "--yes"];
    const mitigation = await p.run(user("bob"), ["approve", "production", id]);
    expect(mitigation.text).toContain("the request records no command envctl approve can make again");
    expect(p.log).toEqual([]);
  });

  it("the change id binds the synthesized Terraform: approvals of the change do not carry over to other code behind its stacks", async () => {
    const p = project();
    const id = changeIdIn((await p.run(user("carol"), ON)).text);
    await p.run(user("alice"), ["approve", "production", id]);
    await p.run(user("bob"), ["approve", "production", id]);
    const f = join(p.dir, "environments/production.ts");
    writeFileSync(
      f,
      readFileSync(f, "utf8").replace('  tier: "production",', '  tier: "production",\n  owner: "someone-else",'),
    );
    const r = await p.run(user("carol"), ON);
    expect(r.code).toBe(1);
    expect(changeIdIn(r.text)).not.toBe(id);
    expect(r.text).toContain("has 0");
    expect(p.log).toEqual([]);
  });

  it("a checkout lowering production's tier and approvals needs the committed policy's approvals (and its prompt)", async () => {
    const p = project();
    const f = join(p.dir, "environments/production.ts");
    writeFileSync(
      f,
      readFileSync(f, "utf8").replace(
        'approvals: { required: 2, from: [] },\n  tier: "production",',
        'tier: "staging",',
      ),
    );
    const before = treeDigest(p.dir);
    const r = await p.run(
      user("carol"),
      ON.filter((a) => a !== "--yes"),
    );
    expect(r.code).toBe(1);
    expect(r.text).toContain("needs 2 approval(s)");
    expect(r.text).toContain(
      "this checkout lowers tier staging (HEAD: production), approvals 0 required (HEAD: 2 required): the committed policy applies",
    );
    expect(treeDigest(p.dir)).toEqual(before);
    expect(p.log).toEqual([]);
  });
});

describe("CI approvals: read by envctl from GitHub, for the run and its commit", () => {
  it("workstation CI variables are refused, each with a clear message, nothing written", async () => {
    const p = project();
    const ci = githubCi(p.dir);
    const before = treeDigest(p.dir);
    const vars = await p.run(user("carol"), ON, {
      GITHUB_ACTIONS: "true",
      ENVSTACK_CHANGE_AUTHOR: "x",
      ENVSTACK_APPROVED_BY: "a,b",
    });
    expect(vars.code).toBe(1);
    expect(vars.text).toContain(
      "production: ENVSTACK_APPROVED_BY and ENVSTACK_CHANGE_AUTHOR are set, but envctl never takes approvers or authors from environment variables",
    );
    const bare = await p.run(user("carol"), ON, { GITHUB_ACTIONS: "true" });
    expect(bare.text).toContain(
      "production: GITHUB_ACTIONS=true, but this is no GitHub Actions job: it needs GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_SHA, GH_TOKEN",
    );
    // The variables of a run, and a token, on a workstation: GitHub knows no such run of this commit.
    const unknown: GithubFetch = async () => ({ ok: false, status: 404, json: async () => ({}) });
    const forged = await p.run(user("carol"), ON, ci.env, unknown);
    expect(forged.text).toContain(
      "GitHub does not vouch for it: GitHub answered 404 to GET /repos/acme/webapp/actions/runs/42",
    );
    // A real run, but the checkout is not its commit.
    const other = await p.run(user("carol"), ON, { ...ci.env, GITHUB_SHA: "0".repeat(40) }, ci.github);
    expect(other.text).toMatch(/the checkout is at [0-9a-f]{40}, not at the run's commit 0{40}/);
    for (const r of [vars, bare, forged, other]) expect(r.text).not.toMatch(STACK_TRACE);
    expect(treeDigest(p.dir)).toEqual(before);
    expect(p.log).toEqual([]);
  });

  it("counts approvals of the pull request's head only, on every page, never bots nor the author; then applies and records them", async () => {
    const p = project();
    const ci = githubCi(p.dir, { author: "dana" });
    const head = "f".repeat(40);
    const reviews = [
      ...Array.from({ length: 100 }, (_, i) => ({
        id: i,
        state: "COMMENTED",
        user: { login: `watcher${i}` },
        commit_id: head,
      })),
      { id: 101, state: "APPROVED", user: { login: "alice" }, commit_id: "e".repeat(40) }, // an earlier push
      { id: 102, state: "APPROVED", user: { login: "bob" }, commit_id: head },
      { id: 103, state: "APPROVED", user: { login: "dana" }, commit_id: head }, // the author
      { id: 104, state: "APPROVED", user: { login: "helper[bot]", type: "Bot" }, commit_id: head },
    ];
    const github =
      (pages: unknown[][]): GithubFetch =>
      async (url, init) => {
        const m = /pulls\/7\/reviews\?per_page=100&page=(\d+)/.exec(url);
        if (!m) return ci.github(url, init);
        return { ok: true, status: 200, json: async () => pages[Number(m[1]) - 1] ?? [] };
      };
    const r = await p.run(user("carol"), ON, ci.env, github([reviews.slice(0, 100), reviews.slice(100)]));
    expect(r.code).toBe(1);
    expect(r.text).toContain("needs 2 approval(s) from someone other than the author dana; has 1 (bob)");
    expect(r.text).toContain("alice: approved #7 at eeeeeeeeeeee, not its head: not counted");
    expect(r.text).toContain("helper[bot]: a bot, never an approver");
    expect(p.log).toEqual([]);
    const ok = await p.run(
      user("carol"),
      ON,
      ci.env,
      github([
        reviews.slice(0, 100),
        [...reviews.slice(100), { id: 105, state: "APPROVED", user: { login: "erin" }, commit_id: head }],
      ]),
    );
    expect(ok.code, ok.text).toBe(0);
    expect(p.log.filter((l) => l !== "read")).toEqual(["direct on", "deploy production-traffic", "remove fast"]);
    const notes = readFileSync(join(p.dir, "environments/releases/production.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((x) => x.kind === "approval");
    expect(notes).toEqual([expect.objectContaining({ author: "dana", approvers: ["bob", "erin"], source: "github" })]);
  });

  it("envctl approvals verify reads the same, and refuses a finished run", async () => {
    const p = project();
    const ci = githubCi(p.dir);
    expect(
      (await p.run(user("x"), ["approvals", "verify", "production", "--github"], ci.env, ci.github)).text,
    ).toContain("production: change by dana: approved by alice, bob");
    const finished: GithubFetch = async (url, init) =>
      url.endsWith("actions/runs/42")
        ? { ok: true, status: 200, json: async () => ({ head_sha: ci.env.GITHUB_SHA, status: "completed" }) }
        : ci.github(url, init);
    const r = await p.run(user("x"), ["approvals", "verify", "production", "--github"], ci.env, finished);
    expect(r.code).toBe(1);
    expect(r.text).toContain("run 42 has finished: its approvals approve nothing more");
  });
});

describe("the state bucket's policy: an approval object says who wrote it", () => {
  it("each account's bootstrap stack lets only people write approvals, each under its own aws:userid, and nobody erase them", async () => {
    const s = await synthRepo();
    for (const account of ["123456789012", "222222222222", "333333333333"]) {
      const docs = Object.values(s.stack(`bootstrap-${account}`).data.aws_iam_policy_document) as any[];
      const statements = docs.flatMap((d) => d.statement).filter((x: any) => String(x.sid).startsWith("Approvals"));
      const bySid = Object.fromEntries(statements.map((x: any) => [x.sid, x]));
      expect(Object.keys(bySid).sort()).toEqual([
        "ApprovalsNeverErased",
        "ApprovalsOnlyByPeople",
        "ApprovalsUnderOwnUserId",
        "ApprovalsWithOwnUserName",
      ]);
      for (const x of statements) {
        expect(x.effect).toBe("Deny");
        expect(x.resources).toEqual([expect.stringMatching(/\/approvals\/\*$/)]);
        expect(x.principals).toEqual([{ type: "*", identifiers: ["*"] }]);
      }
      expect(bySid.ApprovalsUnderOwnUserId.condition).toEqual([
        { test: "StringNotEquals", variable: "s3:RequestObjectTag/approver", values: ["&{aws:userid}"] },
      ]);
      expect(bySid.ApprovalsOnlyByPeople.condition[0].values).toEqual([
        `arn:aws:iam::${account}:user/*`,
        `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/*`,
      ]);
      expect(bySid.ApprovalsNeverErased.actions).toContain("s3:DeleteObject");
    }
  });
});
