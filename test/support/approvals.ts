/**
 * Approvals for tests, as the platforms hold them:
 * - {@link FakeApprovalLedger}: the S3 ledger of an environment (lib/aws/approval-ledger.ts), in
 *   memory. Like the bucket policy, it records an approval under the identity of whoever calls
 *   (the `identity` envctl read from STS), never a name the caller chooses.
 * - {@link githubCi}: a GitHub Actions job of a project directory: the directory committed in git
 *   (the job's checkout), the job's variables, and GitHub's API answering for that run and commit
 *   (a pull request by `author`, merged as that commit, approved at its head by `approvers`).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ApprovalLedger, Approver, LedgerApproval } from "../../lib/aws/approval-ledger.ts";
import type { Environment } from "../../lib/config/schema.ts";
import type { ChangeRequest } from "../../lib/release/store/approvals.ts";
import type { GithubFetch } from "../../lib/review/github-approvals.ts";

export class FakeApprovalLedger implements ApprovalLedger {
  readonly waiting = new Map<string, ChangeRequest>();
  readonly approvals = new Map<string, LedgerApproval[]>();
  readonly authorship = new Map<string, LedgerApproval[]>();

  async request(req: ChangeRequest): Promise<void> {
    if (!this.waiting.has(req.changeId)) this.waiting.set(req.changeId, structuredClone(req));
  }
  async requests(): Promise<ChangeRequest[]> {
    return [...this.waiting.values()].map((r) => structuredClone(r));
  }
  /** One record per person, as the key `<prefix>/<aws:userid>` keeps one object per writer. */
  private add(into: Map<string, LedgerApproval[]>, changeId: string, who: Approver, at: string): void {
    const list = into.get(changeId) ?? [];
    if (!list.some((a) => a.by === who.arn)) list.push({ by: who.arn, at });
    into.set(changeId, list);
  }
  async approve(changeId: string, who: Approver, at: string): Promise<void> {
    this.add(this.approvals, changeId, who, at);
  }
  async list(changeId: string): Promise<LedgerApproval[]> {
    return [...(this.approvals.get(changeId) ?? [])];
  }
  async author(changeId: string, who: Approver, at: string): Promise<void> {
    this.add(this.authorship, changeId, who, at);
  }
  async authors(changeId: string): Promise<LedgerApproval[]> {
    return [...(this.authorship.get(changeId) ?? [])];
  }
}

/** One ledger per environment, kept across envctl invocations: pass `ledgers.of` as `deps.approvalLedger`. */
export function fakeLedgers(): {
  of: (e: Environment) => FakeApprovalLedger;
  get: (name: string) => FakeApprovalLedger;
} {
  const ledgers = new Map<string, FakeApprovalLedger>();
  const get = (name: string) => ledgers.get(name) ?? ledgers.set(name, new FakeApprovalLedger()).get(name)!;
  return { of: (e) => get(e.name), get };
}

const git = (dir: string, ...args: string[]) =>
  execFileSync(
    "git",
    ["-c", "user.name=ci", "-c", "user.email=ci@example.com", "-c", "init.defaultBranch=main", ...args],
    {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    },
  ).trim();

/** Commits `dir`'s environments (a git repository is made first when there is none); returns the commit. */
export function commitProject(dir: string): string {
  if (!existsSync(join(dir, ".git"))) git(dir, "init", "-q");
  git(dir, "add", "-A", "--", "environments");
  git(dir, "commit", "-q", "--allow-empty", "-m", "project");
  return git(dir, "rev-parse", "HEAD");
}

export interface GithubCi {
  /** The job's variables (GITHUB_ACTIONS=true, the run, the commit, its token). */
  readonly env: Record<string, string>;
  readonly github: GithubFetch;
  /** Commits the directory again (after a test edited an environment file): the run, and `env`, are of the new commit. */
  recommit(): void;
  /** Every path GitHub was asked, in order. */
  readonly asked: string[];
}

/**
 * A push to main of `dir` (committed now) in GitHub Actions: pull request #7 by `author`, merged as
 * that commit, whose head `approvers` approved; the job started by `actor`.
 */
export function githubCi(
  dir: string,
  o: { author?: string; approvers?: readonly string[]; actor?: string } = {},
): GithubCi {
  let sha = commitProject(dir);
  const author = o.author ?? "dana";
  const head = "f".repeat(40);
  const asked: string[] = [];
  const routes = (): Record<string, unknown> => ({
    "actions/runs/42": { head_sha: sha, status: "in_progress", repository: { full_name: "acme/webapp" } },
    "actions/runs/42/approvals": [],
    [`commits/${sha}/pulls`]: [
      { number: 7, user: { login: author }, merged_at: "2026-11-23T11:00:00Z", merge_commit_sha: sha },
    ],
    "pulls/7": { number: 7, user: { login: author }, head: { sha: head } },
    "pulls/7/reviews": (o.approvers ?? ["alice", "bob"]).map((login, i) => ({
      id: i + 1,
      state: "APPROVED",
      user: { login, type: "User" },
      commit_id: head,
    })),
  });
  const github: GithubFetch = async (url) => {
    const path = url.replace("https://api.github.test/repos/acme/webapp/", "");
    asked.push(path);
    const [route, query] = path.split("?");
    const body = routes()[route!];
    if (body === undefined) return { ok: false, status: 404, json: async () => ({}) };
    const page = Number(new URLSearchParams(query ?? "").get("page") ?? "1");
    return { ok: true, status: 200, json: async () => (Array.isArray(body) && page > 1 ? [] : body) };
  };
  const env: Record<string, string> = {
    GITHUB_ACTIONS: "true",
    GITHUB_API_URL: "https://api.github.test",
    GITHUB_REPOSITORY: "acme/webapp",
    GITHUB_RUN_ID: "42",
    GITHUB_SHA: sha,
    ...(o.actor === "" ? {} : { GITHUB_ACTOR: o.actor ?? "ci-bot" }),
    GITHUB_EVENT_NAME: "push",
    GH_TOKEN: "job-token",
  };
  return {
    env,
    github,
    recommit: () => {
      sha = commitProject(dir);
      env.GITHUB_SHA = sha;
    },
    asked,
  };
}
